"""``DispatchPolicy``: how the notification outbox is delivered (retries, breaker, leases).

Pure values: the dispatcher (``services.notify_dispatch``) applies them.
Retry delays are exponential with full jitter (the AWS "Exponential Backoff
And Jitter" scheme, ``domain.backoff``): after failed attempt ``n`` the next
one waits ``uniform(0, min(max_delay, initial * multiplier ** (n - 1)))``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from argus.domain.backoff import Backoff, BackoffPolicy, RandomSource
from argus.domain.errors import ValidationError
from argus.domain.notify.breaker import BreakerPolicy

__all__ = ["DispatchPolicy"]


@dataclass(frozen=True, slots=True)
class DispatchPolicy:
    """How the outbox is delivered.

    Attributes:
        max_attempts: Attempts before an item is dead-lettered.
        backoff: Retry delays (full jitter: ``uniform(0, initial * 2**(n-1))``, capped).
        breaker: When a channel's breaker opens and for how long.
        lease_s: Seconds a claimed item is held; a delivery is cut off before it ends.
        poll_s: Seconds between passes when nothing wakes the dispatcher.
        batch: Most items claimed for one channel in one pass.
        channel_concurrency: Deliveries in flight at once on one channel.
    """

    max_attempts: int = 8
    backoff: BackoffPolicy = field(default_factory=lambda: BackoffPolicy(5.0, 900.0))
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    lease_s: float = 120.0
    poll_s: float = 1.0
    batch: int = 100
    channel_concurrency: int = 4

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValidationError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if not 0 < self.poll_s < self.lease_s:
            raise ValidationError("poll_s must be > 0 and shorter than lease_s")
        if self.batch < 1 or self.channel_concurrency < 1:
            raise ValidationError("batch and channel_concurrency must be >= 1")

    def retry_delay(self, attempt: int, rng: RandomSource) -> float:
        """Seconds before retrying after failed attempt number ``attempt`` (1-based)."""
        ceiling = self.backoff.initial
        for _ in range(attempt - 1):
            ceiling = min(self.backoff.max_delay, ceiling * self.backoff.multiplier)
        return Backoff(
            BackoffPolicy(ceiling, ceiling, 1.0, self.backoff.jitter), rng=rng
        ).next_delay()
