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


# A person walking towards the line for a second (10 observations: established,
# see STITCH_ESTABLISHED) and one walking away from it on the far side long
# enough to settle (8 observations, STITCH_SETTLE): the stitched crossing is
# counted at the newborn's 8th observation.
LEAD = np.linspace(110.0, 188.0, 10).tolist()
AWAY = np.linspace(215.0, 257.0, 8).tolist()
SETTLED = len(AWAY) - 1  # index of the settling observation within AWAY

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
    frames: list[Frame] = [*_walk(1, LEAD), {}, {}, *_walk(2, AWAY)]
    zone = _zone()
    assert _play(zone, frames) == [(len(LEAD) + 2 + SETTLED, 2, "in")]
    assert (zone.in_count, zone.out_count) == (1, 0)


def test_a_newborn_that_vanishes_before_settling_continues_nothing() -> None:
    # A fragment or a false positive across the line: seen a few frames, then gone.
    frames: list[Frame] = [*_walk(1, LEAD), {}, *_walk(2, AWAY[:4])]
    assert _play(_zone(), frames) == []


def test_a_short_lived_track_is_not_continued() -> None:
    # Three observations before the line: too short to be a person walking.
    frames: list[Frame] = [*_walk(1, [150, 170, 188]), {}, *_walk(2, AWAY)]
    assert _play(_zone(), frames) == []


def test_the_lost_track_coming_back_does_not_count_again() -> None:
    frames: list[Frame] = [
        *_walk(1, LEAD),
        {},
        *_walk(2, AWAY),
        {},  # the tracker finds track 1 again (on the in side) and drops 2
        {1: 265},
        {1: 272},
        {1: 280},
    ]
    zone = _zone()
    assert _play(zone, frames) == [(len(LEAD) + 1 + SETTLED, 2, "in")]
    assert zone.in_count == 1


def test_two_people_lost_and_reborn_count_twice() -> None:
    mirror = [400.0 - x for x in LEAD]  # 3 walks left towards the line
    frames: list[Frame] = [
        *({1: a, 3: b} for a, b in zip(LEAD, mirror, strict=True)),
        {},
        # 1 continues as 2 (in), 3 continues as 4 (out)
        *({2: a, 4: 400.0 - a} for a in AWAY),
    ]
    zone = _zone()
    settled = len(LEAD) + 1 + SETTLED
    assert sorted(_play(zone, frames)) == [(settled, 2, "in"), (settled, 4, "out")]
    assert (zone.in_count, zone.out_count) == (1, 1)


def test_each_vanished_track_continues_one_newborn_only() -> None:
    frames: list[Frame] = [*_walk(1, LEAD), {}, *({2: a, 5: a + 3.0} for a in AWAY)]
    zone = _zone()
    assert len(_play(zone, frames)) == 1
    assert zone.in_count == 1


@pytest.mark.parametrize(
    ("frames", "why"),
    [
        ([*_walk(1, LEAD), {}, *_walk(2, [180.0] * 8)], "reborn on the same side"),
        ([*_walk(1, LEAD), *[{}] * 15, *_walk(2, AWAY)], "gap over 1 s"),
        ([*_walk(1, LEAD), {}, *_walk(2, [330.0 + i for i in range(8)])], "reborn far away"),
        ([*_walk(1, [x - 100 for x in LEAD]), {}, *_walk(2, AWAY)], "lost far from the line"),
        ([*_walk(1, LEAD[:-1]), {1: LEAD[-1], 2: 215}, *_walk(2, AWAY[1:])], "seen together"),
        (
            [
                *_walk(1, [400.0 - x for x in LEAD[::-1]]),
                {},
                *_walk(2, [185.0 - i for i in range(8)]),
            ],
            "1 walks away from 2",
        ),
    ],
    ids=["same-side", "too-late", "reborn-far", "lost-far", "overlap", "walking-away"],
)
def test_what_is_not_stitched(frames: list[Frame], why: str) -> None:
    assert _play(_zone(), frames) == [], why


def test_stitching_off() -> None:
    frames: list[Frame] = [*_walk(1, LEAD), {}, *_walk(2, AWAY)]
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
    path = np.linspace(60, 300, 40) + rng.normal(0, 2.0, size=40)
    cut = int(rng.integers(12, 20))  # the track breaks near the line ...
    gap = int(rng.integers(0, 6))  # ... for up to half a second
    frames: list[Frame] = [
        *_walk(1, path[:cut].tolist()),
        *[{}] * gap,
        *_walk(2, path[cut + gap :].tolist()),
    ]
    assert [d for _, _, d in _play(_zone(), frames)] == ["in"]


def test_events_and_masks_name_the_newborn() -> None:
    zone = _zone()
    for i, x in enumerate(LEAD):
        zone.trigger(make_detections([_box(x)], tracker_id=[1]), i / FPS)
    zone.trigger(make_detections([], tracker_id=[]), len(LEAD) / FPS)
    for i, x in enumerate(AWAY[:-1]):
        zone.trigger(
            make_detections([_box(x)], tracker_id=[2], class_id=[1]), (len(LEAD) + 1 + i) / FPS
        )
    last = (len(LEAD) + len(AWAY)) / FPS
    result = zone.trigger(
        make_detections(
            [_box(40), _box(AWAY[-1])], tracker_id=[-1, 2], confidence=[0.5, 0.75], class_id=[0, 1]
        ),
        last,
    )
    assert result.crossed_in.tolist() == [False, True]
    assert result.events == (LineCrossed("line", 2, 1, "car", "in", last, confidence=0.75),)
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
