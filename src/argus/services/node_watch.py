"""``NodeWatch``: marks silent edge nodes offline, and keeps their health history bounded.

Every server runs one. Every health interval it reads the nodes and marks
each one whose last report (by the server's receipt time; its registration
when it never reported) is older than three intervals offline, with
``set_offline``, a compare-and-set: of several servers sweeping at once only
one changes the flag, and only that one emits ``node.offline``. The event's
time is the moment the node became overdue (last report + three intervals) and
its id derives from it, so even a repeat would be stored once. The node comes
back (``node.online``) with its next report (``EdgeSyncIntake``).

Once a day (by the injected clock) it purges health reports older than
``retention_days`` (``None``: never; the control plane's retention sweep does, by
its editable policy). It also keeps the latest view of every node for the
metrics (``snapshot``), refreshed every sweep and by each report this server
takes a report from (``observe``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType

from argus.domain.cameras import utc_now
from argus.domain.codec import iso_z
from argus.domain.edge import EdgeNode
from argus.domain.errors import ArgusError
from argus.domain.events import Envelope
from argus.ports.bus import EventBus
from argus.ports.repositories import Database
from argus.services.background import TaskGroup
from argus.services.edge_sync_intake import state_event
from argus.services.intake import publish_stored

__all__ = ["MISSED_REPORTS", "NodeWatch"]

log = logging.getLogger(__name__)

MISSED_REPORTS = 3
"""Health intervals without a report after which a node is offline."""

_PURGE_EVERY = timedelta(days=1)


class NodeWatch:
    """The offline watch and the health retention sweep of edge nodes.

    Args:
        database: The store.
        bus: The event bus.
        subject: The subject events are published on.
        interval_s: Seconds between two health reports of a node (and two sweeps).
        retention_days: Days health reports are kept (``None``: this watch never purges).
        clock: The current UTC time.
        sleep: Waits between sweeps (tests pass a fake).
    """

    def __init__(
        self,
        database: Database,
        bus: EventBus,
        subject: str,
        *,
        interval_s: float,
        retention_days: float | None,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._db = database
        self._bus = bus
        self._subject = subject
        self._interval = interval_s
        self._retention = None if retention_days is None else timedelta(days=retention_days)
        self._clock = clock
        self._sleep = sleep
        self._tasks = TaskGroup()
        self._purged_at: datetime | None = None
        self._nodes: dict[str, EdgeNode] = {}

    @property
    def snapshot(self) -> Mapping[str, EdgeNode]:
        """The latest view of every node, by id (for the metrics)."""
        return MappingProxyType(self._nodes)

    def observe(self, node: EdgeNode) -> None:
        """Note a node as this server just updated it (the metrics see it before the next sweep)."""
        self._nodes[node.node_id] = node

    def start(self) -> None:
        """Start the sweeps (once)."""
        self._tasks.start(("argus-node-watch", self._run))

    async def stop(self) -> None:
        """Stop the sweeps."""
        await self._tasks.stop()

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
                await self.purge_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # the top of a task loop: log and sweep again next time
                log.exception("edge node sweep failed")
            await self._sleep(self._interval)

    async def sweep(self) -> list[str]:
        """Mark overdue nodes offline and emit ``node.offline``; the ids marked now."""
        now = self._clock()
        overdue = timedelta(seconds=MISSED_REPORTS * self._interval)
        nodes = await self._db.nodes.list()
        self._nodes = {n.node_id: n for n in nodes}
        marked: list[str] = []
        events: list[Envelope] = []
        for node in nodes:
            seen = node.last_seen_at or node.registered_at
            if node.offline or now - seen < overdue:
                continue
            if not await self._db.nodes.set_offline(node.node_id, True):
                continue  # another server marked it first
            marked.append(node.node_id)
            self._nodes[node.node_id] = _offline(node)
            at = seen + overdue
            since = {"last_seen_at": iso_z(seen)}
            events.append(state_event(node.node_id, "node.offline", at, iso_z(seen), payload=since))
            log.warning("edge node %s is offline: no report since %s", node.node_id, iso_z(seen))
        if events:
            await publish_stored(self._db.events, self._bus, self._subject, events)
        return marked

    async def purge_due(self) -> int:
        """Purge health reports past retention, at most once a day; how many went."""
        now = self._clock()
        if self._retention is None:
            return 0
        if self._purged_at is not None and now - self._purged_at < _PURGE_EVERY:
            return 0
        try:
            purged = await self._db.nodes.purge_reports(now - self._retention)
        except ArgusError:
            log.exception("purging old edge node health reports failed")
            return 0
        self._purged_at = now
        if purged:
            log.info("purged %d edge node health reports past retention", purged)
        return purged


def _offline(node: EdgeNode) -> EdgeNode:
    return replace(node, offline=True)
