"""Token buckets that charge a batch: all of its tokens or none, on an injected clock."""

from __future__ import annotations

import pytest

from argus.domain.errors import RateLimitedError
from argus.services.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_batch_takes_all_its_tokens_or_none() -> None:
    clock = Clock()
    limiter = RateLimiter(2.0, 10, what="events from this key", clock=clock)
    limiter.hit("apikey:a", 8)
    with pytest.raises(RateLimitedError, match="events from this key") as refused:
        limiter.hit("apikey:a", 5)
    assert refused.value.retry_after == pytest.approx(1.5)  # 3 tokens short at 2 per second
    limiter.hit("apikey:a", 2)  # the refused batch took nothing
    limiter.hit("apikey:b", 10)  # every key has its own bucket
    clock.now += 1.5
    limiter.hit("apikey:a", 3)


@pytest.mark.parametrize("cost", [0, -1, 11], ids=["zero", "negative", "over-burst"])
def test_a_cost_that_could_never_be_paid_is_a_value_error(cost: int) -> None:
    limiter = RateLimiter(1.0, 10, clock=Clock())
    with pytest.raises(ValueError, match="cost"):
        limiter.hit("k", cost)
