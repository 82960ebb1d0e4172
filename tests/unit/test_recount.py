"""Offline re-count: stitching, band, extent and identity switches on synthetic trajectories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from argus.domain.analytics.recount import (
    LineTally,
    RecountLine,
    Trajectory,
    count_paths,
    recount,
)
from argus.domain.errors import ValidationError

FPS = 25.0
HEIGHT = 100.0
# A vertical line at x = 300 from y = 0 to y = 400. The in side has
# cross(end - start, p - start) < 0, which for this line is x > 300: walking right is "in".
LINE = RecountLine("door", (300.0, 0.0), (300.0, 400.0))
SHARED = Path(__file__).resolve().parents[3] / "shared" / "eval" / "mot"


def _walk(
    track_id: int,
    x: list[float] | np.ndarray,
    *,
    start_frame: int = 0,
    y: float = 200.0,
    jitter: float = 0.0,
    seed: int = 0,
) -> Trajectory:
    xs = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, jitter, size=(len(xs), 2)) if jitter else np.zeros((len(xs), 2))
    xy = np.column_stack((xs, np.full(len(xs), y))) + noise
    t = (start_frame + np.arange(len(xs))) / FPS
    return Trajectory(track_id, 0, t, xy, np.full(len(xs), HEIGHT))


def _counts(tallies: list[LineTally]) -> tuple[int, int]:
    return tallies[0].in_count, tallies[0].out_count


def test_one_walk_across_counts_once_in() -> None:
    assert _counts(recount([_walk(1, np.linspace(200, 400, 50))], [LINE])) == (1, 0)
    assert _counts(recount([_walk(1, np.linspace(400, 200, 50))], [LINE])) == (0, 1)


def test_lost_on_one_side_reborn_on_the_other_counts_once() -> None:
    # 8 px per frame; lost at x = 272 (frame 9), reborn at x = 336 (frame 17).
    path = np.arange(200.0, 420.0, 8.0)
    before = _walk(1, path[:10])
    after = _walk(2, path[18:], start_frame=18)
    assert _counts(recount([before, after], [LINE])) == (1, 0)
    # Counted as they are (ids taken as true), neither track crosses.
    assert _counts(count_paths([before, after], [LINE])) == (0, 0)


def test_lost_and_reborn_during_a_camera_pan_counts_once() -> None:
    # The camera pans 25 px per frame: everyone sweeps left in the image, faster than a
    # person walks. Three people far from the line show the pan; one, swept across the
    # line, is lost for 8 frames in mid-crossing and reborn under a new id.
    frames = np.arange(40)
    swept = 500.0 - 25.0 * frames
    tracks = [
        _walk(1, swept[:6]),
        _walk(2, swept[14:], start_frame=14),
        *(_walk(10 + k, 1500.0 + 200.0 * k - 25.0 * frames, y=100.0 * (k + 1)) for k in range(3)),
    ]
    assert _counts(recount(tracks, [LINE])) == (0, 1)


def test_two_people_crossing_apart_count_twice() -> None:
    first = _walk(1, np.linspace(200, 400, 50), y=100.0)
    second = _walk(2, np.linspace(200, 400, 50), start_frame=100, y=300.0)
    assert _counts(recount([first, second], [LINE])) == (2, 0)


def test_two_people_lost_at_once_are_stitched_to_their_own_continuations() -> None:
    # Person A walks right at y = 100, person B walks left at y = 300; both are lost
    # near the line for 6 frames and reborn under new ids.
    right = np.arange(200.0, 420.0, 8.0)
    left = right[::-1]
    tracks = [
        _walk(1, right[:10], y=100.0),
        _walk(2, left[:10], y=300.0),
        _walk(3, right[16:], start_frame=16, y=100.0),
        _walk(4, left[16:], start_frame=16, y=300.0),
    ]
    assert _counts(recount(tracks, [LINE])) == (1, 1)


def test_hovering_in_the_band_with_jitter_and_walking_back_counts_nothing() -> None:
    approach = np.linspace(200, 295, 30)
    hover = np.full(60, 300.0)
    back = np.linspace(295, 200, 30)
    walk = _walk(1, np.concatenate((approach, hover, back)), jitter=4.0, seed=3)
    assert _counts(recount([walk], [LINE])) == (0, 0)


def test_hovering_then_crossing_counts_once() -> None:
    path = np.concatenate(
        (np.linspace(200, 295, 30), np.full(60, 300.0), np.linspace(305, 400, 30))
    )
    for seed in range(5):
        walk = _walk(1, path, jitter=4.0, seed=seed)
        assert _counts(recount([walk], [LINE])) == (1, 0), seed


def test_jitter_around_a_steady_walk_counts_once() -> None:
    for seed in range(10):
        walk = _walk(1, np.linspace(150, 450, 75), jitter=6.0, seed=seed)
        assert _counts(recount([walk], [LINE])) == (1, 0), seed


def test_crossing_beyond_the_segment_does_not_count() -> None:
    # The line ends at y = 400; this walk crosses x = 300 at y = 500.
    walk = _walk(1, np.linspace(200, 400, 50), y=500.0)
    assert _counts(recount([walk], [LINE])) == (0, 0)
    assert _counts(count_paths([walk], [LINE])) == (0, 0)


def test_identity_switch_near_the_line_is_not_counted_twice() -> None:
    # A (y = 100) walks right and crosses; B (y = 300) stands right of the line.
    # At frame 40 the tracker swaps them: id 1 jumps to B, id 2 takes over A.
    a = np.linspace(200, 400, 60)
    a_y, b_xy = 100.0, (360.0, 300.0)
    t = np.arange(60) / FPS
    xy1 = np.array([[x, a_y] if k < 40 else b_xy for k, x in enumerate(a)])
    xy2 = np.array([b_xy if k < 40 else [x, a_y] for k, x in enumerate(a)])
    heights = np.full(60, HEIGHT)
    one = Trajectory(1, 0, t, xy1, heights)
    two = Trajectory(2, 0, t, xy2, heights)
    assert _counts(recount([one, two], [LINE])) == (1, 0)


def test_per_class_tallies_and_several_lines() -> None:
    walk = _walk(1, np.linspace(200, 400, 50))
    cart = Trajectory(2, 3, walk.t, walk.xy[::-1].copy(), walk.height)
    other = RecountLine("far", (1000.0, 0.0), (1000.0, 400.0))
    door, far = recount([walk, cart], [LINE, other])
    assert (door.in_per_class, door.out_per_class) == ({0: 1}, {3: 1})
    assert (far.name, far.in_count, far.out_count) == ("far", 0, 0)


def test_empty_period_counts_nothing() -> None:
    assert _counts(recount([], [LINE])) == (0, 0)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Trajectory(1, 0, np.array([0.0, 0.0]), np.zeros((2, 2)), np.ones(2)),
        lambda: Trajectory(1, 0, np.array([0.0]), np.zeros((2, 2)), np.ones(1)),
        lambda: Trajectory(1, 0, np.array([np.nan]), np.zeros((1, 2)), np.ones(1)),
        lambda: RecountLine("x", (1.0, 1.0), (1.0, 1.0)),
        lambda: RecountLine("x", (0.0, 0.0), (1.0, 1.0), band=-1.0),
        lambda: recount([], [LINE], stitch_seconds=-1.0),
    ],
    ids=["times-repeat", "shapes", "nan", "zero-line", "negative-band", "negative-stitch"],
)
def test_invalid_input_is_refused(build: object) -> None:
    with pytest.raises(ValidationError):
        build()  # type: ignore[operator]


@pytest.mark.skipif(
    not (SHARED / "TUD-Campus").is_dir(),
    reason="../shared/eval/mot is absent (it is only beside a project checkout)",
)
def test_recount_on_tud_is_no_worse_than_the_strict_live_count() -> None:
    from argus.bootstrap.evaluation import evaluate_count_dirs

    dirs = [SHARED / "TUD-Campus", SHARED / "TUD-Stadtmitte"]
    results = evaluate_count_dirs(dirs, mode="strict")
    live = sum(r.error for r in results)
    recounted = sum(r.recount_error for r in results)
    assert sum(r.recount_truth for r in results) > 0
    assert recounted <= live
