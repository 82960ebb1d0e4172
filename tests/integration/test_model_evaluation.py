"""An evaluation end to end on a tiny real annotated set, with real models.

Three frames of ``../shared/eval/media/vtest.avi`` become accepted hard
examples in the store. Their labels are pseudo-labels: the persons
yolov7-tiny at 640 px finds at a score of 0.5 or more (no hand labels ship
with the clip; the benchmark ``model_eval`` uses the MOTChallenge truth).
The service then evaluates yolov7-tiny (the same model, so its mAP@0.5 is
near 1) and ssd-mobilenet-v3 (another model: lower) through the real pack
builders, the real JPEG codec and faster-coco-eval, and audits each finish.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.evaluation.coco_scorer import CocoScorer
from argus.bootstrap.container import build_container
from argus.bootstrap.models import DetectorOptions, image_decoder
from argus.config import Settings
from argus.domain.actor import SYSTEM_ACTOR
from argus.domain.hard_examples import ExampleSource, ExampleState, HardExample, LabelBox
from argus.domain.model_trials import EvaluationState
from argus.ports.audit import AuditFilter
from argus.ports.detector import Detector
from argus.services.model_evaluation import EvaluationTools
from argus.services.model_trials import EvaluationRequest, ModelTrials, ShadowPlanBook

pytestmark = [pytest.mark.integration, pytest.mark.anyio, pytest.mark.eval, pytest.mark.slow]

VIDEO = Path(__file__).resolve().parents[3] / "shared" / "eval" / "media" / "vtest.avi"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FRAMES = (100, 400, 700)


def _frames() -> list[np.ndarray]:
    if not VIDEO.is_file():
        pytest.skip(f"{VIDEO} is absent: ../shared/eval is only beside a project checkout")
    capture = cv2.VideoCapture(str(VIDEO))
    out: list[np.ndarray] = []
    index = 0
    while len(out) < len(FRAMES):
        ok, image = capture.read()
        assert ok, "vtest.avi ended early"
        if index in FRAMES:
            out.append(np.asarray(image, dtype=np.uint8))
        index += 1
    capture.release()
    return out


async def test_evaluations_score_real_models_on_accepted_examples(tmp_path: Path) -> None:
    images = _frames()
    container = build_container(Settings(data_dir=tmp_path))

    labeller = container.detector(
        DetectorOptions(model="yolov7-tiny", input_size=640, conf_threshold=0.5, classes=["person"])
    )
    database = MemoryDatabase()
    frames: dict[str, bytes] = {}
    for i, image in enumerate(images):
        found = labeller.detect(image)
        labels = tuple(
            LabelBox(box[0], box[1], box[2], box[3], "person") for box in found.xyxy.tolist()
        )
        assert labels, "the pseudo-labeller found no person"
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        assert ok
        example = HardExample(
            id=f"ex{i}",
            camera_id="cam-1",
            source=ExampleSource.UNCERTAIN,
            captured_at=T0,
            created_at=T0,
            frame_evidence_id=f"ev{i}",
            width=image.shape[1],
            height=image.shape[0],
            model_ref="yolov7-tiny@1.0.1",
            labels=labels,
            state=ExampleState.ACCEPTED,
            labelled_by="user:a",
            labelled_at=T0,
            reviewed_by="user:b",
            reviewed_at=T0,
        )
        await database.hard_examples.add(example)
        frames[example.id] = jpeg.tobytes()

    async def frame(example_id: str) -> bytes:
        return frames[example_id]

    def detector(ref: str) -> Detector:
        size = 640 if ref == "yolov7-tiny" else None
        return container.detector(DetectorOptions(model=ref, input_size=size, conf_threshold=0.01))

    tools = EvaluationTools(
        detectors=detector,
        frame=frame,
        decode=image_decoder(4096 * 4096),
        scorer=CocoScorer(),
    )
    trials = ModelTrials(
        database, None, events_subject="events", book=ShadowPlanBook(), tools=tools
    )
    yolo = await trials.request_evaluation(SYSTEM_ACTOR, EvaluationRequest("yolov7-tiny"))
    ssd = await trials.request_evaluation(SYSTEM_ACTOR, EvaluationRequest("ssd-mobilenet-v3"))
    assert await trials.run_pending() == 2

    done_yolo = await trials.evaluation(SYSTEM_ACTOR, yolo.id)
    done_ssd = await trials.evaluation(SYSTEM_ACTOR, ssd.id)
    assert done_yolo.state is EvaluationState.DONE, done_yolo.error
    assert done_ssd.state is EvaluationState.DONE, done_ssd.error
    assert done_yolo.scores is not None
    assert done_ssd.scores is not None
    assert done_yolo.scores.frames == 3
    (person,) = done_yolo.scores.classes
    assert person.class_name == "person"
    assert person.truth >= 3
    assert done_yolo.scores.map50 > 0.9
    assert done_yolo.scores.recall == pytest.approx(1.0)
    assert done_ssd.scores.map50 < done_yolo.scores.map50
    page = await database.audit.list(where=AuditFilter(action="evaluation.finish"))
    assert len(page.items) == 2
