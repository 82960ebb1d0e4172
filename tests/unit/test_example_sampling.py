"""Hard-example sampling: the uncertainty band, short tracks, identity switches near lines,
the per-camera limits, the remembered boxes, and the sampler as a frame observer.

Pure tables over hand-made ``Detections``; no model, no video.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from argus.adapters.pipelines.example_sampler import ExampleSamplerObserver
from argus.bootstrap.examples import detection_memory, sampling_policy
from argus.config import Settings
from argus.domain.cameras import Camera
from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.domain.example_sampling import (
    CANDIDATE_EVENT,
    Candidate,
    DetectionMemory,
    ExampleSampler,
    LineBook,
    Recalled,
    SamplingPolicy,
    Segment,
    boxes_of,
    scale_boxes,
)
from argus.domain.frames import Frame
from argus.domain.hard_examples import ExampleSource, LabelBox
from argus.services.hard_example_frames import jpeg_size

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
W, H = 640, 480
LINE: Segment = ((0.0, 300.0), (640.0, 300.0))
OPEN = SamplingPolicy(min_gap=timedelta(0), per_hour=1000)
"""No limits: every frame that qualifies is a candidate."""

Box = tuple[float, float, float, float]


def dets(*items: tuple[Box, float, int], names: tuple[str, ...] = ("person", "car")) -> Detections:
    """Detections of ``(box, score, track_id)``; class 0 unless the track id is >= 100 (car)."""
    return Detections(
        xyxy=np.array([b for b, _, _ in items], dtype=np.float32).reshape(-1, 4),
        confidence=np.array([s for _, s, _ in items], dtype=np.float32),
        class_id=np.array([1 if t >= 100 else 0 for _, _, t in items], dtype=np.int64),
        tracker_id=np.array([t for _, _, t in items], dtype=np.int64),
        class_names=names,
        model="yolov7-tiny@1.0.0",
    )


def run(
    sampler: ExampleSampler, frames: list[Detections], step_s: float = 0.2
) -> list[Candidate | None]:
    return [
        sampler.observe(T0 + timedelta(seconds=i * step_s), W, H, d) for i, d in enumerate(frames)
    ]


def at_line(x: float) -> Box:
    """A person-sized box whose bottom-centre sits on ``LINE`` at ``x``."""
    return (x - 20.0, 200.0, x + 20.0, 300.0)


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0.29, False), (0.3, True), (0.45, True), (0.4999, True), (0.5, False), (0.9, False)],
    ids=["below", "low-edge", "inside", "just-below-high", "high-edge", "sure"],
)
def test_a_score_inside_the_band_is_uncertain(score: float, expected: bool) -> None:
    sampler = ExampleSampler(OPEN, lambda: ())
    [candidate] = run(sampler, [dets(((10, 10, 50, 90), score, 1))])
    assert (candidate is not None) is expected
    if candidate is not None:
        assert candidate.source is ExampleSource.UNCERTAIN
        assert candidate.at == T0
        assert (candidate.width, candidate.height) == (W, H)
        [box] = candidate.boxes
        assert (box.x1, box.y1, box.x2, box.y2, box.class_name) == (10, 10, 50, 90, "person")
        assert box.score == pytest.approx(score)


def test_the_limits_keep_a_gap_and_an_hourly_budget() -> None:
    policy = SamplingPolicy(min_gap=timedelta(seconds=10), per_hour=3)
    sampler = ExampleSampler(policy, lambda: ())
    unsure = dets(((10, 10, 50, 90), 0.4, 1))
    seconds = [0, 5, 10, 19, 20, 30, 40, 3600, 3605, 3611]
    made = [
        s for s in seconds if sampler.observe(T0 + timedelta(seconds=s), W, H, unsure) is not None
    ]
    # 5 is inside the gap; 30 and 40 exceed 3 per hour; at 3600 the hour has rolled on.
    assert made == [0, 10, 20, 3600, 3611]


def test_a_track_that_ends_after_a_few_frames_is_proposed_on_its_last_frame() -> None:
    policy = SamplingPolicy(
        short_track_frames=3, lost_after_frames=2, min_gap=timedelta(0), per_hour=1000
    )
    sampler = ExampleSampler(policy, lambda: ())
    blip = ((100, 100, 140, 180), 0.9, 5)
    steady = ((300, 100, 340, 180), 0.9, 6)
    frames = [dets(blip, steady), dets(blip, steady)] + [dets(steady)] * 4
    made = run(sampler, frames)
    found = [c for c in made if c is not None]
    assert [c.source for c in found] == [ExampleSource.SHORT_TRACK]
    [short] = found
    assert short.track_id == 5
    assert short.at == T0 + timedelta(seconds=0.2)  # the last frame the blip was seen on
    assert len(short.boxes) == 2  # every box of that frame
    assert "ended after 2 frame(s)" in short.note


def test_a_long_track_is_no_short_track_and_zero_frames_samples_none() -> None:
    long_policy = SamplingPolicy(
        short_track_frames=2, lost_after_frames=1, per_hour=1000, min_gap=timedelta(0)
    )
    long = ExampleSampler(long_policy, lambda: ())
    seen = [dets(((100, 100, 140, 180), 0.9, 5))] * 3 + [dets()] * 3
    assert run(long, seen) == [None] * 6
    off = SamplingPolicy(
        short_track_frames=0, lost_after_frames=1, per_hour=1000, min_gap=timedelta(0)
    )
    assert run(ExampleSampler(off, lambda: ()), [seen[0], dets(), dets(), dets()]) == [None] * 4


@pytest.mark.parametrize(
    ("new_box", "new_track", "lines", "expected"),
    [
        (at_line(110.0), 2, (LINE,), True),
        (at_line(200.0), 2, (LINE,), False),  # too far from where track 1 was lost
        (at_line(110.0), 102, (LINE,), False),  # another class
        (at_line(110.0), 2, (), False),  # no line: the count does not depend on it
        (at_line(110.0), 2, (((0.0, 0.0), (640.0, 0.0)),), False),  # the line is far away
    ],
    ids=["switch", "far", "other-class", "no-line", "line-far"],
)
def test_a_new_track_where_another_was_lost_near_a_line_is_an_identity_switch(
    new_box: Box, new_track: int, lines: tuple[Segment, ...], expected: bool
) -> None:
    policy = SamplingPolicy(
        short_track_frames=0,
        lost_after_frames=5,
        switch_distance_px=48.0,
        min_gap=timedelta(0),
        per_hour=1000,
    )
    sampler = ExampleSampler(policy, lambda: lines)
    frames = [
        dets((at_line(100.0), 0.9, 1)),
        dets((at_line(102.0), 0.9, 1)),
        dets((new_box, 0.9, new_track)),
    ]
    made = run(sampler, frames)
    assert made[:2] == [None, None]
    if expected:
        assert made[2] is not None
        assert made[2].source is ExampleSource.ID_SWITCH
        assert made[2].track_id == new_track
        assert "track 2 started where track 1 was lost" in made[2].note
    else:
        assert made[2] is None


def test_a_track_present_in_the_same_frame_is_no_switch_and_a_switched_one_no_short_track() -> None:
    policy = SamplingPolicy(
        short_track_frames=3, lost_after_frames=1, min_gap=timedelta(0), per_hour=1000
    )
    sampler = ExampleSampler(policy, lambda: (LINE,))
    # Track 2 appears next to track 1, which is still there: two people, no switch.
    both = run(
        sampler,
        [dets((at_line(100), 0.9, 1)), dets((at_line(100), 0.9, 1), (at_line(120), 0.9, 2))],
    )
    assert both == [None, None]
    sampler = ExampleSampler(policy, lambda: (LINE,))
    made = run(
        sampler,
        [
            dets((at_line(100), 0.9, 1)),
            dets((at_line(105), 0.9, 3)),
            dets((at_line(110), 0.9, 3)),
            dets((at_line(115), 0.9, 3)),
            dets((at_line(120), 0.9, 3)),
            dets((at_line(125), 0.9, 3)),
        ],
    )
    assert [c.source if c else None for c in made] == [None, ExampleSource.ID_SWITCH] + [None] * 4


@pytest.mark.parametrize(
    "changes",
    [
        {"band_low": 0.5, "band_high": 0.5},
        {"band_low": -0.1},
        {"band_high": 1.1},
        {"short_track_frames": -1},
        {"lost_after_frames": 0},
        {"per_hour": -1},
        {"switch_distance_px": float("nan")},
        {"min_gap": timedelta(seconds=-1)},
    ],
    ids=["empty-band", "low", "high", "short", "lost", "hour", "nan", "gap"],
)
def test_a_policy_refuses_nonsense(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SamplingPolicy(**changes)  # type: ignore[arg-type]


def test_boxes_are_clipped_to_the_frame_and_scaled_to_another_size() -> None:
    found = boxes_of(dets(((-10, 5, 50, 500), 0.8, 1), ((700, 10, 800, 20), 0.8, 2)), W, H)
    [box] = found
    assert (box.x1, box.y1, box.x2, box.y2, box.class_name) == (0.0, 5.0, 50.0, 480.0, "person")
    assert box.score == pytest.approx(0.8)
    scaled = scale_boxes(
        (LabelBox(320, 240, 480, 480, "car", 0.5), LabelBox(0, 0, 1, 1, "dot")), (W, H), (16, 12)
    )
    assert scaled == (
        LabelBox(8.0, 6.0, 12.0, 12.0, "car", 0.5),
        LabelBox(0.0, 0.0, 0.025, 0.025, "dot"),
    )
    assert scale_boxes((LabelBox(630, 470, 640, 480, "car"),), (W, H), (W, H)) == (
        LabelBox(630, 470, 640, 480, "car"),
    )
    assert boxes_of(dets(((1, 1, 5, 5), 0.5, 1), names=()), W, H)[0].class_name == "class0"


def test_the_memory_recalls_the_nearest_frame_within_the_tolerance_and_forgets_old_ones() -> None:
    memory = DetectionMemory(timedelta(seconds=10), per_camera=100)
    box = LabelBox(1, 1, 2, 2, "person", 0.9)
    for s in range(0, 30, 2):
        memory.remember("cam", Recalled(T0 + timedelta(seconds=s), W, H, "m@1", (box,)))
    half = timedelta(seconds=0.5)
    hit = memory.recall("cam", T0 + timedelta(seconds=24.3), half)
    assert hit is not None
    assert hit.at == T0 + timedelta(seconds=24)
    assert memory.recall("cam", T0 + timedelta(seconds=25), half) is None  # between two frames
    assert memory.recall("cam", T0 + timedelta(seconds=2), half) is None  # aged out
    assert memory.recall("other", T0, half) is None
    memory.forget("cam")
    assert memory.recall("cam", T0 + timedelta(seconds=24), half) is None
    small = DetectionMemory(timedelta(hours=1), per_camera=2)
    for s in range(3):
        small.remember("cam", Recalled(T0 + timedelta(seconds=s), W, H, "m@1", ()))
    assert small.recall("cam", T0, half) is None
    off = DetectionMemory(timedelta(0))
    off.remember("cam", Recalled(T0, W, H, "m@1", ()))
    assert off.recall("cam", T0, half) is None


def test_the_observer_emits_a_candidate_event_and_remembers_every_frame() -> None:
    memory, book = DetectionMemory(timedelta(minutes=5)), LineBook()
    book.put("cam-1", [LINE])
    assert book.get("cam-1") == (LINE,)
    camera = Camera(id="cam-1", name="Door", stream_url="rtsp://10.0.0.5:554/s1")
    observer = ExampleSamplerObserver(
        camera, "fallback@0", OPEN, lines=book, memory=memory, node_id="edge-7"
    )
    frame = Frame(image=np.zeros((H, W, 3), dtype=np.uint8), index=0, timestamp=0.0)
    assert observer.observe(T0, frame, dets(((10, 10, 50, 90), 0.9, 1))) == ()
    [event] = observer.observe(T0 + timedelta(seconds=1), frame, dets(((10, 10, 50, 90), 0.4, 1)))
    assert event.type == CANDIDATE_EVENT
    assert (event.source.edge_node_id, event.source.camera_id) == ("edge-7", "cam-1")
    assert event.timestamp == T0 + timedelta(seconds=1)
    payload = event.payload
    assert (payload["source"], payload["width"], payload["height"]) == ("uncertain", W, H)
    assert payload["model_ref"] == "yolov7-tiny@1.0.0"
    assert payload["captured_at"] == (T0 + timedelta(seconds=1)).isoformat()
    assert payload["boxes"] == [
        {"x1": 10.0, "y1": 10.0, "x2": 50.0, "y2": 90.0, "class_name": "person", "score": 0.4}
    ]
    recalled = memory.recall("cam-1", T0, timedelta(seconds=0.1))
    assert recalled is not None
    assert recalled.boxes[0].class_name == "person"
    assert observer.close() == ()


def test_boxes_outside_the_frame_propose_nothing_and_a_failure_yields_nothing() -> None:
    camera = Camera(id="cam-1", name="Door", stream_url="rtsp://10.0.0.5:554/s1")
    observer = ExampleSamplerObserver(
        camera, "m@1", OPEN, lines=LineBook(), memory=None, node_id="edge-7"
    )
    tiny = Frame(image=np.zeros((1, 1, 3), dtype=np.uint8), index=0, timestamp=0.0)
    assert observer.observe(T0, tiny, dets(((10, 10, 50, 90), 0.4, 1))) == ()

    class BrokenMemory(DetectionMemory):
        def remember(self, camera_id: str, frame: Recalled) -> None:
            raise OSError("disk gone")

    broken = ExampleSamplerObserver(
        camera,
        "m@1",
        OPEN,
        lines=LineBook(),
        memory=BrokenMemory(timedelta(minutes=1)),
        node_id="edge-7",
    )
    frame = Frame(image=np.zeros((H, W, 3), dtype=np.uint8), index=0, timestamp=0.0)
    assert broken.observe(T0, frame, dets(((10, 10, 50, 90), 0.4, 1))) == ()


@pytest.mark.parametrize(
    ("width", "height", "progressive"),
    [(16, 16, False), (640, 480, False), (1920, 1080, True), (3, 700, False)],
    ids=["tiny", "vga", "progressive-hd", "tall"],
)
def test_jpeg_size_reads_the_frame_header(width: int, height: int, progressive: bool) -> None:
    image = np.full((height, width, 3), 90, dtype=np.uint8)
    flags = [cv2.IMWRITE_JPEG_PROGRESSIVE, 1] if progressive else []
    ok, data = cv2.imencode(".jpg", image, flags)
    assert ok
    assert jpeg_size(data.tobytes()) == (width, height)


@pytest.mark.parametrize(
    "data",
    [b"", b"GIF89a", b"\xff\xd8", b"\xff\xd8\xff\xe0\x00\x01", b"\xff\xd8\x00\x00\x00\x00"],
    ids=["empty", "gif", "only-soi", "short-length", "no-marker"],
)
def test_jpeg_size_refuses_what_is_not_a_jpeg(data: bytes) -> None:
    with pytest.raises(ValidationError):
        jpeg_size(data)


def test_the_settings_build_the_policy_or_switch_sampling_off(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, examples_band_low=0.2, examples_band_high=0.6, examples_min_gap_s=3
    )
    policy = sampling_policy(settings)
    assert policy is not None
    assert (policy.band_low, policy.band_high, policy.min_gap) == (0.2, 0.6, timedelta(seconds=3))
    assert detection_memory(settings) is detection_memory(settings)  # one per process
    off = Settings(data_dir=tmp_path, examples_enabled=False)
    assert (sampling_policy(off), detection_memory(off)) == (None, None)
    with pytest.raises(ValidationError):
        sampling_policy(Settings(data_dir=tmp_path, examples_band_low=0.7))
