"""The edge node store: registrations, health time series, and evidence links.

``Database.nodes`` is a ``NodeRepository``. Every method is one transaction
(nodes are not part of a unit of work). A node id is bound to the API key
that first registered it: re-registering updates what the node reports about
itself but never its key id, evidence key or registration time. Health
reports are stored once each (idempotent on ``report_id``), as a time series
with retention (``purge_reports``). ``set_offline`` is a compare-and-set, so
of several servers that see a node go silent (or come back) one wins.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Protocol, runtime_checkable

from argus.domain.edge import EdgeNode, NodeHealth

__all__ = ["NodeRepository"]


@runtime_checkable
class NodeRepository(Protocol):
    """Registered edge nodes, their health reports and their evidence links."""

    async def get(self, node_id: str) -> EdgeNode | None:
        """The node, or ``None`` when it never registered."""
        ...

    async def list(self) -> builtins.list[EdgeNode]:
        """Every registered node, by node id."""
        ...

    async def upsert_registration(self, node: EdgeNode) -> EdgeNode:
        """Store a registration and return the node as stored now.

        A new node is stored as given. A known one gets ``version``,
        ``models``, ``capabilities`` and ``hostname`` from ``node`` and keeps
        everything else (``key_id``, ``evidence_key``, ``registered_at``, its
        reports and offline flag), so the caller compares the returned
        ``key_id`` with its own to tell whether another key owns the node.

        Raises:
            StorageError: The database failed.
        """
        ...

    async def record_report(self, report: NodeHealth, seen_at: datetime) -> bool:
        """Store a health report of a registered node.

        The report joins the node's time series; it becomes the node's
        ``last_report`` unless a later one (by ``report.at``) is already there;
        ``last_seen_at`` moves forward to ``seen_at``; ``offline`` becomes false.

        Returns:
            ``False`` (and nothing changed) when ``report_id`` is already stored.

        Raises:
            NotFoundError: The node never registered.
        """
        ...

    async def set_offline(self, node_id: str, offline: bool) -> bool:
        """Set the node's offline flag; ``True`` only for the call that changed it.

        Raises:
            NotFoundError: The node never registered.
        """
        ...

    async def history(self, node_id: str, since: datetime, limit: int) -> builtins.list[NodeHealth]:
        """The node's reports with ``at >= since``, oldest first, at most ``limit`` (>= 1).

        Raises:
            ValidationError: ``limit`` < 1 or ``since`` is naive.
        """
        ...

    async def purge_reports(self, before: datetime) -> int:
        """Delete the reports (of every node) with ``at < before``; returns how many.

        A node's ``last_report`` stays on the node.
        """
        ...

    async def link_evidence(self, event_id: str, evidence_id: str, kind: str) -> None:
        """Record that evidence ``evidence_id`` (of ``kind``) covers ``event_id``; idempotent."""
        ...

    async def evidence_for(self, event_id: str) -> builtins.list[tuple[str, str]]:
        """``(evidence_id, kind)`` of the evidence linked to ``event_id``, by evidence id."""
        ...
