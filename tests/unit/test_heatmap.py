"""Heatmap accumulation (decay, normalisation, bounds) and its PNG rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from argus.adapters.render.heatmap import render_heatmap, write_png
from argus.domain.analytics import Heatmap
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError, ValidationError
from tests.factories import make_detections, solid_image


def _at(*points: tuple[float, float]) -> Detections:
    """Detections whose bottom-centres are ``points``."""
    return make_detections([[x - 5, y - 20, x + 5, y] for x, y in points])


def test_empty_map_is_all_zeros() -> None:
    heatmap = Heatmap(64, 48)
    values = heatmap.values()
    assert values.shape == (48, 64)
    assert values.dtype == np.float32
    assert not values.any()
    heatmap.add(Detections.empty(), 0.0)
    assert heatmap.peak == 0.0


def test_values_are_normalised_and_peak_at_the_anchor() -> None:
    heatmap = Heatmap(160, 120, cell=4, radius=12)
    heatmap.add(_at((40, 60)), 0.0)
    values = heatmap.values()
    assert values.shape == (120, 160)
    assert float(values.max()) == pytest.approx(1.0)
    assert float(values.min()) >= 0.0
    row, col = np.unravel_index(int(np.argmax(values)), values.shape)
    assert abs(int(col) - 40) <= 4
    assert abs(int(row) - 60) <= 4
    assert values[60, 100] == 0.0  # far beyond the radius


def test_more_presence_is_hotter() -> None:
    heatmap = Heatmap(100, 100, cell=5, radius=10)
    for t in range(3):
        heatmap.add(_at((20, 50)), float(t))
    heatmap.add(_at((80, 50)), 3.0)
    grid = heatmap.grid()
    hot = grid[50 // 5, 20 // 5]
    warm = grid[50 // 5, 80 // 5]
    assert hot == pytest.approx(1.0)
    assert warm == pytest.approx(1 / 3, rel=0.05)


@pytest.mark.parametrize(
    ("kwargs", "elapsed", "expected"),
    [
        ({"half_life_s": 2.0}, 2.0, 0.5),
        ({"half_life_s": 2.0}, 4.0, 0.25),
        ({"decay_per_second": 0.5}, 1.0, 0.5),
        ({"decay_per_second": 0.1}, 2.0, 0.81),
        ({}, 100.0, 1.0),
    ],
    ids=["one-half-life", "two-half-lives", "half-per-second", "ten-percent", "no-decay"],
)
def test_decay(kwargs: dict[str, Any], elapsed: float, expected: float) -> None:
    heatmap = Heatmap(100, 100, cell=5, radius=10, **kwargs)
    heatmap.add(_at((20, 50)), 0.0)
    heatmap.add(_at((80, 50)), elapsed)
    grid = heatmap.grid()
    # The old spot decayed relative to the fresh one (both splats have peak 1).
    assert grid[10, 4] / grid[10, 16] == pytest.approx(expected, rel=1e-3)


def test_time_going_backwards_decays_nothing() -> None:
    heatmap = Heatmap(100, 100, cell=5, half_life_s=1.0)
    heatmap.add(_at((20, 50)), 5.0)
    heatmap.add(_at((80, 50)), 3.0)
    grid = heatmap.grid()
    assert grid[10, 4] == pytest.approx(grid[10, 16])


@pytest.mark.parametrize(
    "point",
    [(0, 0), (99, 79), (-5, 40), (130, 40), (-1000, -1000)],
    ids=["top-left", "bottom-right", "left-of-frame", "right-of-frame", "far-away"],
)
def test_points_at_and_beyond_the_edges_stay_in_bounds(point: tuple[float, float]) -> None:
    heatmap = Heatmap(100, 80, cell=8, radius=16)
    heatmap.add(_at(point), 0.0)
    values = heatmap.values()
    assert values.shape == (80, 100)
    assert np.isfinite(values).all()
    assert float(values.max()) <= 1.0


def test_grid_is_coarse_and_input_untouched() -> None:
    heatmap = Heatmap(1920, 1080, cell=8)
    assert heatmap.grid_shape == (135, 240)
    dets = _at((100, 100), (500, 900))
    before = dets.xyxy.copy()
    heatmap.add(dets, 0.0)
    np.testing.assert_array_equal(dets.xyxy, before)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cell": 0},
        {"radius": 0.0},
        {"half_life_s": 1.0, "decay_per_second": 0.5},
        {"half_life_s": -1.0},
        {"decay_per_second": 1.0},
        {"anchor": "SOMEWHERE"},
    ],
    ids=["zero-cell", "zero-radius", "both-decays", "negative-half-life", "full-decay", "anchor"],
)
def test_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Heatmap(100, 100, **kwargs)


def test_render_blends_only_where_it_is_hot() -> None:
    frame = solid_image(40, 60, (50, 100, 150))
    values = np.zeros((40, 60), dtype=np.float32)
    values[10:20, 10:20] = 1.0
    out = render_heatmap(frame, values, alpha=0.5)
    assert out.shape == frame.shape
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out[30:, 30:], frame[30:, 30:])
    assert not np.array_equal(out[15, 15], frame[15, 15])
    np.testing.assert_array_equal(frame, solid_image(40, 60, (50, 100, 150)))


def test_render_resizes_a_coarse_grid() -> None:
    heatmap = Heatmap(64, 48, cell=8)
    heatmap.add(_at((32, 24)), 0.0)
    out = render_heatmap(solid_image(48, 64), heatmap.grid(), alpha=1.0)
    assert out.shape == (48, 64, 3)
    assert out.any()


def test_write_png_is_readable_by_opencv(tmp_path: Path) -> None:
    heatmap = Heatmap(64, 48, cell=4, radius=10)
    heatmap.add(_at((20, 30), (40, 30)), 0.0)
    image = render_heatmap(solid_image(48, 64, 80), heatmap.values())
    path = write_png(tmp_path / "out" / "heat.png", image)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    back = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert back is not None
    np.testing.assert_array_equal(back, image)


@pytest.mark.parametrize(
    ("frame", "values", "alpha"),
    [
        (np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.float32), 0.5),
        (np.zeros((4, 4, 3), np.uint8), np.zeros(4, np.float32), 0.5),
        (np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.float32), 1.5),
    ],
    ids=["grey-frame", "1d-values", "alpha"],
)
def test_render_rejects_bad_input(frame: Any, values: Any, alpha: float) -> None:
    with pytest.raises(ValidationError):
        render_heatmap(frame, values, alpha)


def test_write_png_rejects_non_images(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        write_png(tmp_path / "x.png", np.zeros((4, 4, 3), np.float32))
