"""The shadow runner: sampling, reports, plan changes and failing candidates.

The detectors are fakes over the port (fixed boxes per call): the runner's
job is the bookkeeping around them; real models run in
``tests/integration/test_model_evaluation.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.pipelines.shadow_runner import ShadowRunner, shadow_observers
from argus.domain.cameras import Camera
from argus.domain.detections import Detections
from argus.domain.errors import ModelError
from argus.domain.events import Envelope
from argus.domain.frames import Frame
from argus.domain.model_trials import SHADOW_EVENT, ShadowPlan, shadow_report
from argus.ports.detector import Detector
from argus.services.model_trials import ShadowPlanBook

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CAMERA = Camera(id="cam-1", name="Gate", stream_url="rtsp://10.0.0.5:554/s1")


class FixedDetector:
    """A detector that reports the same boxes on every image (a fake of the port)."""

    def __init__(self, ref: str, boxes: Sequence[Sequence[float]], *, fail: bool = False) -> None:
        self._ref = ref
        self._boxes = boxes
        self._fail = fail
        self.calls = 0

    @property
    def class_names(self) -> tuple[str, ...]:
        return ("person", "car")

    @property
    def model_ref(self) -> str:
        return self._ref

    def detect(self, image: npt.NDArray[np.uint8]) -> Detections:
        self.calls += 1
        if self._fail:
            raise RuntimeError("session crashed")
        if not self._boxes:
            return Detections.empty(self.class_names, self._ref)
        arr = np.array(self._boxes, dtype=np.float32)
        return Detections(
            xyxy=arr[:, :4],
            confidence=np.full(len(arr), 0.9, dtype=np.float32),
            class_id=arr[:, 4].astype(np.int64),
            class_names=self.class_names,
            model=self._ref,
        )

    def detect_batch(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[Detections]:
        return [self.detect(i) for i in images]


PRODUCTION: list[tuple[float, ...]] = [(0, 0, 10, 20, 0), (30, 0, 40, 20, 1)]
CANDIDATE: list[tuple[float, ...]] = [(0, 0, 10, 20, 0), (50, 50, 60, 60, 0)]


def plan(candidate: str = "ssd@1", sample_every: int = 2, report_every: int = 3) -> ShadowPlan:
    return ShadowPlan("cam-1", candidate, sample_every, report_every, 0.5, T0, "user:admin")


def frame(i: int) -> Frame:
    return Frame(image=np.zeros((60, 80, 3), dtype=np.uint8), index=i, timestamp=i / 10)


def feed(runner: ShadowRunner, frames: range) -> list[Envelope]:
    out: list[Envelope] = []
    for i in frames:
        out.extend(runner.observe(T0 + timedelta(seconds=i), frame(i), Detections.empty()))
    return out


def rig(
    candidates: dict[str, FixedDetector],
) -> tuple[ShadowRunner, ShadowPlanBook, FixedDetector]:
    book = ShadowPlanBook()
    production = FixedDetector("yolov7-tiny@1", PRODUCTION)

    def build(ref: str) -> Detector:
        if ref not in candidates:
            raise ModelError(f"no pack {ref}")
        return candidates[ref]

    (runner,) = shadow_observers(book, build, "node-1")(CAMERA, production)
    assert isinstance(runner, ShadowRunner)
    return runner, book, production


def test_no_plan_costs_nothing() -> None:
    runner, _, production = rig({})
    assert feed(runner, range(10)) == []
    assert runner.close() == []
    assert production.calls == 0


def test_sampled_frames_are_compared_and_reported_every_n() -> None:
    candidate = FixedDetector("ssd@1", CANDIDATE)
    runner, book, production = rig({"ssd@1": candidate})
    book.put(plan(sample_every=2, report_every=3))
    reports = feed(runner, range(7))  # frames 2, 4, 6 of the plan are compared
    assert (production.calls, candidate.calls) == (3, 3)
    (envelope,) = reports
    assert envelope.type == SHADOW_EVENT
    assert envelope.source.camera_id == "cam-1"
    assert envelope.source.edge_node_id == "node-1"
    assert envelope.timestamp == T0 + timedelta(seconds=5)
    report = shadow_report(envelope.event_id, "cam-1", envelope.timestamp, envelope.payload)
    assert (report.production, report.candidate) == ("yolov7-tiny@1", "ssd@1")
    assert report.started_at == T0 + timedelta(seconds=1)
    t = report.tally
    assert (t.frames, t.matched, t.only_production, t.only_candidate) == (3, 3, 3, 3)
    assert runner.close() == []  # nothing pending


def test_a_plan_change_or_end_flushes_what_was_counted() -> None:
    first, second = FixedDetector("ssd@1", CANDIDATE), FixedDetector("ssd@2", PRODUCTION)
    runner, book, _ = rig({"ssd@1": first, "ssd@2": second})
    book.put(plan(sample_every=1, report_every=100))
    assert feed(runner, range(2)) == []
    book.put(plan("ssd@2", sample_every=1, report_every=100))
    (flushed,) = feed(runner, range(2, 3))
    assert flushed.payload["candidate"] == "ssd@1"
    assert flushed.payload["frames"] == 2
    book.drop("cam-1")
    (ended,) = feed(runner, range(3, 4))
    assert ended.payload["candidate"] == "ssd@2"
    assert ended.payload["matched"] == 2
    assert feed(runner, range(4, 6)) == []


def test_close_reports_the_pending_frames() -> None:
    runner, book, _ = rig({"ssd@1": FixedDetector("ssd@1", CANDIDATE)})
    book.put(plan(sample_every=1, report_every=100))
    feed(runner, range(4))
    (last,) = runner.close()
    assert last.payload["frames"] == 4
    assert runner.close() == []


def test_a_missing_or_failing_candidate_is_logged_once_and_skipped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = FixedDetector("bad@1", CANDIDATE, fail=True)
    runner, book, production = rig({"bad@1": broken})
    book.put(plan("nope@1", sample_every=1))
    with caplog.at_level(logging.ERROR):
        assert feed(runner, range(5)) == []
    assert [r.message for r in caplog.records].count(
        "camera cam-1: cannot load shadow model nope@1"
    ) == 1
    caplog.clear()
    book.put(plan("bad@1", sample_every=1))
    with caplog.at_level(logging.ERROR):
        assert feed(runner, range(5, 10)) == []
    assert broken.calls == 1  # failed once, then skipped
    assert len(caplog.records) == 1
    assert production.calls == 1
