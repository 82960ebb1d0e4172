"""The phone cue on real pixels: it stays quiet on real frames that show no phone.

No real image of a phone with a usable licence was found in the registries'
packages or in ``../shared/eval`` (docs/benchmarks.md §8.3 lists what was
searched), so the cue firing on a real phone cannot be tested here; its
association and persistence are tested on scripted detections in
``tests/unit/test_phone.py``. What real pixels do allow: the product's cue
(yolov7-tiny at 320 px, default :class:`PhoneRules`) must not fire on the shared
face photos, nor on the Hamilton close-up, whose hand-held microphone
yolov7-tiny calls a "cell phone" at up to 0.33 at 320 px (0.40-0.48 in four
sampled frames at 640 px). Every frame used was looked at and shows no phone.

Needs ``../shared/eval``; skips without it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from argus.bootstrap.container import build_container
from argus.bootstrap.models import DetectorOptions
from argus.config import Settings
from argus.domain.phone import PhoneRules, PhoneWatch, associated_phone_score
from argus.ports.detector import Detector
from argus.ports.faces import FaceDetector
from benchmarks import phone_real

pytestmark = [pytest.mark.integration, pytest.mark.eval]

Image = npt.NDArray[np.uint8]
HAMILTON = phone_real.EVAL_DIR / "media" / "short_hamilton_clip.mp4"
CLOSE_UP = slice(85, 211, 3)
"""The single-face close-up of the Hamilton clip, every third frame (10 frames/s)."""

RULES = PhoneRules()


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[FaceDetector, Detector]:
    if not phone_real.PHOTO_DIR.is_dir():
        pytest.skip(f"{phone_real.PHOTO_DIR} is absent: ../shared/eval is beside a checkout only")
    container = build_container(Settings(data_dir=Path(tmp_path_factory.mktemp("argus-phone"))))
    faces, _ = container.face_models()
    objects = container.detector(
        DetectorOptions(model="yolov7-tiny", input_size=320, classes=["person", "cell phone"])
    )
    return faces, objects


def _face(faces: FaceDetector, image: Image) -> tuple[float, float, float, float] | None:
    face = faces.detect(image).largest()
    return None if face is None else face.xyxy


def test_no_phone_is_associated_with_the_user_in_the_face_photos(
    models: tuple[FaceDetector, Detector],
) -> None:
    faces, objects = models
    photos = phone_real.read_photos()
    assert len(photos) >= 10
    fired = {
        name: associated_phone_score(objects.detect(image), _face(faces, image), RULES)
        for name, image in photos
    }
    assert {name: score for name, score in fired.items() if score > 0} == {}


def test_the_hand_held_microphone_is_never_an_aimed_phone(
    models: tuple[FaceDetector, Detector],
) -> None:
    if not HAMILTON.is_file():
        pytest.skip(f"{HAMILTON} is absent")
    faces, objects = models
    frames = phone_real.read_frames(HAMILTON, 1)[CLOSE_UP]
    assert len(frames) == 42
    watch = PhoneWatch(RULES)
    scores, aimed = [], []
    for image in frames:
        detections = objects.detect(image)
        face = _face(faces, image)
        scores.append(associated_phone_score(detections, face, RULES))
        aimed.append(watch.update(detections, face).aimed)
    assert max(scores) == 0.0
    assert not any(aimed)
