"""The trajectory log: ``tracks.minute`` events, their bounds, and reading them back."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import cast

import numpy as np
import pytest

from argus.adapters.pipelines.worker import CameraWorker, RestartPolicy, WorkerDeps
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera
from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.domain.event_types import check_event
from argus.domain.events import Envelope, EventSource
from argus.domain.frames import Frame
from argus.domain.payload_schema import DEFAULT_PAYLOAD_MAX_BYTES, payload_size
from argus.scene import CameraSpec, Scene
from argus.services.track_log import (
    MAX_PARTS,
    MAX_TRACKS,
    PART_BYTES,
    MinuteTracks,
    TrackAssembler,
)
from tests.factories import (
    ListSource,
    PassthroughTracker,
    ScriptedDetector,
    make_detections,
    solid_image,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
SOURCE = EventSource("edge-1", "cam-1")
FRAME = Frame(solid_image(720, 1280), 0, 0.0, "test")


def _boxes(feet: list[tuple[float, float]], ids: list[int], height: float = 100.0) -> Detections:
    return make_detections(
        [[x - 20, y - height, x + 20, y] for x, y in feet],
        class_id=[0] * len(ids),
        tracker_id=ids,
    )


def _rows(event: Envelope) -> list[list[int]]:
    return cast(list[list[int]], event.payload["tracks"])


def _feed(log: MinuteTracks, seconds: list[float], detections: list[Detections]) -> list[Envelope]:
    out: list[Envelope] = []
    for s, d in zip(seconds, detections, strict=True):
        out.extend(log.add(T0 + timedelta(seconds=s), FRAME, d))
    return out


def test_a_minute_of_two_walkers_is_one_event_at_five_hz_that_ingest_accepts() -> None:
    log = MinuteTracks(SOURCE, ("person", "car"), run=7)
    seconds = [i / 10 for i in range(700)]  # 10 fps for 70 s
    frames = [_boxes([(10 + s, 300.4), (900 - s, 500.6)], [3, 4]) for s in seconds]
    events = _feed(log, seconds, frames)
    assert len(events) == 1  # the first minute closed when 12:01 began
    (event,) = events
    assert event.type == "tracks.minute"
    assert event.timestamp == T0
    assert (event.source.edge_node_id, event.source.camera_id) == ("edge-1", "cam-1")
    check_event(event.type, event.payload, max_bytes=DEFAULT_PAYLOAD_MAX_BYTES)
    payload = event.payload
    assert (payload["frame_width"], payload["frame_height"], payload["run"]) == (1280, 720, 7)
    assert (payload["part"], payload["dropped"], payload["classes"]) == (0, 0, ["person"])
    rows = payload["tracks"]
    assert isinstance(rows, list)
    first = rows[0]
    assert first[:2] == [3, 0]
    assert (len(first) - 2) // 4 == 300  # 5 Hz over 60 s, not the 10 fps of the stream
    assert first[2:6] == [0, 10, 300, 100]
    assert first[6:10] == [2, 10, 300, 100]  # 0.2 s later: tenths of a second, whole pixels
    assert rows[1][2:6] == [0, 900, 501, 100]
    rest = log.flush()
    assert [e.timestamp for e in rest] == [T0 + timedelta(minutes=1)]


def test_a_new_frame_size_closes_the_minute_and_untracked_boxes_are_skipped() -> None:
    log = MinuteTracks(SOURCE, ("person",), run=1)
    small = Frame(solid_image(120, 160), 0, 0.0, "test")
    assert log.add(T0, FRAME, _boxes([(50, 60)], [1])) == ()
    assert log.add(T0 + timedelta(seconds=1), FRAME, make_detections([[0, 0, 5, 5]])) == ()
    done = log.add(T0 + timedelta(seconds=2), small, _boxes([(50, 60)], [1]))
    assert len(done) == 1
    assert done[0].payload["tracks"] == [[1, 0, 0, 50, 60, 100]]
    assert log.flush()[0].payload["frame_width"] == 160
    assert log.flush() == ()  # nothing since


def test_a_crowd_is_bounded_thinned_and_split_under_the_payload_limit() -> None:
    log = MinuteTracks(SOURCE, ("person",), run=1)
    ids = list(range(1, MAX_TRACKS + 51))
    rng = np.random.default_rng(3)
    for i in range(300):  # 60 s at 5 fps, 250 tracks in view
        feet = [(float(x), float(y)) for x, y in rng.uniform(0, 1000, size=(len(ids), 2))]
        log.add(T0 + timedelta(seconds=i / 5), FRAME, _boxes(feet, ids))
    events = log.flush()
    assert 1 < len(events) <= MAX_PARTS
    rows = [row for e in events for row in _rows(e)]
    assert len(rows) == MAX_TRACKS
    kept = sum((len(row) - 2) // 4 for row in rows)
    dropped = cast(int, events[0].payload["dropped"])
    assert kept + dropped == 250 * 300
    assert [e.payload["part"] for e in events] == list(range(len(events)))
    for event in events:
        check_event(event.type, event.payload, max_bytes=DEFAULT_PAYLOAD_MAX_BYTES)
        assert payload_size(event.payload) <= PART_BYTES + 100
    assert all(row[2] == 0 and row[-4] == 598 for row in rows)  # first and last samples stay


def test_the_assembler_reads_trajectories_back_across_minutes_and_runs() -> None:
    log = MinuteTracks(SOURCE, ("person", "car"), run=1)
    seconds = [55 + i / 5 for i in range(50)]  # 12:00:55 to 12:01:05
    events = _feed(log, seconds, [_boxes([(100 + 10 * i, 400)], [5]) for i in range(50)])
    events += log.flush()
    other = MinuteTracks(SOURCE, ("person", "car"), run=2)
    events += _feed(other, [70.0, 70.4, 70.8], [_boxes([(5, 5)], [5])] * 3)
    events += other.flush()
    assembler = TrackAssembler(T0)
    for event in events:
        assembler.add(event.timestamp, event.payload)
    assert assembler.samples == 53
    assert assembler.class_names() == ("person",)
    found = assembler.trajectories({"person": 0})
    assert sorted(len(t.t) for t in found) == [3, 50]  # same id, two runs: two tracks
    walker = next(t for t in found if len(t.t) == 50)
    np.testing.assert_allclose(walker.t, seconds, atol=1e-9)
    np.testing.assert_array_equal(walker.xy[:, 0], [100 + 10 * i for i in range(50)])
    assert set(walker.height.tolist()) == {100.0}
    assert assembler.trajectories({"person": 0}, classes=("car",)) == []
    assert len(assembler.trajectories({"person": 0}, started=(60.0, 120.0))) == 1


def test_malformed_rows_are_skipped() -> None:
    assembler = TrackAssembler(T0)
    assembler.add(
        T0, {"run": 1, "classes": ["person"], "tracks": [[1, 0, 1, 2], "x", [1, 9, 0, 1, 1, 1]]}
    )
    assembler.add(T0, {"run": "x", "classes": [], "tracks": []})
    assert assembler.samples == 1
    assert assembler.class_names() == ("9",)


@pytest.mark.timeout(30)
def test_the_worker_publishes_the_tracks_of_its_run_when_it_stops() -> None:
    frames = [_boxes([(20 + i, 100)], [1]) for i in range(5)]
    scene = Scene(camera=CameraSpec(id="cam-1", edge_node_id="edge-7"))
    deps = WorkerDeps(
        detector=lambda _spec: ScriptedDetector(frames, ("person",)),
        tracker=lambda _spec, _fps: PassthroughTracker(),
        source=lambda _camera: ListSource(5, fps=5.0, size=(120, 160)),
    )
    published: list[Envelope] = []
    done = threading.Event()

    def on_events(camera_id: str, envelopes: tuple[Envelope, ...]) -> None:
        published.extend(e for e in envelopes if e.type == "tracks.minute")
        samples = sum((len(r) - 2) // 4 for e in published for r in _rows(e))
        if samples == 5:
            done.set()

    worker = CameraWorker(
        Camera(id="cam-1", name="door", stream_url="file:///door.mp4"),
        scene,
        deps,
        on_events=on_events,
        on_live=lambda _frame: None,
        policy=RestartPolicy(backoff=BackoffPolicy(60.0, 60.0)),
    )
    worker.start()
    try:
        assert done.wait(20.0), "the run's samples were not published"
    finally:
        worker.stop()
        assert worker.join(10.0)
    assert {e.payload["run"] for e in published} == {published[0].payload["run"]}
    xs = [r[3 + 4 * k] for e in published for r in _rows(e) for k in range((len(r) - 2) // 4)]
    assert xs == [20, 21, 22, 23, 24]


GOOD = {
    "frame_width": 640,
    "frame_height": 480,
    "run": 1,
    "part": 0,
    "dropped": 0,
    "classes": ["person"],
    "tracks": [[1, 0, 0, 10, 20, 30]],
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tracks": [[1, 0, 0, 10, 20]]}, "1 to 600 samples"),
        ({"tracks": [[1, 0]]}, "1 to 600 samples"),
        ({"tracks": [[1, 0, 0, 10, -20, 30]]}, "non-negative integers"),
        ({"tracks": [[1, 0, 0, 10, 2.5, 30]]}, "non-negative integers"),
        ({"tracks": [[1, 0, 0, 10, True, 30]]}, "non-negative integers"),
        ({"tracks": "1,0,0"}, "list of track rows"),
        ({"tracks": [[1, 0, *[0, 1, 2, 3] * 601]]}, "1 to 600 samples"),
        ({"tracks": [[1, 0, 0, 1, 2, 3]] * 1001}, "more than 1000 rows"),
        ({"classes": "person"}, "list of strings"),
        ({"classes": ["x" * 65]}, "at most 64"),
        ({"classes": [7]}, "at most 64"),
        ({"run": -1}, "at least 0"),
        ({"heights": [1]}, "unknown keys"),
    ],
    ids=[
        "short-sample",
        "no-sample",
        "negative",
        "float",
        "bool",
        "not-a-list",
        "too-many-samples",
        "too-many-rows",
        "classes-not-a-list",
        "long-class",
        "class-not-a-string",
        "negative-run",
        "unknown-key",
    ],
)
def test_ingest_refuses_malformed_track_logs(changes: dict[str, object], message: str) -> None:
    check_event("tracks.minute", GOOD, max_bytes=DEFAULT_PAYLOAD_MAX_BYTES)
    with pytest.raises(ValidationError, match=message):
        check_event("tracks.minute", {**GOOD, **changes}, max_bytes=1 << 20)
