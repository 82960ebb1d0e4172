"""Why the vtest heatmap stayed empty (issue 23), and the fixes: people only, a log scale, a floor.

vtest.avi has a van and a car parked at the top right: detected in every frame,
they held hundreds of counts a minute in two cells while a walker leaves one or
two per cell, and the heatmap, scaled linearly to its busiest cell with an
opacity proportional to the heat, showed nothing where people walked.
"""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from argus.adapters.render.heatmap import heatmap_png, render_heatmap
from argus.domain.errors import ValidationError
from argus.domain.frames import Frame
from argus.domain.heatmap_stats import HeatmapTally
from argus.scene import CameraSpec, HeatmapSpec, Scene
from argus.services.heatmap_minutes import MinuteHeatmap
from tests.factories import make_detections, solid_image

T0 = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
FRAME = Frame(solid_image(360, 480), 0, 0.0, "test")
CAR = [400.0, 30.0, 460.0, 60.0]
"""A parked car's box: its anchor (bottom centre) is in the same cell every frame."""


def _walk(scene: Scene, frames: int = 200) -> dict[int, int]:
    """A parked car every frame and one person walking left to right; the minute's cells."""
    heat = MinuteHeatmap(scene, lambda: T0)
    for i in range(frames):
        x = 20.0 + 2.0 * i
        boxes = [CAR, [x - 10, 200.0, x + 10, 260.0]]
        heat.add(FRAME, make_detections(boxes, class_id=[1, 0], class_names=("person", "car")))
    event = heat.flush()
    assert event is not None
    assert event.payload["frames"] == frames
    return {int(i): int(c) for i, c in event.payload["cells"]}  # type: ignore[attr-defined]


def test_the_stored_heatmap_counts_people_not_parked_cars() -> None:
    cells = _walk(Scene(camera=CameraSpec(id="vtest")))
    car_cell = (60 * 48 // 360) * 64 + 430 * 64 // 480
    assert car_cell not in cells
    assert sum(cells.values()) == 200  # one person, every frame
    assert max(cells.values()) <= 4  # walking: a few frames per 7.5 px cell


def test_all_classes_when_the_scene_says_so() -> None:
    scene = Scene(camera=CameraSpec(id="vtest"), heatmap=HeatmapSpec(classes=None))
    cells = _walk(scene)
    car_cell = (60 * 48 // 360) * 64 + 430 * 64 // 480
    assert cells[car_cell] == 200
    assert sum(cells.values()) == 400


def _grid(cells: list[list[int]], frames: int = 600) -> HeatmapTally:
    tally = HeatmapTally()
    payload = {"grid_width": 4, "grid_height": 3, "frame_width": 480, "frame_height": 360}
    tally.add({**payload, "frames": frames, "cells": cells})
    tally.add({**payload, "frames": 50, "cells": [[0, 1]]})  # a partial minute
    return tally


def test_the_scale_is_logarithmic_so_a_walked_cell_is_far_from_zero() -> None:
    grid = _grid([[0, 400], [5, 1], [6, 20]]).result()
    assert grid is not None
    assert (grid.peak, grid.frames, grid.minutes, grid.minute_frames) == (401, 650, 2, 600)
    assert grid.seconds_per_frame == pytest.approx(0.1)  # 600 frames in a minute: 10 fps
    values = grid.normalised().ravel()
    assert values[0] == pytest.approx(1.0)
    assert values[5] == pytest.approx(np.log(2) / np.log(402))
    assert values[5] > 0.1  # linear: 1 / 401
    assert values[5] < values[6] < values[0]
    assert values[1] == 0.0


def test_an_empty_tally_has_no_time_scale() -> None:
    assert HeatmapTally().result() is None


def test_the_png_shows_a_once_visited_cell_beside_a_busy_one() -> None:
    grid = _grid([[0, 5000], [5, 1]]).result()
    assert grid is not None
    image = cv2.imdecode(np.frombuffer(heatmap_png(grid), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    assert image.shape == (360, 480, 3)
    once = image[180, 180].astype(int)  # cell 5: row 1, column 1 (120 px cells)
    nothing = image[300, 420].astype(int)  # cell 11: never visited
    assert nothing.tolist() == [48, 48, 48]
    assert int(np.abs(once - nothing).sum()) > 60


def test_render_floor_keeps_faint_heat_visible_and_zero_untouched() -> None:
    frame = solid_image(2, 2, 100)
    values = np.asarray([[0.0, 0.01], [0.5, 1.0]], dtype=np.float32)
    plain = render_heatmap(frame, values, alpha=0.7).astype(int)
    floored = render_heatmap(frame, values, alpha=0.7, floor=0.3).astype(int)
    assert floored[0, 0].tolist() == [100, 100, 100]
    assert np.abs(plain[0, 1] - 100).sum() < 5
    assert np.abs(floored[0, 1] - 100).sum() > 40
    assert floored[1, 1].tolist() == plain[1, 1].tolist()
    with pytest.raises(ValidationError):
        render_heatmap(frame, values, alpha=0.5, floor=0.6)
