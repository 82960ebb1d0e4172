"""The erasure store: the deletions privacy requests need that no repository offers.

Events and the workstation decision history are append-only for everyone
else; a privacy request (``argus.services.privacy``) is the one caller that
deletes from them, by camera and time range or by face subject. Each method
is one transaction. ``delete_events`` also takes the erased events out of the
count rollups in the same transaction, so analytics never count erased events.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from argus.domain.workstations import DecisionRecord

__all__ = ["ERASE_BATCH", "ErasureStore"]

ERASE_BATCH = 1000
"""Rows one erasure transaction deletes at most, so ingest is never blocked for long."""


class ErasureStore(Protocol):
    """Deletes events and decision records for privacy requests."""

    async def delete_events(
        self,
        camera_id: str,
        since: datetime,
        until: datetime,
        *,
        keep: Collection[str] = (),
        limit: int = ERASE_BATCH,
    ) -> int:
        """Delete at most ``limit`` events of ``camera_id`` in ``[since, until)``.

        Events whose id is in ``keep`` stay. Returns how many were deleted (fewer
        than ``limit``: none are left to delete).

        Raises:
            ValidationError: ``since`` or ``until`` is naive, or ``limit`` is not positive.
        """
        ...

    async def subject_decisions(self, subject_id: str) -> tuple[DecisionRecord, ...]:
        """Every decision record naming ``subject_id``, oldest first."""
        ...

    async def delete_decisions(self, ids: Collection[str]) -> int:
        """Delete these decision records (unknown ids are skipped); return how many went."""
        ...
