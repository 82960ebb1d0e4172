"""A work budget: how many expensive operations may run at once, per principal and in all.

A request rate limit counts requests, not their cost: forty year-long
analytics queries fit in any request budget and still hold forty database
connections. ``WorkBudget`` bounds the *concurrent* expensive operations
instead: each principal (user or API key) may run ``per_principal`` at once
and the server ``total``, so analytics can never take the connections that
sign-in, alerts and ingest need. An operation over budget is refused at once
with ``RateLimitedError`` (429 with ``Retry-After``) rather than queued, so a
flood costs the server nothing. Slots live in this process, like the other
limits: several servers each enforce their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from argus.domain.errors import ConfigError, RateLimitedError

__all__ = ["WorkBudget"]


class WorkBudget:
    """Concurrent slots per key, and in all.

    Args:
        per_principal: Operations one key may run at once.
        total: Operations all keys together may run at once.
        what: Names the operations in errors ("analytics queries").
        retry_after: Seconds a refused caller is told to wait.
    """

    def __init__(
        self,
        per_principal: int,
        total: int,
        *,
        what: str = "expensive requests",
        retry_after: float = 1.0,
    ) -> None:
        if per_principal < 1 or total < per_principal or retry_after <= 0:
            raise ConfigError("a work budget needs 1 <= per_principal <= total and retry_after > 0")
        self.per_principal = per_principal
        self.total = total
        self.retry_after = retry_after
        self._what = what
        self._running: dict[str, int] = {}
        self._all = 0

    def running(self, key: str | None = None) -> int:
        """Operations running now: of ``key``, or of everyone when ``key`` is ``None``."""
        return self._all if key is None else self._running.get(key, 0)

    @contextmanager
    def slot(self, key: str) -> Iterator[None]:
        """Hold one of ``key``'s slots while the block runs.

        Raises:
            RateLimitedError: ``key`` already runs ``per_principal`` operations,
                or the server ``total``; nothing was taken.
        """
        mine = self._running.get(key, 0)
        if mine >= self.per_principal:
            raise RateLimitedError(
                f"too many {self._what} at once: at most {self.per_principal} per user or key; "
                f"retry in {self.retry_after:.0f} s",
                self.retry_after,
            )
        if self._all >= self.total:
            raise RateLimitedError(
                f"the server is busy with {self._what}; retry in {self.retry_after:.0f} s",
                self.retry_after,
            )
        # Single-threaded event loop: no await between the check and the take.
        self._running[key] = mine + 1
        self._all += 1
        try:
            yield
        finally:
            self._all -= 1
            left = self._running[key] - 1
            if left:
                self._running[key] = left
            else:
                del self._running[key]
