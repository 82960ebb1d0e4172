"""Edge nodes in memory: the fake for service tests and the contract's reference.

Dicts of frozen values with the semantics of ``nodes_sql``: registrations keep
the first key, reports are stored once each and the newest (by its own time)
stays on the node, ``set_offline`` is a compare-and-set. The repository is
given its store's ``check`` (raises ``StorageError`` once the store is closed).
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable
from datetime import datetime

from argus.adapters.db.nodes_common import check_history, check_link
from argus.domain.checks import aware_utc
from argus.domain.edge import EdgeNode, NodeHealth
from argus.domain.errors import NotFoundError

__all__ = ["MemoryNodeRepository"]


class MemoryNodeRepository:
    """Edge nodes, their reports and evidence links in dicts (see ``NodeRepository``).

    Args:
        check: Raises ``StorageError`` once the store is closed.
    """

    def __init__(self, check: Callable[[], None]) -> None:
        self._check = check
        self._nodes: dict[str, EdgeNode] = {}
        self._reports: dict[str, NodeHealth] = {}
        self._links: dict[tuple[str, str], str] = {}

    async def get(self, node_id: str) -> EdgeNode | None:
        self._check()
        return self._nodes.get(node_id)

    async def list(self) -> builtins.list[EdgeNode]:
        self._check()
        return [self._nodes[key] for key in sorted(self._nodes)]

    async def upsert_registration(self, node: EdgeNode) -> EdgeNode:
        self._check()
        known = self._nodes.get(node.node_id)
        stored = (
            node
            if known is None
            else dataclasses.replace(
                known,
                version=node.version,
                models=node.models,
                capabilities=node.capabilities,
                hostname=node.hostname,
            )
        )
        self._nodes[node.node_id] = stored
        return stored

    def _known(self, node_id: str) -> EdgeNode:
        node = self._nodes.get(node_id)
        if node is None:
            raise NotFoundError(f"no edge node {node_id}")
        return node

    async def record_report(self, report: NodeHealth, seen_at: datetime) -> bool:
        self._check()
        seen = aware_utc(seen_at, "seen_at")
        node = self._known(report.node_id)
        if report.report_id in self._reports:
            return False
        self._reports[report.report_id] = report
        last = node.last_report
        self._nodes[node.node_id] = dataclasses.replace(
            node,
            last_report=report if last is None or last.at < report.at else last,
            last_seen_at=seen if node.last_seen_at is None else max(node.last_seen_at, seen),
            offline=False,
        )
        return True

    async def set_offline(self, node_id: str, offline: bool) -> bool:
        self._check()
        node = self._known(node_id)
        if node.offline is offline:
            return False
        self._nodes[node_id] = dataclasses.replace(node, offline=offline)
        return True

    async def history(self, node_id: str, since: datetime, limit: int) -> builtins.list[NodeHealth]:
        self._check()
        start = check_history(since, limit)
        found = [r for r in self._reports.values() if r.node_id == node_id and r.at >= start]
        found.sort(key=lambda r: (r.at, r.report_id))
        return found[:limit]

    async def purge_reports(self, before: datetime) -> int:
        self._check()
        end = aware_utc(before, "before")
        old = [key for key, report in self._reports.items() if report.at < end]
        for key in old:
            del self._reports[key]
        return len(old)

    async def link_evidence(self, event_id: str, evidence_id: str, kind: str) -> None:
        self._check()
        check_link(event_id, evidence_id, kind)
        self._links.setdefault((event_id, evidence_id), kind)

    async def evidence_for(self, event_id: str) -> builtins.list[tuple[str, str]]:
        self._check()
        return sorted(
            (evidence_id, kind)
            for (linked, evidence_id), kind in self._links.items()
            if linked == event_id
        )
