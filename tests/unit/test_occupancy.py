"""The occupancy grid and the ``heatmap.minute`` events the camera worker makes of it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from argus.adapters.pipelines.worker import CameraWorker, RestartPolicy, WorkerDeps
from argus.domain.analytics.occupancy import OccupancyGrid
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError
from argus.domain.events import Envelope, HeatmapMinute
from argus.scene import CameraSpec, Scene
from tests.factories import ListSource, PassthroughTracker, ScriptedDetector, make_detections

WIDTH, HEIGHT = 160, 120  # ListSource's frames


def _feet(x: float, y: float) -> list[float]:
    return [x - 4, y - 10, x + 4, y]


@pytest.mark.parametrize(
    ("size", "columns", "grid"),
    [((1280, 720), 64, (64, 36)), ((640, 480), 64, (64, 48)), ((100, 1), 64, (64, 1))],
    ids=["16:9", "4:3", "a-line"],
)
def test_rows_keep_cells_about_square(
    size: tuple[int, int], columns: int, grid: tuple[int, int]
) -> None:
    occupancy = OccupancyGrid(*size, columns=columns)
    assert (occupancy.grid_width, occupancy.grid_height) == grid


def test_counts_anchor_cells_per_frame_and_starts_over() -> None:
    grid = OccupancyGrid(WIDTH, HEIGHT, columns=4)  # 4 x 3 cells of 40 px
    assert grid.take() is None
    dets = make_detections([_feet(10, 30), _feet(150, 119), _feet(500, -5)], tracker_id=[1, 2, 3])
    grid.add(dets)
    grid.add(dets.select(np.asarray([True, False, False])))
    grid.add(Detections.empty())
    event = grid.take()
    # Off-frame anchors count in the nearest edge cell (index 3: top right).
    assert event == HeatmapMinute(4, 3, WIDTH, HEIGHT, 3, ((0, 2), (3, 1), (11, 1)))
    assert grid.frames == 0
    assert grid.take() is None


@pytest.mark.parametrize(
    ("width", "height", "columns"),
    [(0, 10, 64), (10, 10, 0), (10, 10, 257)],
    ids=["empty-frame", "no-columns", "too-many-columns"],
)
def test_bad_grids_are_config_errors(width: int, height: int, columns: int) -> None:
    with pytest.raises(ConfigError):
        OccupancyGrid(width, height, columns=columns)


def _clock(times: list[datetime]) -> Callable[[], datetime]:
    """The given times, one per call, then the last one for ever."""
    calls = iter(times)

    def now() -> datetime:
        return next(calls, times[-1])

    return now


def test_worker_publishes_one_heatmap_event_per_minute_and_the_rest_on_stop() -> None:
    t0 = datetime(2026, 3, 1, 12, 0, 50, tzinfo=UTC)
    frames = [make_detections([_feet(20, 100)], tracker_id=[1]) for _ in range(5)]
    scene = Scene(camera=CameraSpec(id="cam-1", edge_node_id="edge-7"))
    deps = WorkerDeps(
        detector=lambda _spec: ScriptedDetector(frames, ("person",)),
        tracker=lambda _spec, _fps: PassthroughTracker(),
        source=lambda _camera: ListSource(5, size=(HEIGHT, WIDTH)),
    )
    published: list[Envelope] = []
    done = threading.Event()

    def on_events(camera_id: str, envelopes: tuple[Envelope, ...]) -> None:
        assert camera_id == "cam-1"
        published.extend(e for e in envelopes if e.type == "heatmap.minute")
        if len(published) == 2:
            done.set()

    # Two frames in minute 12:00, three in 12:01; the stream then ends.
    times = [t0 + timedelta(seconds=5 * i) for i in range(5)]
    worker = CameraWorker(
        Camera(id="cam-1", name="door", stream_url="file:///door.mp4"),
        scene,
        deps,
        on_events=on_events,
        on_live=lambda _frame: None,
        policy=RestartPolicy(backoff=BackoffPolicy(60.0, 60.0)),
        clock=_clock(times),
    )
    worker.start()
    try:
        assert done.wait(10.0), "no two heatmap events"
    finally:
        worker.stop()
        assert worker.join(10.0)
    first, second = published
    assert [e.timestamp for e in published] == [
        datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 1, tzinfo=UTC),
    ]
    assert first.source.edge_node_id == "edge-7"
    cell = (100 * 48 // HEIGHT) * 64 + 20 * 64 // WIDTH  # 64 x 48 grid of a 160 x 120 frame
    assert first.payload["frames"] == 2
    assert first.payload["cells"] == [[cell, 2]]
    assert second.payload["frames"] == 3
    assert second.payload["cells"] == [[cell, 3]]
    assert (second.payload["grid_width"], second.payload["grid_height"]) == (64, 48)
