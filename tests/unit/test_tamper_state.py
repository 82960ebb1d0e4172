"""Tamper decisions on feature values: verdicts per kind, learning, hysteresis, adaptation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from argus.domain.errors import ConfigError
from argus.domain.tamper import (
    TamperBaseline,
    TamperChange,
    TamperFeatures,
    TamperKind,
    TamperPolicy,
    TamperTracker,
    judge,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEP = 0.5
NORMAL = TamperFeatures(mean=120.0, std=50.0, sharpness=0.36, autocorr=0.93, flat=0.0, match=0.92)
BASELINE = TamperBaseline(
    mean=120.0, std=50.0, sharpness=0.36, autocorr=0.93, match=0.92, samples=100
)
POLICY = TamperPolicy()


@pytest.mark.parametrize(
    ("features", "still_s", "kind"),
    [
        (NORMAL, 0.0, None),
        (replace(NORMAL, mean=8.0, std=1.0, flat=1.0, match=0.0), 0.0, "black"),
        (replace(NORMAL, mean=250.0, std=0.5, flat=1.0, match=0.0), 0.0, "white"),
        (replace(NORMAL, still=True), POLICY.frozen_s, "frozen"),
        (replace(NORMAL, still=True), POLICY.frozen_s - 0.5, None),
        (replace(NORMAL, flat=0.8, match=0.05), 0.0, "covered"),
        (replace(NORMAL, autocorr=0.0, sharpness=1.9, match=0.0), 0.0, "noise"),
        (replace(NORMAL, match=0.05), 0.0, "moved"),
        (replace(NORMAL, shift=0.05), 0.0, "moved"),
        (replace(NORMAL, shift=0.01), 0.0, None),
        (replace(NORMAL, sharpness=0.05, match=0.6), 0.0, "blurred"),
        (replace(NORMAL, mean=180.0, std=62.0), 0.0, None),  # lights on: structure unchanged
        (replace(NORMAL, match=0.5), 0.0, None),  # a bus over half the view
    ],
    ids=[
        "normal",
        "black",
        "white",
        "frozen",
        "still-not-long-enough",
        "covered",
        "noise",
        "moved",
        "shifted",
        "jitter",
        "blurred",
        "lights",
        "half-occluded",
    ],
)
def test_judge_per_kind(features: TamperFeatures, still_s: float, kind: TamperKind | None) -> None:
    verdict = judge(features, BASELINE, POLICY, still_s)
    assert verdict.kind == kind
    assert 0.0 <= verdict.score <= 1.0
    if kind is not None:
        assert verdict.score >= 0.5


def test_a_dark_flat_scene_is_not_black_when_it_always_was() -> None:
    dark = TamperBaseline(mean=10.0, std=3.0, sharpness=0.3, autocorr=0.9, match=0.9, samples=50)
    night = TamperFeatures(mean=10.0, std=3.0, sharpness=0.3, autocorr=0.9, match=0.9)
    assert judge(night, dark, POLICY, 0.0).kind is None


def _feed(
    tracker: TamperTracker, features: TamperFeatures, seconds: float, start: float
) -> tuple[list[TamperChange], float]:
    changes: list[TamperChange] = []
    t = start
    while t < start + seconds - 1e-9:
        changes += tracker.update(features, T0 + timedelta(seconds=t))
        t += STEP
    return changes, t


def _learned(policy: TamperPolicy | None = None) -> tuple[TamperTracker, float]:
    tracker = TamperTracker(policy)
    _, t = _feed(tracker, NORMAL, (policy or POLICY).learn_s + 1.0, 0.0)
    assert tracker.state == "ok"
    return tracker, t


def test_learning_raises_nothing_then_becomes_ok() -> None:
    tracker = TamperTracker()
    assert tracker.state == "learning"
    changes, t = _feed(tracker, replace(NORMAL, match=0.0), 10.0, 0.0)
    assert changes == []
    assert tracker.state == "learning"
    changes, _ = _feed(tracker, NORMAL, POLICY.learn_s, t)
    assert changes == []
    assert tracker.state == "ok"


def test_raise_after_n_bad_checks_and_clear_after_m_good() -> None:
    tracker, t = _learned()
    covered = replace(NORMAL, flat=0.9, match=0.0)
    changes, t = _feed(tracker, covered, (POLICY.raise_checks - 1) * STEP, t)
    assert changes == []
    changes, t = _feed(tracker, covered, STEP, t)
    assert [(c.kind, c.state) for c in changes] == [("covered", "raised")]
    assert tracker.state == "covered"
    assert changes[0].at == T0 + timedelta(seconds=t - STEP)
    changes, t = _feed(tracker, covered, 30.0, t)
    assert changes == []  # raised once, not per check
    changes, t = _feed(tracker, NORMAL, (POLICY.clear_checks - 1) * STEP, t)
    assert changes == []
    changes, _ = _feed(tracker, NORMAL, STEP, t)
    assert [(c.kind, c.state) for c in changes] == [("covered", "cleared")]
    assert tracker.state == "ok"


def test_a_short_burst_raises_nothing() -> None:
    tracker, t = _learned()
    for _ in range(20):
        changes, t = _feed(tracker, replace(NORMAL, sharpness=0.05), 2 * STEP, t)
        assert changes == []
        changes, t = _feed(tracker, NORMAL, STEP, t)
        assert changes == []


def test_moved_needs_a_longer_streak_so_a_passing_bus_does_not_alarm() -> None:
    tracker, t = _learned()
    bus = replace(NORMAL, match=0.1)
    changes, t = _feed(tracker, bus, (POLICY.moved_checks - 1) * STEP, t)
    assert changes == []
    changes, t = _feed(tracker, NORMAL, 5.0, t)
    assert changes == []
    changes, _ = _feed(tracker, bus, POLICY.moved_checks * STEP, t)
    assert [(c.kind, c.state) for c in changes] == [("moved", "raised")]


def test_a_slow_brightness_ramp_is_followed_not_raised() -> None:
    tracker, t = _learned()
    changes: list[TamperChange] = []
    for step in range(3600):  # 30 minutes: dusk, the scene darkens and loses contrast
        k = 1.0 - 0.85 * step / 3600
        dusk = replace(NORMAL, mean=120.0 * k, std=50.0 * k, sharpness=0.36 + 0.2 * step / 3600)
        changes += tracker.update(dusk, T0 + timedelta(seconds=t))
        t += STEP
    assert changes == []
    assert tracker.baseline.mean < 60.0  # the baseline followed


def test_noise_frames_are_raised_and_learning_ignores_tamper() -> None:
    tracker, t = _learned()
    noise = TamperFeatures(mean=127.0, std=25.0, sharpness=1.9, autocorr=0.0, match=0.0)
    changes, t = _feed(tracker, noise, 10.0, t)
    assert [(c.kind, c.state) for c in changes] == [("noise", "raised")]
    assert tracker.baseline.autocorr > 0.9  # nothing of the tampered view was learned


def test_a_mixed_streak_raises_its_most_frequent_kind() -> None:
    tracker, t = _learned()
    changes: list[TamperChange] = []
    covered, blurred = replace(NORMAL, flat=0.9), replace(NORMAL, sharpness=0.05)
    for features in (covered, blurred, covered, covered, blurred, covered):
        changes += tracker.update(features, T0 + timedelta(seconds=t))
        t += STEP
    assert [(c.kind, c.state) for c in changes] == [("covered", "raised")]


def test_a_moved_view_held_long_enough_becomes_normal() -> None:
    policy = TamperPolicy(accept_after_s=60.0)
    tracker, t = _learned(policy)
    changes, t = _feed(tracker, replace(NORMAL, match=0.05), 70.0, t)
    assert [(c.kind, c.state) for c in changes] == [("moved", "raised"), ("moved", "cleared")]
    assert tracker.state == "learning"


def test_frozen_counts_frame_time_and_clears_on_change() -> None:
    tracker, t = _learned()
    changes, t = _feed(tracker, replace(NORMAL, still=True), 12.0, t)
    assert [(c.kind, c.state) for c in changes] == [("frozen", "raised")]
    raised_after = (changes[0].at - T0).total_seconds() - (t - 12.0)
    assert POLICY.frozen_s <= raised_after <= POLICY.frozen_s + POLICY.raise_checks * STEP
    changes, _ = _feed(tracker, NORMAL, 5.0, t)
    assert [(c.kind, c.state) for c in changes] == [("frozen", "cleared")]


def test_time_going_back_is_tolerated() -> None:
    tracker, _ = _learned()
    assert tracker.update(NORMAL, T0) == []
    assert tracker.state == "ok"


@pytest.mark.parametrize(
    "changes",
    [{"raise_checks": 0}, {"adapt_s": 0.0}, {"learn_s": -1.0}, {"accept_after_s": 0.0}],
    ids=["raise", "adapt", "learn", "accept"],
)
def test_policy_rejects_bad_values(changes: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        replace(POLICY, **changes)  # type: ignore[arg-type]
