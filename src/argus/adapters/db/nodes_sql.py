"""Edge nodes in SQL (see ``argus.ports.nodes``).

A node's evidence key is stored only as AES-256-GCM ciphertext under a key
derived from the installation secret (``EvidenceKeyCipher``), bound to the
node id, as camera credentials are. Health reports are rows of
``node_health`` (insert-or-ignore on ``report_id``); the newest one by its own
time is also kept on the node row, written with a conditional update so
reports arriving out of order (a node syncing its backlog) never replace a
newer one.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from argus.adapters.db._sqlcore import Bind, insert_for
from argus.adapters.db._sqlcore import transaction as _transaction
from argus.adapters.db.crypto import RowCipher
from argus.adapters.db.nodes_common import check_history, check_link
from argus.adapters.db.tables_edge import edge_evidence_links, edge_nodes, node_health
from argus.domain.checks import aware_utc
from argus.domain.edge import EdgeNode, NodeHealth
from argus.domain.errors import NotFoundError, StorageError, ValidationError

__all__ = ["EVIDENCE_KEYS_LABEL", "EvidenceKeyCipher", "SqlNodeRepository"]

EVIDENCE_KEYS_LABEL = "argus edge evidence keys v1"
"""The ``derive_key`` label of the key that encrypts nodes' evidence keys at rest."""

Row = sa.Row[Any]


class EvidenceKeyCipher:
    """Encrypts nodes' evidence keys at rest (a ``RowCipher`` per node id).

    Args:
        secret: The installation's secret key (at least 16 bytes).

    Raises:
        ConfigError: The secret is too short.
    """

    def __init__(self, secret: bytes) -> None:
        self._rows = RowCipher(secret, EVIDENCE_KEYS_LABEL)

    def encrypt(self, key: bytes, *, node_id: str) -> bytes:
        """Encrypt ``key`` bound to ``node_id``."""
        return self._rows.seal(key, node_id)

    def decrypt(self, blob: bytes, *, node_id: str) -> bytes:
        """Decrypt what ``encrypt`` made for the same node.

        Raises:
            StorageError: Wrong secret, another node's row, or a tampered blob.
        """
        return self._rows.open(blob, node_id, f"the stored evidence key of node {node_id}")


def _report(body: object) -> NodeHealth:
    try:
        return NodeHealth.from_dict(body)
    except ValidationError as exc:
        raise StorageError(f"a stored health report is unreadable: {exc}") from exc


