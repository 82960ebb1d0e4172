"""The per-channel circuit breaker, rate limits and retry delays of notification delivery.

Pure: a fake monotonic clock that the test moves by hand, a seeded random source.
"""

from __future__ import annotations

import random

import pytest

from argus.domain.backoff import BackoffPolicy
from argus.domain.errors import ValidationError
from argus.domain.notify.breaker import BreakerPolicy, Breakers, CircuitBreaker
from argus.domain.notify.delivery import DispatchPolicy
from argus.domain.notify.ratelimit import ChannelRateLimits


class FakeClock:
    """Monotonic seconds that only move when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _state(breaker: CircuitBreaker) -> str:
    """The state, read through a call so that mypy does not narrow it across moves."""
    return breaker.state


def _blocking(breaker: CircuitBreaker) -> bool:
    return breaker.blocking


def _breaker(
    threshold: int = 3, cooldown: float = 10.0, most: float = 40.0
) -> tuple[CircuitBreaker, FakeClock]:
    clock = FakeClock()
    return CircuitBreaker(BreakerPolicy(threshold, cooldown, most), clock), clock


def test_opens_after_threshold_failures_in_a_row() -> None:
    breaker, _ = _breaker(threshold=3)
    for _ in range(2):
        assert breaker.allow()
        breaker.failure("refused")
    assert _state(breaker) == "closed"
    breaker.failure("refused")
    assert _state(breaker) == "open"
    assert not breaker.allow()
    assert _blocking(breaker)
    assert breaker.opened_count == 1
    assert breaker.last_error == "refused"


def test_a_success_resets_the_count() -> None:
    breaker, _ = _breaker(threshold=2)
    breaker.failure("x")
    breaker.success()
    breaker.failure("x")
    assert _state(breaker) == "closed"


def test_half_open_lets_exactly_one_probe_through() -> None:
    breaker, clock = _breaker(threshold=1, cooldown=10.0)
    breaker.failure("down")
    clock.now += 9.999
    assert _state(breaker) == "open"
    assert breaker.retry_in == pytest.approx(0.001)
    clock.now += 0.001
    assert _state(breaker) == "half_open"
    assert not _blocking(breaker)
    assert breaker.allow()
    assert _blocking(breaker)  # the probe is out
    assert not breaker.allow()
    breaker.success()
    assert _state(breaker) == "closed"
    assert breaker.allow()


def test_failed_probe_reopens_with_a_doubled_cooldown_up_to_the_maximum() -> None:
    breaker, clock = _breaker(threshold=1, cooldown=10.0, most=25.0)
    breaker.failure("down")
    waits = []
    for _ in range(3):
        clock.now += breaker.retry_in
        assert breaker.allow()
        breaker.failure("still down")
        assert _state(breaker) == "open"
        waits.append(breaker.retry_in)
    assert waits == [20.0, 25.0, 25.0]
    clock.now += 25.0
    assert breaker.allow()
    breaker.success()
    breaker.failure("down again")  # threshold 1: opens, with the first cool-down again
    assert breaker.retry_in == 10.0


def test_an_unused_probe_slot_is_given_back() -> None:
    breaker, clock = _breaker(threshold=1, cooldown=5.0)
    breaker.failure("down")
    clock.now += 5.0
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()


def test_breakers_by_channel_are_independent_and_forget_deleted_channels() -> None:
    clock = FakeClock()
    breakers = Breakers(BreakerPolicy(1, 10.0, 10.0), clock)
    breakers.of("smtp").failure("down")
    breakers.of("hook").success()
    assert breakers.states() == {"smtp": "open", "hook": "closed"}
    assert breakers.blocked() == ["smtp"]
    breakers.forget({"hook"})
    assert breakers.states() == {"hook": "closed"}


@pytest.mark.parametrize(
    ("threshold", "cooldown", "most"),
    [(0, 1.0, 1.0), (1, 0.0, 1.0), (1, 2.0, 1.0), (1, float("nan"), 1.0)],
    ids=["threshold", "cooldown", "max-below-cooldown", "nan"],
)
def test_bad_breaker_policies_are_refused(threshold: int, cooldown: float, most: float) -> None:
    with pytest.raises(ValidationError):
        BreakerPolicy(threshold, cooldown, most)


def test_rate_limit_allows_a_minute_burst_then_refills() -> None:
    clock = FakeClock()
    limits = ChannelRateLimits(clock)
    assert all(limits.take("a", 6) for _ in range(6))
    assert not limits.take("a", 6)
    assert limits.wait("a", 6) == pytest.approx(10.0)
    assert limits.take("b", 6)  # another channel has its own bucket
    clock.now += 10.0
    assert limits.take("a", 6)
    assert not limits.take("a", 6)
    limits.give_back("a")
    assert limits.take("a", 6)


def test_a_lowered_rate_caps_the_bucket() -> None:
    clock = FakeClock()
    limits = ChannelRateLimits(clock)
    assert limits.take("a", 100)
    assert limits.wait("a", 2) == 0.0
    assert limits.take("a", 2)
    assert limits.take("a", 2)
    assert not limits.take("a", 2)
    with pytest.raises(ValidationError):
        limits.take("a", 0)


def test_retry_delays_grow_exponentially_with_full_jitter_and_a_cap() -> None:
    policy = DispatchPolicy(backoff=BackoffPolicy(2.0, 30.0))
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (5, 30.0), (40, 30.0)]:
        delays = [policy.retry_delay(attempt, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole range: full jitter


@pytest.mark.parametrize(
    "changes",
    [{"max_attempts": 0}, {"poll_s": 0.0}, {"poll_s": 200.0}, {"batch": 0}],
    ids=["attempts", "poll", "poll-over-lease", "batch"],
)
def test_bad_dispatch_policies_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        DispatchPolicy(**changes)  # type: ignore[arg-type]
