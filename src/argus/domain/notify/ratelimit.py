"""Per-channel rate limits: a token bucket per channel, refilled per minute.

Each channel has its own limit (``Channel.rate_per_minute``), which an
administrator may change at any time, so the rate is passed with each call
rather than fixed per limiter (``services/ratelimit.RateLimiter`` has one
rate for every key). A bucket holds up to ``rate_per_minute`` tokens (a burst
of one minute's worth) and refills continuously. A notification over the
limit is not refused: it stays pending and goes out when ``wait`` says, so a
storm is spread out, never dropped. Pure: the monotonic clock is injected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from argus.domain.errors import ValidationError

__all__ = ["ChannelRateLimits"]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class ChannelRateLimits:
    """Token buckets by channel id.

    Args:
        clock: Monotonic seconds.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, channel_id: str, rate_per_minute: int) -> _Bucket:
        if rate_per_minute < 1:
            raise ValidationError(f"a rate limit must be >= 1 per minute, got {rate_per_minute}")
        now = self._clock()
        bucket = self._buckets.get(channel_id)
        if bucket is None:
            bucket = self._buckets[channel_id] = _Bucket(float(rate_per_minute), now)
            return bucket
        refill = (now - bucket.stamp) * rate_per_minute / 60.0
        # A lowered limit caps what is already in the bucket too.
        bucket.tokens = min(float(rate_per_minute), bucket.tokens + refill)
        bucket.stamp = now
        return bucket

    def wait(self, channel_id: str, rate_per_minute: int) -> float:
        """Seconds until ``channel_id`` may send one more message (0: now)."""
        bucket = self._bucket(channel_id, rate_per_minute)
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) * 60.0 / rate_per_minute

    def take(self, channel_id: str, rate_per_minute: int) -> bool:
        """Take one token if there is one; ``False`` (nothing taken) when over the limit."""
        bucket = self._bucket(channel_id, rate_per_minute)
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def give_back(self, channel_id: str) -> None:
        """Return a token taken for a message that was not sent after all."""
        bucket = self._buckets.get(channel_id)
        if bucket is not None:
            bucket.tokens += 1
