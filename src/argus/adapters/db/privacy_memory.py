"""The erasure store over the memory database's dicts (see ``ErasureStore``)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from argus.adapters.db.scene_memory import MemoryState
from argus.adapters.db.workstations_memory import MemoryDecisionRepository
from argus.domain.checks import aware_utc
from argus.domain.errors import ValidationError
from argus.domain.workstations import DecisionRecord
from argus.ports.privacy import ERASE_BATCH

__all__ = ["MemoryErasureStore"]


class MemoryErasureStore:
    """Deletes from the memory event dict and decision history (see ``ErasureStore``).

    Args:
        state: The scene and event tables.
        decisions: The decision history (its records dict is shared, not copied).
    """

    def __init__(self, state: MemoryState, decisions: MemoryDecisionRepository) -> None:
        self._state = state
        # The decision repository is append-only to everyone else; the erasure store is
        # its one deleter, so it reaches the dict behind it rather than widening that port.
        self._decisions: dict[str, DecisionRecord] = decisions._records

    async def delete_events(
        self,
        camera_id: str,
        since: datetime,
        until: datetime,
        *,
        keep: Collection[str] = (),
        limit: int = ERASE_BATCH,
    ) -> int:
        self._state.check()
        since, until = aware_utc(since, "since"), aware_utc(until, "until")
        if limit < 1:
            raise ValidationError(f"limit must be positive, got {limit}")
        kept = set(keep)
        doomed = [
            e.event_id
            for e in self._state.events.values()
            if e.source.camera_id == camera_id
            and since <= e.timestamp < until
            and e.event_id not in kept
        ][:limit]
        for event_id in doomed:
            del self._state.events[event_id]
        return len(doomed)

    async def subject_decisions(self, subject_id: str) -> tuple[DecisionRecord, ...]:
        self._state.check()
        found = [r for r in self._decisions.values() if r.subject == subject_id]
        return tuple(sorted(found, key=lambda r: (r.at, r.id)))

    async def delete_decisions(self, ids: Collection[str]) -> int:
        self._state.check()
        gone = 0
        for record_id in set(ids):
            if self._decisions.pop(record_id, None) is not None:
                gone += 1
        return gone
