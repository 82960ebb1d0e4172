"""Exponential backoff with jitter, for reconnecting to cameras and servers.

Pure: the random source is injected, nothing sleeps here. A caller asks
``Backoff.next_delay()`` after each failure, waits that long itself, and calls
``Backoff.reset()`` once an attempt succeeds::

    backoff = Backoff(BackoffPolicy(initial=0.5, max_delay=30.0))
    while not connected():
        stop_event.wait(backoff.next_delay())
    backoff.reset()

Jitter spreads the retries of many clients that failed together (a switch
reboot drops every camera at once) so they do not reconnect in lock step. The
two schemes are the ones described in the AWS Architecture Blog post
"Exponential Backoff And Jitter":

* full jitter: ``uniform(0, min(max_delay, initial * multiplier ** n))``;
* decorrelated jitter: ``min(max_delay, uniform(initial, previous * multiplier))``.
"""

from __future__ import annotations

import enum
import math
import random
from dataclasses import dataclass
from typing import Protocol

from argus.domain.errors import ValidationError

__all__ = ["Backoff", "BackoffPolicy", "Jitter", "RandomSource"]


class Jitter(enum.Enum):
    """How a delay is randomised below its exponential ceiling."""

    NONE = "none"
    FULL = "full"
    DECORRELATED = "decorrelated"


class RandomSource(Protocol):
    """The one method of ``random.Random`` that backoff needs."""

    def uniform(self, a: float, b: float, /) -> float:
        """Return a random float between ``a`` and ``b``."""
        ...


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Parameters of an exponential backoff.

    Attributes:
        initial: Delay ceiling of the first retry, in seconds (> 0).
        max_delay: Upper bound of every delay, in seconds (>= initial).
        multiplier: Growth factor of the ceiling per failure (>= 1).
        jitter: How delays are randomised.
    """

    initial: float = 0.5
    max_delay: float = 30.0
    multiplier: float = 2.0
    jitter: Jitter = Jitter.FULL

    def __post_init__(self) -> None:
        if not (math.isfinite(self.initial) and self.initial > 0):
            raise ValidationError(f"backoff initial delay must be > 0, got {self.initial}")
        if not (math.isfinite(self.max_delay) and self.max_delay >= self.initial):
            raise ValidationError(
                f"backoff max_delay must be finite and >= initial ({self.initial}), "
                f"got {self.max_delay}"
            )
        if not (math.isfinite(self.multiplier) and self.multiplier >= 1):
            raise ValidationError(f"backoff multiplier must be >= 1, got {self.multiplier}")


class Backoff:
    """The running state of one backoff: how many failures in a row, what came last.

    Args:
        policy: Parameters; the defaults suit a live camera.
        rng: Source of randomness; a fresh ``random.Random`` when ``None``.
            Tests pass a seeded ``random.Random`` or a fake.
    """

    def __init__(self, policy: BackoffPolicy | None = None, *, rng: RandomSource | None = None):
        self._policy = policy or BackoffPolicy()
        # Jitter only spreads reconnects in time; it needs no cryptographic strength.
        self._rng: RandomSource = rng if rng is not None else random.Random()  # noqa: S311
        self._attempts = 0
        self._ceiling = self._policy.initial
        self._previous = self._policy.initial

    @property
    def policy(self) -> BackoffPolicy:
        """The parameters in use."""
        return self._policy

    @property
    def attempts(self) -> int:
        """Delays handed out since the last reset (failures in a row)."""
        return self._attempts

    def next_delay(self) -> float:
        """Record one more failure and return how long to wait before the next try.

        Returns:
            Seconds in ``[0, policy.max_delay]``.
        """
        policy = self._policy
        if policy.jitter is Jitter.DECORRELATED:
            upper = min(policy.max_delay, self._previous * policy.multiplier)
            delay = self._rng.uniform(policy.initial, max(policy.initial, upper))
            self._previous = delay
        elif policy.jitter is Jitter.FULL:
            delay = self._rng.uniform(0.0, self._ceiling)
        else:
            delay = self._ceiling
        # Grown step by step, so the ceiling never overflows however many failures.
        self._ceiling = min(policy.max_delay, self._ceiling * policy.multiplier)
        self._attempts += 1
        return min(max(delay, 0.0), policy.max_delay)

    def reset(self) -> None:
        """Forget past failures after a success; the next delay is short again."""
        self._attempts = 0
        self._ceiling = self._policy.initial
        self._previous = self._policy.initial
