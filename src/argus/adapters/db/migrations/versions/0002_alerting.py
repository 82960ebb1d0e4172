"""Alerting: rules, alerts, incidents.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_ALERT_INDEXES = (
    ("created_at", "id"),
    ("camera_id", "created_at"),
    ("state", "ack_deadline"),
)


def upgrade() -> None:
    """Create the three tables and their indexes."""
    op.create_table(
        "rules",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("definition", JSON_TYPE, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rules"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("camera_id", sa.String(200), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("risk_score", sa.Float(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("ack_deadline", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", JSON_TYPE, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("rule_id", "event_id", name="uq_alerts_rule_id_event_id"),
    )
    for columns in _ALERT_INDEXES:
        op.create_index(f"ix_alerts_{'_'.join(columns)}", "alerts", list(columns))
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("camera_id", sa.String(200), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", JSON_TYPE, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    op.create_index("ix_incidents_created_at_id", "incidents", ["created_at", "id"])


def downgrade() -> None:
    """Drop everything ``upgrade`` created."""
    op.drop_index("ix_incidents_created_at_id", table_name="incidents")
    op.drop_table("incidents")
    for columns in _ALERT_INDEXES:
        op.drop_index(f"ix_alerts_{'_'.join(columns)}", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("rules")
