"""``Timeline``: source timestamps from media times, never backwards, never shared by reordering."""

from __future__ import annotations

import itertools

import pytest

from argus.adapters.video._base import Timeline

# vtest.avi (H.264 with B-frames in AVI): the media times PyAV gives its first frames.
AVI_TIMES = [0.1, 0.4, 0.3, 0.5, 0.2, 0.8, 0.7, 0.9, 0.6, 1.2, 1.1, 1.3, 1.0, 1.6]
INTERVAL = 0.1


def _stamps(timeline: Timeline, times: list[float]) -> list[float]:
    stamps: list[float] = []
    for media in times:
        last = timeline.last
        stamps.append(timeline.stamp(media, 0.0 if last is None else last + INTERVAL))
    return stamps


def test_in_order_media_times_are_kept() -> None:
    times = [0.5 + i * INTERVAL for i in range(10)]
    stamps = _stamps(Timeline(reordered_fallback=True), times)
    assert stamps == pytest.approx([i * INTERVAL for i in range(10)])


def test_reordered_media_times_fall_back_to_the_frame_interval() -> None:
    stamps = _stamps(Timeline(reordered_fallback=True), AVI_TIMES)
    # The first step back is clamped (frames 1 and 2 share 0.3); from the second on, every
    # frame is at least one interval after the one before.
    assert stamps[:5] == pytest.approx([0.0, 0.3, 0.3, 0.4, 0.5])
    steps = [b - a for a, b in itertools.pairwise(stamps[3:])]
    assert min(steps) == pytest.approx(INTERVAL)
    assert stamps[-1] == pytest.approx(1.5)  # the media time of the last frame, 1.6 - 0.1


def test_one_step_back_alone_changes_nothing() -> None:
    # A decoder recovering from a damaged packet hands one old frame; the rest keep time.
    times = [0.0, 0.1, 0.2, 0.3, 0.05, 0.4, 0.5]
    stamps = _stamps(Timeline(reordered_fallback=True), times)
    assert stamps == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.3, 0.4, 0.5])


def test_without_the_fallback_reordered_frames_share_timestamps() -> None:
    stamps = _stamps(Timeline(), AVI_TIMES)
    assert stamps == sorted(stamps)
    assert len(set(stamps)) < len(stamps)


def test_a_new_segment_trusts_media_times_again() -> None:
    timeline = Timeline(reordered_fallback=True)
    _stamps(timeline, AVI_TIMES)
    last = timeline.last
    assert last is not None
    timeline.new_segment(last + INTERVAL)
    stamps = _stamps(timeline, [2.0, 2.1, 2.2])
    assert stamps == pytest.approx([last + INTERVAL * k for k in (1, 2, 3)])


def test_a_gap_after_reordering_stays_a_gap() -> None:
    # Dropped packets after the reordered start: the frames ahead keep their media time.
    stamps = _stamps(Timeline(reordered_fallback=True), [0.1, 0.4, 0.3, 0.5, 0.2, 2.0, 2.1])
    assert stamps == pytest.approx([0.0, 0.3, 0.3, 0.4, 0.5, 1.9, 2.0])
