"""Search forgets what privacy erasure and retention delete.

``PrivacyService.erase_range`` and ``RetentionSweeper.sweep`` call a
:class:`~argus.ports.search_items.SearchErasure` after their deletes, so a
search in words never returns an erased or expired event, alert or incident.

* Events go by the same rule their rows went by: a camera's events in
  ``[since, until)`` (erasure) or every event before the events cutoff
  (retention), except the held ones. Per-minute summaries are never indexed.
* Alerts and incidents are swept by rules their search items do not carry
  (an alert's state and creation time, an incident's status and last
  update), so the items older than the cutoff (plus a day's margin: an
  alert's event may be stamped after its creation by a skewed edge clock)
  are checked against the store one by one and forgotten when gone. Open,
  held or recent ones stay.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import datetime, timedelta

from argus.domain.errors import NotFoundError
from argus.ports.repositories import Database
from argus.ports.search_items import MAX_FIND, ItemFilter, ItemKind, SearchItemStore

__all__ = ["SearchUpkeep"]

log = logging.getLogger(__name__)

_MARGIN = timedelta(days=1)
_PAGE = 500


class SearchUpkeep:
    """A :class:`~argus.ports.search_items.SearchErasure` over the search item store.

    Args:
        items: The search items (the store the indexer writes).
        database: The store whose events, alerts and incidents the items describe.
    """

    def __init__(self, items: SearchItemStore, database: Database) -> None:
        self._items = items
        self._db = database

    async def erase_range(
        self, camera_id: str, since: datetime, until: datetime, keep: Collection[str]
    ) -> int:
        """Forget a camera's events in ``[since, until)`` except ``keep``; how many."""
        where = ItemFilter(since=since, until=until, camera_ids=(camera_id,), kinds=("event",))
        return await self._items.purge(where, keep=keep)

    async def sweep(self, cutoffs: Mapping[str, datetime], keep_events: Collection[str]) -> int:
        """Forget the items of what a sweep with these cutoffs deleted; how many.

        Args:
            cutoffs: The cutoff of each retention kind swept (``events``,
                ``alerts``, ``incidents``; others are ignored).
            keep_events: Event ids the sweep kept (legal holds).
        """
        removed = 0
        if "events" in cutoffs:
            where = ItemFilter(until=cutoffs["events"], kinds=("event",))
            removed += await self._items.purge(where, keep=keep_events)
        if "alerts" in cutoffs:
            removed += await self._forget_missing("alert", cutoffs["alerts"], self._alert_gone)
        if "incidents" in cutoffs:
            removed += await self._forget_missing(
                "incident", cutoffs["incidents"], self._incident_gone
            )
        return removed

    async def _alert_gone(self, alert_id: str) -> bool:
        try:
            await self._db.alerts.get(alert_id)
        except NotFoundError:
            return True
        return False

    async def _incident_gone(self, incident_id: str) -> bool:
        try:
            await self._db.incidents.get(incident_id)
        except NotFoundError:
            return True
        return False

    async def _forget_missing(
        self, kind: ItemKind, cutoff: datetime, gone: Callable[[str], Awaitable[bool]]
    ) -> int:
        removed, after = 0, ""
        while True:
            ids = await self._items.item_ids(
                kind, until=cutoff + _MARGIN, after=after, limit=min(_PAGE, MAX_FIND)
            )
            doomed = [item_id for item_id in ids if await gone(item_id)]
            if doomed:
                await self._items.remove(kind, doomed)
                removed += len(doomed)
            if len(ids) < _PAGE:
                if removed:
                    log.info("search: forgot %d %s items deleted by retention", removed, kind)
                return removed
            after = ids[-1]
