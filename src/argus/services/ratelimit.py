"""Token-bucket rate limits by key (client IP, user, login name).

Each key has a bucket of ``burst`` tokens refilled at ``rate`` per second; a
request takes one token or is refused with the seconds until one is back.
Buckets live in this process: with several servers behind a balancer each
enforces its own share. Idle buckets are forgotten so memory stays bounded.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from argus.domain.errors import ConfigError, RateLimitedError

__all__ = ["RateLimiter"]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Per-key token buckets.

    Args:
        rate: Tokens added per second.
        burst: Bucket size (the most requests at once).
        what: Names the limit in errors ("requests from this address").
        clock: Monotonic seconds (injectable for tests).
        max_keys: Buckets kept; the least recently used go first.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        what: str = "requests",
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ConfigError("a rate limit needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._what = what
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def _bucket(self, key: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        self._buckets[key] = bucket
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return bucket

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may make a request (0 when it may now)."""
        bucket = self._bucket(key)
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / self.rate

    def hit(self, key: str, cost: int = 1) -> None:
        """Take ``cost`` tokens for ``key``, all of them or none.

        Raises:
            RateLimitedError: The bucket holds fewer than ``cost`` tokens (none are
                taken); ``retry_after`` says how long until it holds enough.
            ValueError: ``cost`` is not in [1, burst] (it could never be paid).
        """
        if not 1 <= cost <= self.burst:
            raise ValueError(f"a cost must be in [1, {self.burst}], got {cost}")
        bucket = self._bucket(key)
        if bucket.tokens < cost:
            wait = (cost - bucket.tokens) / self.rate
            raise RateLimitedError(f"too many {self._what}; retry in {math.ceil(wait)} s", wait)
        bucket.tokens -= cost

    def reset(self, key: str) -> None:
        """Forget ``key``'s bucket (a full one next time)."""
        self._buckets.pop(key, None)