class SqlNodeRepository:
    """Edge nodes in ``edge_nodes``, ``node_health`` and ``edge_evidence_links``.

    Args:
        engine: The engine (one transaction per call).
        cipher: Encrypts the nodes' evidence keys.
    """

    def __init__(self, engine: Bind, cipher: EvidenceKeyCipher) -> None:
        self._engine = engine
        self._cipher = cipher
        self._insert = insert_for(engine)

    def _node(self, row: Row) -> EdgeNode:
        try:
            return EdgeNode(
                node_id=row.node_id,
                key_id=row.key_id,
                version=row.version,
                models=tuple(row.models),
                capabilities=tuple(row.capabilities),
                hostname=row.hostname,
                registered_at=row.registered_at,
                evidence_key=self._cipher.decrypt(row.evidence_key, node_id=row.node_id),
                last_seen_at=row.last_seen_at,
                last_report=None if row.last_report is None else _report(row.last_report),
                offline=row.offline,
            )
        except (ValidationError, TypeError) as exc:
            raise StorageError(f"the stored node {row.node_id} is unreadable: {exc}") from exc

    async def get(self, node_id: str) -> EdgeNode | None:
        async with _transaction(self._engine, "reading an edge node") as connection:
            row = (
                await connection.execute(
                    sa.select(edge_nodes).where(edge_nodes.c.node_id == node_id)
                )
            ).first()
        return None if row is None else self._node(row)

    async def list(self) -> builtins.list[EdgeNode]:
        query = sa.select(edge_nodes).order_by(edge_nodes.c.node_id)
        async with _transaction(self._engine, "listing edge nodes") as connection:
            rows = (await connection.execute(query)).all()
        return [self._node(row) for row in rows]

    async def upsert_registration(self, node: EdgeNode) -> EdgeNode:
        report = node.last_report
        row = {
            "node_id": node.node_id,
            "key_id": node.key_id,
            "version": node.version,
            "models": list(node.models),
            "capabilities": list(node.capabilities),
            "hostname": node.hostname,
            "registered_at": node.registered_at,
            "last_seen_at": node.last_seen_at,
            "last_report": None if report is None else report.to_dict(),
            "last_report_at": None if report is None else report.at,
            "offline": node.offline,
            "evidence_key": self._cipher.encrypt(node.evidence_key, node_id=node.node_id),
        }
        first = (
            self._insert(edge_nodes)
            .values(row)
            .on_conflict_do_nothing(index_elements=[edge_nodes.c.node_id])
        )
        refresh = (
            sa.update(edge_nodes)
            .where(edge_nodes.c.node_id == node.node_id)
            .values(
                version=node.version,
                models=list(node.models),
                capabilities=list(node.capabilities),
                hostname=node.hostname,
            )
        )
        what = f"registering edge node {node.node_id}"
        async with _transaction(self._engine, what) as connection:
            await connection.execute(first)
            await connection.execute(refresh)
            stored = (
                await connection.execute(
                    sa.select(edge_nodes).where(edge_nodes.c.node_id == node.node_id)
                )
            ).one()
        return self._node(stored)

    async def record_report(self, report: NodeHealth, seen_at: datetime) -> bool:
        seen = aware_utc(seen_at, "seen_at")
        node = edge_nodes.c.node_id == report.node_id
        body = report.to_dict()
        what = f"storing a health report of node {report.node_id}"
        async with _transaction(self._engine, what) as connection:
            if await connection.scalar(sa.select(sa.literal(1)).where(node)) is None:
                raise NotFoundError(f"no edge node {report.node_id}")
            inserted = await connection.scalar(
                self._insert(node_health)
                .values(report_id=report.report_id, node_id=report.node_id, at=report.at, body=body)
                .on_conflict_do_nothing(index_elements=[node_health.c.report_id])
                .returning(node_health.c.report_id)
            )
            if inserted is None:
                return False
            newer = sa.or_(
                edge_nodes.c.last_report_at.is_(None), edge_nodes.c.last_report_at < report.at
            )
            await connection.execute(
                sa.update(edge_nodes)
                .where(node, newer)
                .values(last_report=body, last_report_at=report.at)
            )
            later = sa.or_(edge_nodes.c.last_seen_at.is_(None), edge_nodes.c.last_seen_at < seen)
            await connection.execute(
                sa.update(edge_nodes).where(node, later).values(last_seen_at=seen)
            )
            await connection.execute(sa.update(edge_nodes).where(node).values(offline=False))
        return True

    async def set_offline(self, node_id: str, offline: bool) -> bool:
        node = edge_nodes.c.node_id == node_id
        async with _transaction(self._engine, f"marking edge node {node_id}") as connection:
            result = await connection.execute(
                sa.update(edge_nodes)
                .where(node, edge_nodes.c.offline.is_not(offline))
                .values(offline=offline)
            )
            if result.rowcount:
                return True
            if await connection.scalar(sa.select(sa.literal(1)).where(node)) is None:
                raise NotFoundError(f"no edge node {node_id}")
        return False

    async def history(self, node_id: str, since: datetime, limit: int) -> builtins.list[NodeHealth]:
        start = check_history(since, limit)
        query = (
            sa.select(node_health.c.body)
            .where(node_health.c.node_id == node_id, node_health.c.at >= start)
            .order_by(node_health.c.at, node_health.c.report_id)
            .limit(limit)
        )
        async with _transaction(self._engine, "reading health reports") as connection:
            bodies = (await connection.execute(query)).scalars().all()
        return [_report(body) for body in bodies]

    async def purge_reports(self, before: datetime) -> int:
        end = aware_utc(before, "before")
        async with _transaction(self._engine, "purging health reports") as connection:
            result = await connection.execute(sa.delete(node_health).where(node_health.c.at < end))
        return int(result.rowcount or 0)

    async def link_evidence(self, event_id: str, evidence_id: str, kind: str) -> None:
        check_link(event_id, evidence_id, kind)
        statement = (
            self._insert(edge_evidence_links)
            .values(event_id=event_id, evidence_id=evidence_id, kind=kind)
            .on_conflict_do_nothing(
                index_elements=[edge_evidence_links.c.event_id, edge_evidence_links.c.evidence_id]
            )
        )
        async with _transaction(self._engine, "linking edge evidence") as connection:
            await connection.execute(statement)

    async def evidence_for(self, event_id: str) -> builtins.list[tuple[str, str]]:
        query = (
            sa.select(edge_evidence_links.c.evidence_id, edge_evidence_links.c.kind)
            .where(edge_evidence_links.c.event_id == event_id)
            .order_by(edge_evidence_links.c.evidence_id)
        )
        async with _transaction(self._engine, "reading edge evidence links") as connection:
            rows = (await connection.execute(query)).all()
        return [(row.evidence_id, row.kind) for row in rows]
