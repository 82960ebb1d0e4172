"""The edge node tables: registrations, the health time series, evidence links.

They share ``tables.metadata`` (so the migrations check covers them); ``tables``
imports this module, so either import registers the whole schema.
"""

from __future__ import annotations

import sqlalchemy as sa

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime, metadata

__all__ = ["edge_evidence_links", "edge_nodes", "node_health"]

edge_nodes = sa.Table(
    "edge_nodes",
    metadata,
    sa.Column("node_id", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("models", JSON_TYPE, nullable=False),
    sa.Column("capabilities", JSON_TYPE, nullable=False),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("registered_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen_at", UtcDateTime(), nullable=True),
    sa.Column("last_report", JSON_TYPE, nullable=True),  # NodeHealth.to_dict()
    sa.Column("last_report_at", UtcDateTime(), nullable=True),  # its ``at``: newest wins
    sa.Column("offline", sa.Boolean(), nullable=False),
    sa.Column("evidence_key", sa.LargeBinary(), nullable=False),  # AES-GCM, bound to node_id
)

node_health = sa.Table(
    "node_health",
    metadata,
    sa.Column("report_id", sa.String(26), primary_key=True),
    sa.Column("node_id", sa.String(64), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("body", JSON_TYPE, nullable=False),  # NodeHealth.to_dict()
    sa.Index(None, "node_id", "at"),
    sa.Index(None, "at"),
)

edge_evidence_links = sa.Table(
    "edge_evidence_links",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("evidence_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
)
