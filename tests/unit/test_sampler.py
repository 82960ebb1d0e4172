"""The frame sampler: target rates from source timestamps, counts, resets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from argus.domain.errors import ValidationError
from argus.domain.sampler import FrameSampler


def kept(sampler: FrameSampler, timestamps: list[float]) -> list[float]:
    return [t for t in timestamps if sampler.accept(t)]


def stream(fps: float, seconds: float, start: float = 0.0) -> list[float]:
    return [start + i / fps for i in range(round(fps * seconds))]


@pytest.mark.parametrize(
    ("source_fps", "target_fps"),
    [(30.0, 10.0), (25.0, 10.0), (30.0, 15.0), (29.97, 5.0), (25.0, 7.0), (60.0, 1.0)],
    ids=["30to10", "25to10", "30to15", "ntsc-to-5", "25to7", "60to1"],
)
def test_average_rate_reaches_the_target(source_fps: float, target_fps: float) -> None:
    sampler = FrameSampler(target_fps)
    timestamps = stream(source_fps, 100.0)
    result = kept(sampler, timestamps)
    assert len(result) == pytest.approx(target_fps * 100.0, abs=1)
    assert sampler.accepted == len(result)
    assert sampler.skipped == len(timestamps) - len(result)


def test_integer_ratio_keeps_every_nth_frame() -> None:
    sampler = FrameSampler(10.0)
    assert [sampler.accept(i / 30) for i in range(9)] == [True, False, False] * 3


def test_kept_frames_are_evenly_spaced() -> None:
    result = kept(FrameSampler(5.0), stream(25.0, 20.0))
    gaps = np.diff(result)
    assert gaps == pytest.approx(np.full(len(gaps), 0.2))


def test_source_slower_than_target_keeps_everything() -> None:
    sampler = FrameSampler(10.0)
    timestamps = stream(8.0, 10.0)
    assert kept(sampler, timestamps) == timestamps
    assert sampler.skipped == 0


def test_jittery_live_timestamps_still_reach_the_target() -> None:
    rng = np.random.default_rng(3)
    base = np.arange(3000) / 30.0
    timestamps = list(base + rng.uniform(-0.004, 0.004, size=base.size))
    result = kept(FrameSampler(6.0), sorted(timestamps))
    assert len(result) == pytest.approx(600, abs=2)


def test_a_gap_restarts_the_grid_instead_of_bursting() -> None:
    sampler = FrameSampler(5.0)
    before = kept(sampler, stream(25.0, 2.0))
    after = kept(sampler, stream(25.0, 2.0, start=60.0))
    assert len(before) == len(after) == 10
    assert after[0] == 60.0
    assert np.diff(after) == pytest.approx(np.full(9, 0.2))


def test_timestamps_going_backwards_restart_the_grid() -> None:
    sampler = FrameSampler(5.0)
    kept(sampler, stream(25.0, 2.0))
    assert sampler.accept(0.0)
    assert not sampler.accept(0.04)


def test_identical_timestamps_are_kept_once() -> None:
    sampler = FrameSampler(10.0)
    assert [sampler.accept(1.0) for _ in range(3)] == [True, False, False]


def test_reset_forgets_counts_and_grid() -> None:
    sampler = FrameSampler(10.0)
    kept(sampler, stream(30.0, 1.0))
    sampler.reset()
    assert (sampler.accepted, sampler.skipped) == (0, 0)
    assert sampler.accept(0.01)


@pytest.mark.parametrize("target", [0.0, -5.0, math.nan, math.inf], ids=str)
def test_invalid_target_is_refused(target: float) -> None:
    with pytest.raises(ValidationError):
        FrameSampler(target)


@pytest.mark.parametrize("timestamp", [math.nan, math.inf, -math.inf], ids=str)
def test_non_finite_timestamps_are_refused(timestamp: float) -> None:
    with pytest.raises(ValidationError):
        FrameSampler(5.0).accept(timestamp)
