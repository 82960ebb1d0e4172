"""Edge nodes: ``cameras.edge_node_id``, ``edge_nodes``, ``node_health``, ``edge_evidence_links``.

Rules may now only name catalogued event types (``argus.domain.event_types``).
A rule stored before that names unknown types (which could never fire) keeps
its known ones; one left with none is disabled, with a note in its
description, so that it neither fails to load nor starts matching every event.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

# The catalogue as of this revision (a migration never imports code that may change).
_KNOWN_TYPES = frozenset(
    {
        "line.crossed",
        "line.wrong_way",
        "zone.entered",
        "zone.exited",
        "zone.loitering",
        "zone.crowding",
        "behaviour.running",
        "heatmap.minute",
        "camera.offline",
        "camera.online",
        "camera.fps_low",
        "camera.fps_recovered",
        "camera.tamper",
        "camera.tamper_cleared",
        "node.offline",
        "node.online",
        "node.disk_low",
        "node.disk_ok",
        "node.outbox_backlog",
        "node.outbox_drained",
        "node.clock_skew",
        "node.clock_ok",
    }
)
_DESCRIPTION_MAX = 2000


def upgrade() -> None:
    """Add the edge columns and tables, and fix rules that name unknown event types."""
    # A nullable column and an index: plain ALTER TABLE on every backend (SQLite included),
    # so the cameras table (referenced by lines and zones) is never rebuilt.
    op.add_column("cameras", sa.Column("edge_node_id", sa.String(64), nullable=True))
    op.create_index("ix_cameras_edge_node_id", "cameras", ["edge_node_id"])
    op.create_table(
        "edge_nodes",
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("models", JSON_TYPE, nullable=False),
        sa.Column("capabilities", JSON_TYPE, nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("registered_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=True),
        sa.Column("last_report", JSON_TYPE, nullable=True),
        sa.Column("last_report_at", UtcDateTime(), nullable=True),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("evidence_key", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name="pk_edge_nodes"),
    )
    op.create_table(
        "node_health",
        sa.Column("report_id", sa.String(26), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("body", JSON_TYPE, nullable=False),
        sa.PrimaryKeyConstraint("report_id", name="pk_node_health"),
    )
    op.create_index("ix_node_health_node_id_at", "node_health", ["node_id", "at"])
    op.create_index("ix_node_health_at", "node_health", ["at"])
    op.create_table(
        "edge_evidence_links",
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("evidence_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "evidence_id", name="pk_edge_evidence_links"),
    )
    _fix_rules()


def _fix_rules() -> None:
    rules = sa.table(
        "rules",
        sa.column("id", sa.String()),
        sa.column("enabled", sa.Boolean()),
        sa.column("definition", JSON_TYPE),
    )
    bind = op.get_bind()
    for row in bind.execute(sa.select(rules.c.id, rules.c.definition)).all():
        definition: dict[str, Any] = dict(row.definition)
        types = [str(t) for t in definition.get("event_types") or ()]
        unknown = [t for t in types if t not in _KNOWN_TYPES]
        if not unknown:
            continue
        known = [t for t in types if t in _KNOWN_TYPES]
        definition["event_types"] = known
        if not known:
            note = f"[disabled by upgrade 0008: unknown event types {', '.join(unknown)}]"
            text = f"{definition.get('description') or ''} {note}".strip()
            definition["description"] = text[-_DESCRIPTION_MAX:]
            definition["enabled"] = False
        bind.execute(
            sa.update(rules)
            .where(rules.c.id == row.id)
            .values(definition=definition, enabled=bool(definition.get("enabled", False)))
        )


def downgrade() -> None:
    """Drop the edge tables and the camera column (rules keep their fixed types)."""
    op.drop_table("edge_evidence_links")
    op.drop_index("ix_node_health_at", table_name="node_health")
    op.drop_index("ix_node_health_node_id_at", table_name="node_health")
    op.drop_table("node_health")
    op.drop_table("edge_nodes")
    op.drop_index("ix_cameras_edge_node_id", table_name="cameras")
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("edge_node_id")
