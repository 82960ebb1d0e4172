"""Exponential backoff with jitter: bounds, growth, reset, injected randomness."""

from __future__ import annotations

import math
import random

import pytest

from argus.domain.backoff import Backoff, BackoffPolicy, Jitter
from argus.domain.errors import ValidationError


class ExtremeRandom:
    """A random source that always answers the top (or bottom) of the range."""

    def __init__(self, *, top: bool) -> None:
        self.top = top
        self.calls: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float, /) -> float:
        self.calls.append((a, b))
        return b if self.top else a


def delays(backoff: Backoff, count: int) -> list[float]:
    return [backoff.next_delay() for _ in range(count)]


def test_no_jitter_doubles_up_to_the_cap() -> None:
    backoff = Backoff(BackoffPolicy(initial=0.5, max_delay=5.0, jitter=Jitter.NONE))
    assert delays(backoff, 7) == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert backoff.attempts == 7


def test_full_jitter_draws_below_the_exponential_ceiling() -> None:
    rng = ExtremeRandom(top=True)
    backoff = Backoff(BackoffPolicy(initial=1.0, max_delay=10.0, multiplier=3.0), rng=rng)
    assert delays(backoff, 5) == [1.0, 3.0, 9.0, 10.0, 10.0]
    assert all(low == 0.0 for low, _ in rng.calls)


def test_full_jitter_can_draw_zero() -> None:
    backoff = Backoff(BackoffPolicy(initial=1.0), rng=ExtremeRandom(top=False))
    assert delays(backoff, 3) == [0.0, 0.0, 0.0]


def test_decorrelated_jitter_grows_from_the_previous_delay() -> None:
    rng = ExtremeRandom(top=True)
    policy = BackoffPolicy(initial=1.0, max_delay=20.0, multiplier=3.0, jitter=Jitter.DECORRELATED)
    backoff = Backoff(policy, rng=rng)
    assert delays(backoff, 5) == [3.0, 9.0, 20.0, 20.0, 20.0]
    assert rng.calls[:2] == [(1.0, 3.0), (1.0, 9.0)]


def test_decorrelated_jitter_never_goes_below_initial() -> None:
    policy = BackoffPolicy(initial=0.5, max_delay=4.0, jitter=Jitter.DECORRELATED)
    backoff = Backoff(policy, rng=ExtremeRandom(top=False))
    assert delays(backoff, 4) == [0.5, 0.5, 0.5, 0.5]


@pytest.mark.parametrize("jitter", list(Jitter), ids=lambda j: j.value)
def test_delays_stay_within_bounds_with_a_real_random_source(jitter: Jitter) -> None:
    policy = BackoffPolicy(initial=0.1, max_delay=2.0, jitter=jitter)
    backoff = Backoff(policy, rng=random.Random(1234))
    values = delays(backoff, 500)
    assert all(0.0 <= value <= 2.0 for value in values)
    if jitter is Jitter.DECORRELATED:
        assert min(values) >= 0.1


def test_same_seed_gives_same_delays() -> None:
    first = delays(Backoff(rng=random.Random(7)), 20)
    second = delays(Backoff(rng=random.Random(7)), 20)
    assert first == second


def test_reset_after_success_starts_small_again() -> None:
    backoff = Backoff(BackoffPolicy(initial=0.5, max_delay=8.0, jitter=Jitter.NONE))
    delays(backoff, 6)
    backoff.reset()
    assert backoff.attempts == 0
    assert backoff.next_delay() == 0.5


def test_many_failures_do_not_overflow() -> None:
    policy = BackoffPolicy(initial=1.0, max_delay=60.0, multiplier=1000.0, jitter=Jitter.NONE)
    backoff = Backoff(policy)
    for _ in range(10_000):
        delay = backoff.next_delay()
    assert delay == 60.0


def test_default_policy_suits_a_camera() -> None:
    backoff = Backoff()
    assert backoff.policy == BackoffPolicy(0.5, 30.0, 2.0, Jitter.FULL)
    assert 0.0 <= backoff.next_delay() <= 0.5


@pytest.mark.parametrize(
    ("initial", "max_delay", "multiplier"),
    [
        (0.0, 1.0, 2.0),
        (-1.0, 1.0, 2.0),
        (math.nan, 1.0, 2.0),
        (2.0, 1.0, 2.0),
        (1.0, math.inf, 2.0),
        (1.0, 2.0, 0.5),
        (1.0, 2.0, math.nan),
    ],
    ids=[
        "zero-initial",
        "negative-initial",
        "nan-initial",
        "max-below-initial",
        "infinite-max",
        "shrinking",
        "nan-multiplier",
    ],
)
def test_invalid_policies_are_refused(initial: float, max_delay: float, multiplier: float) -> None:
    with pytest.raises(ValidationError):
        BackoffPolicy(initial=initial, max_delay=max_delay, multiplier=multiplier)
