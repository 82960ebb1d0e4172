"""``EvidenceRetention``: the hourly sweep that deletes evidence past its retention."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from argus.services.background import TaskGroup

__all__ = ["RETENTION_INTERVAL", "EvidenceRetention"]

log = logging.getLogger(__name__)

RETENTION_INTERVAL = 3600.0
"""Seconds between sweeps for evidence past its retention."""

Purge = Callable[[float], Awaitable[int]]
"""Deletes unlocked evidence older than the given days; returns how many items it deleted
(``EvidenceService.purge_expired``)."""


class EvidenceRetention:
    """Deletes unlocked evidence older than ``days``, at start and every ``interval`` seconds.

    Args:
        purge: The evidence service's sweep.
        days: How long evidence is kept.
        interval: Seconds between two sweeps.
    """

    def __init__(self, purge: Purge, days: float, *, interval: float = RETENTION_INTERVAL) -> None:
        self._purge = purge
        self._days = days
        self._interval = interval
        self._tasks = TaskGroup()

    def start(self) -> None:
        """Start sweeping in the background (once)."""
        self._tasks.start(("argus-retention", self._run))

    async def stop(self) -> None:
        """Stop sweeping (a sweep under way is cancelled)."""
        await self._tasks.stop()

    async def _run(self) -> None:
        while True:
            await self.sweep()
            await asyncio.sleep(self._interval)

    async def sweep(self) -> int:
        """Delete what is past its retention now; log, never raise, a failure.

        Returns:
            How many items were deleted (0 when the sweep failed).
        """
        try:
            purged = await self._purge(self._days)
        except Exception:  # the top of a task loop: log and try again next time
            log.exception("the evidence retention sweep failed")
            return 0
        if purged:
            log.info(
                "retention: deleted %d evidence item(s) older than %g days", purged, self._days
            )
        return purged
