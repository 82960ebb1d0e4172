"""A circuit breaker per notification channel: closed, open, half-open.

A channel whose server is down must not hold up alerting or the other
channels, nor be hammered by every pending notification while it is down.
The breaker watches the outcome of each delivery to one channel:

* **closed**: deliveries go out; ``threshold`` failures in a row open it;
* **open**: nothing goes out (the dispatcher leaves the channel's
  notifications pending, untouched, so no attempt is spent) until
  ``cooldown_s`` has passed since it opened;
* **half-open**: one probe delivery goes out; success closes the breaker,
  failure opens it again for a cool-down twice as long (up to
  ``max_cooldown_s``), so a server that stays down is probed less and less.

Pure: the monotonic clock is injected, nothing sleeps or does I/O here. Only
failures that say something about the channel count (a refused connection, a
timeout, a 5xx); a permanent refusal of one message (a bad recipient, a 4xx)
is the message's fault and counts as a success of the channel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from argus.domain.errors import ValidationError

__all__ = ["BreakerPolicy", "BreakerState", "Breakers", "CircuitBreaker"]

BreakerState = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a breaker opens and how long it stays open.

    Attributes:
        threshold: Failures in a row that open a closed breaker (>= 1).
        cooldown_s: Seconds an open breaker waits before its first probe (> 0).
        max_cooldown_s: Longest wait after repeated failed probes (>= cooldown_s).
    """

    threshold: int = 3
    cooldown_s: float = 30.0
    max_cooldown_s: float = 600.0

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValidationError(f"breaker threshold must be >= 1, got {self.threshold}")
        if not (math.isfinite(self.cooldown_s) and self.cooldown_s > 0):
            raise ValidationError(f"breaker cool-down must be > 0, got {self.cooldown_s}")
        if not (math.isfinite(self.max_cooldown_s) and self.max_cooldown_s >= self.cooldown_s):
            raise ValidationError(
                f"breaker max cool-down must be >= {self.cooldown_s}, got {self.max_cooldown_s}"
            )


class CircuitBreaker:
    """The breaker of one channel.

    Args:
        policy: Threshold and cool-downs.
        clock: Monotonic seconds (``time.monotonic`` in production).
    """

    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float]) -> None:
        self._policy = policy
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._cooldown = policy.cooldown_s
        self._probing = False
        self.opened_count = 0
        """How many times it opened (metrics, tests)."""
        self.last_error: str | None = None
        """The failure that opened it, or the latest one while closed."""

    @property
    def state(self) -> BreakerState:
        """The state now: an open breaker whose cool-down has passed is half-open."""
        if self._opened_at is None:
            return "closed"
        if self._probing or self._clock() - self._opened_at >= self._cooldown:
            return "half_open"
        return "open"

    @property
    def blocking(self) -> bool:
        """Whether nothing may go out now (open, or half-open with its probe out)."""
        return self.state == "open" or self._probing

    @property
    def retry_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 otherwise)."""
        if self._opened_at is None or self._probing:
            return 0.0
        return max(0.0, self._opened_at + self._cooldown - self._clock())

    def allow(self) -> bool:
        """Whether one delivery may go out now; a half-open breaker lets one probe out.

        The probe slot is taken by this call and freed by ``success`` or ``failure``.
        """
        state = self.state
        if state == "closed":
            return True
        if state == "open" or self._probing:
            return False
        self._probing = True
        return True

    def success(self) -> None:
        """A delivery went through: the breaker closes and forgets past failures."""
        self._failures = 0
        self._opened_at = None
        self._probing = False
        self._cooldown = self._policy.cooldown_s
        self.last_error = None

    def failure(self, error: str) -> None:
        """A delivery failed for a reason of the channel (refused, timed out, 5xx)."""
        self.last_error = error
        if self._opened_at is not None:
            # A failed probe (or a late failure of a delivery started while closed).
            if self._probing:
                self._cooldown = min(self._policy.max_cooldown_s, self._cooldown * 2)
            self._probing = False
            self._opened_at = self._clock()
            return
        self._failures += 1
        if self._failures >= self._policy.threshold:
            self._opened_at = self._clock()
            self.opened_count += 1

    def release(self) -> None:
        """Give back a probe slot taken by ``allow`` that was not used (nothing was sent)."""
        self._probing = False


class Breakers:
    """One ``CircuitBreaker`` per channel id, made on first use.

    Args:
        policy: The policy of every breaker.
        clock: Monotonic seconds.
    """

    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float]) -> None:
        self._policy = policy
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}

    def of(self, channel_id: str) -> CircuitBreaker:
        """The breaker of ``channel_id``."""
        breaker = self._breakers.get(channel_id)
        if breaker is None:
            breaker = self._breakers[channel_id] = CircuitBreaker(self._policy, self._clock)
        return breaker

    def blocked(self) -> list[str]:
        """Channels whose breaker lets nothing out now (open, or half-open with a probe out)."""
        return [channel for channel, breaker in self._breakers.items() if breaker.blocking]

    def states(self) -> Mapping[str, BreakerState]:
        """The state of every channel's breaker seen so far."""
        return {channel: breaker.state for channel, breaker in self._breakers.items()}

    def forget(self, keep: set[str]) -> None:
        """Drop the breakers of channels not in ``keep`` (deleted channels)."""
        for channel in [c for c in self._breakers if c not in keep]:
            del self._breakers[channel]
