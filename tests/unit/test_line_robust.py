"""LineZone's robust mode: band hysteresis, identity-switch guard, tracklet stitching.

A vertical line at x = 200 (from (200, 0) down to (200, 400)); people are boxes
80 px tall and 30 px wide with their feet at y = 300, so the automatic band is
20 px wide (x in [190, 210] has no side). Moving right (x grows past the line)
is crossing *in*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from argus.domain.analytics import LineZone
from argus.domain.errors import ConfigError
from argus.domain.events import LineCrossed
from tests.factories import make_detections

FPS = 10.0
LINE = ((200.0, 0.0), (200.0, 400.0))
HEIGHT = 80.0

Frame = Mapping[int, float]  # track id -> x of the feet; absent ids are not seen


def _box(x: float, y: float = 300.0, height: float = HEIGHT) -> list[float]:
    return [x - 15.0, y - height, x + 15.0, y]


def _zone(**kwargs: Any) -> LineZone:
    options: dict[str, Any] = {"mode": "robust", "stitch_seconds": 1.0, "min_crossing_frames": 2}
    options.update(kwargs)
    return LineZone(*LINE, **options)


def _play(zone: LineZone, frames: Sequence[Frame]) -> list[tuple[int, int, str]]:
    """Feed the frames; return ``(frame, track id, direction)`` of every crossing."""
    out: list[tuple[int, int, str]] = []
    for i, frame in enumerate(frames):
        ids = sorted(frame)
        result = zone.trigger(
            make_detections([_box(frame[t]) for t in ids], tracker_id=ids), i / FPS
        )
        out += [(i, e.track_id, e.direction) for e in result.events if isinstance(e, LineCrossed)]
        assert result.crossed_in.sum() + result.crossed_out.sum() == len(result.events)
    return out


def _walk(track: int, xs: Sequence[float]) -> list[Frame]:
    return [{track: x} for x in xs]


HOVER = [196.0, 204.0, 197.0, 203.0, 199.0, 205.0, 195.0, 202.0, 198.0, 204.0]


def test_strict_is_the_default_and_hovering_fools_it() -> None:
    frames = _walk(1, [150, 170, 185, *HOVER, 185, 170, 150])
    strict = LineZone(*LINE, min_crossing_frames=1)
    assert strict.mode == "strict"
    assert len(_play(strict, frames)) > 0  # every flicker across the line counts
    assert _play(_zone(min_crossing_frames=1), frames) == []


@pytest.mark.parametrize("min_frames", [1, 2, 3])
def test_hovers_on_the_line_with_jitter_and_walks_back(min_frames: int) -> None:
    frames = _walk(1, [150, 170, 185, *HOVER, *HOVER, 185, 170, 150])
    assert _play(_zone(min_crossing_frames=min_frames), frames) == []


@pytest.mark.parametrize("min_frames", [1, 2, 3])
def test_hovers_on_the_line_then_crosses_once(min_frames: int) -> None:
    frames = _walk(1, [150, 170, 185, *HOVER, *HOVER, 215, 230, 250, 270])
    crossings = _play(_zone(min_crossing_frames=min_frames), frames)
    assert [(t, d) for _, t, d in crossings] == [(1, "in")]


def test_a_fixed_band_in_pixels() -> None:
    # A 40 px band: 215 is still inside it, so only 230 and beyond are the in side.
    frames = _walk(1, [150, 170, 215, 215, 215, 170, 150])
    assert _play(_zone(band=40.0), frames) == []
    frames = _walk(1, [150, 170, 215, 230, 240])
    assert _play(_zone(band=40.0), frames) == [(4, 1, "in")]


def test_lost_on_one_side_and_reborn_on_the_other_counts_once() -> None:
    frames: list[Frame] = [*_walk(1, [150, 165, 180, 188]), {}, {}, *_walk(2, [215, 225, 240])]
    zone = _zone()
    assert _play(zone, frames) == [(6, 2, "in")]
    assert (zone.in_count, zone.out_count) == (1, 0)


def test_the_lost_track_coming_back_does_not_count_again() -> None:
    frames: list[Frame] = [
        *_walk(1, [150, 165, 180, 188]),
        {},
        {2: 215},
        {2: 225},
        {},  # the tracker finds track 1 again (on the in side) and drops 2
        {1: 240},
        {1: 250},
        {1: 265},
    ]
    zone = _zone()
    assert _play(zone, frames) == [(5, 2, "in")]
    assert zone.in_count == 1


def test_two_people_lost_and_reborn_count_twice() -> None:
    frames: list[Frame] = [
        {1: 150, 3: 260},
        {1: 170, 3: 240},
        {1: 185, 3: 222},
        {},
        {2: 218, 4: 181},  # 1 continues as 2 (in), 3 continues as 4 (out)
        {2: 230, 4: 170},
        {2: 245, 4: 150},
    ]
    zone = _zone()
    assert sorted(_play(zone, frames)) == [(4, 2, "in"), (4, 4, "out")]
    assert (zone.in_count, zone.out_count) == (1, 1)


def test_each_vanished_track_continues_one_newborn_only() -> None:
    frames: list[Frame] = [*_walk(1, [150, 170, 188]), {}, {2: 215, 5: 218}, {2: 225, 5: 230}]
    zone = _zone()
    assert len(_play(zone, frames)) == 1
    assert zone.in_count == 1


@pytest.mark.parametrize(
    ("frames", "why"),
    [
        ([*_walk(1, [150, 170, 188]), {}, *_walk(2, [180, 170])], "reborn on the same side"),
        ([*_walk(1, [150, 170, 188]), *[{}] * 15, *_walk(2, [215, 230])], "gap over 1 s"),
        ([*_walk(1, [150, 170, 188]), {}, *_walk(2, [330, 340])], "reborn far from the line"),
        ([*_walk(1, [20, 30, 40]), {}, *_walk(2, [215, 230])], "lost far from the line"),
        ([{1: 150}, {1: 170}, {1: 188, 2: 215}, {2: 225}], "seen together: two people"),
        ([*_walk(1, [215, 225, 235]), {}, *_walk(2, [185, 180])], "1 walks away from 2"),
    ],
    ids=["same-side", "too-late", "reborn-far", "lost-far", "overlap", "walking-away"],
)
def test_what_is_not_stitched(frames: list[Frame], why: str) -> None:
    assert _play(_zone(), frames) == [], why


def test_stitching_off() -> None:
    frames: list[Frame] = [*_walk(1, [150, 165, 180, 188]), {}, *_walk(2, [215, 225, 240])]
    assert _play(_zone(stitch_seconds=0.0), frames) == []


def test_a_track_that_crossed_and_walked_on_is_not_continued_backwards() -> None:
    # 1 crosses in and walks on; 2 appears behind it on the out side: another person.
    frames: list[Frame] = [*_walk(1, [170, 185, 215, 225, 235]), {}, *_walk(2, [185, 180])]
    zone = _zone()
    assert _play(zone, frames) == [(3, 1, "in")]
    assert (zone.in_count, zone.out_count) == (1, 0)


def test_an_identity_switch_across_the_line_does_not_count() -> None:
    # Two people 240 px apart (3 box heights) swap ids; strict counts both jumps.
    frames: list[Frame] = [{1: 80, 2: 320}, {1: 82, 2: 318}, {1: 318, 2: 82}, {1: 316, 2: 84}]
    assert len(_play(LineZone(*LINE, min_crossing_frames=1), frames)) == 2
    assert _play(_zone(min_crossing_frames=1), frames) == []


def test_an_identity_switch_near_the_line_does_not_count_twice() -> None:
    # Person A (id 1) crosses and is counted; then the tracker gives A a new id (2)
    # and moves id 1 onto person B far behind, on the out side.
    frames: list[Frame] = [
        *_walk(1, [170, 185, 215, 230]),
        {1: 20, 2: 240},
        {1: 25, 2: 250},
        {1: 30, 2: 260},
    ]
    zone = _zone()
    assert _play(zone, frames) == [(3, 1, "in")]
    assert (zone.in_count, zone.out_count) == (1, 0)


@pytest.mark.parametrize("seed", range(25))
def test_random_jitter_walk_through_counts_once(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xs = np.linspace(120, 280, int(rng.integers(12, 40))) + rng.normal(0, 3.0, size=1)[0]
    xs = xs + rng.normal(0, 3.0, size=xs.size)  # jitter well inside the 20 px band
    dwell = 200 + rng.uniform(-6, 6, size=int(rng.integers(0, 30)))  # optional hovering
    path = np.concatenate([xs[xs < 200], dwell, xs[xs >= 200]])
    zone = _zone(min_crossing_frames=int(rng.integers(1, 4)))
    assert [d for _, _, d in _play(zone, _walk(1, path.tolist()))] == ["in"]


@pytest.mark.parametrize("seed", range(25))
def test_random_jitter_hover_and_return_never_counts(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    approach = np.linspace(120, 190, 8)
    hover = 200 + rng.uniform(-6, 6, size=int(rng.integers(5, 60)))
    path = np.concatenate([approach, hover, approach[::-1]])
    path = path + rng.normal(0, 0.5, size=path.size)  # within the 20 px band
    zone = _zone(min_crossing_frames=int(rng.integers(1, 4)))
    assert _play(zone, _walk(1, path.tolist())) == []


@pytest.mark.parametrize("seed", range(25))
def test_random_track_break_near_the_line_counts_once(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    path = np.linspace(120, 280, 24) + rng.normal(0, 2.0, size=24)
    cut = int(rng.integers(8, 14))  # the track breaks near the line ...
    gap = int(rng.integers(0, 6))  # ... for up to half a second
    frames: list[Frame] = [
        *_walk(1, path[:cut].tolist()),
        *[{}] * gap,
        *_walk(2, path[cut + gap :].tolist()),
    ]
    assert [d for _, _, d in _play(_zone(), frames)] == ["in"]


def test_events_and_masks_name_the_newborn() -> None:
    zone = _zone()
    for i, x in enumerate([150, 170, 188]):
        zone.trigger(make_detections([_box(x)], tracker_id=[1]), i / FPS)
    zone.trigger(make_detections([], tracker_id=[]), 0.3)
    result = zone.trigger(
        make_detections(
            [_box(40), _box(215)], tracker_id=[-1, 2], confidence=[0.5, 0.75], class_id=[0, 1]
        ),
        0.4,
    )
    assert result.crossed_in.tolist() == [False, True]
    assert result.events == (LineCrossed("line", 2, 1, "car", "in", 0.4, confidence=0.75),)
    assert zone.in_count_per_class == {1: 1}


def test_robust_state_stays_bounded() -> None:
    zone = _zone(max_missing_frames=5)
    for i in range(2000):
        zone.trigger(make_detections([_box(150)], tracker_id=[i]), i / FPS)
    assert zone.tracked_count <= 6


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "lenient"},
        {"band": -1.0},
        {"band": float("inf")},
        {"stitch_seconds": float("nan")},
        {"stitch_distance": -3.0},
    ],
    ids=["bad-mode", "negative-band", "infinite-band", "nan-stitch", "negative-distance"],
)
def test_bad_robust_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        LineZone(*LINE, **kwargs)
