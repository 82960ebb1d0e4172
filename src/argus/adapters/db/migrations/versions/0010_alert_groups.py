"""Alert groups: ``alerts.group_id``, ``alert_groups``, ``alert_snoozes``, ``maintenance_windows``.

Alerts stored before keep no group (``group_id`` null); their JSON bodies lack
the new fields, which read as "not grouped, not a repeat, not suppressed".

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the group column of alerts and the group, snooze and maintenance tables."""
    # A nullable column and an index: plain ALTER TABLE on every backend (SQLite included).
    op.add_column("alerts", sa.Column("group_id", sa.String(64), nullable=True))
    op.create_index("ix_alerts_group_id_created_at", "alerts", ["group_id", "created_at"])
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(600), nullable=False),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("camera_id", sa.String(200), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("max_severity", sa.String(10), nullable=False),
        sa.Column("first_seen", UtcDateTime(), nullable=False),
        sa.Column("last_seen", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", JSON_TYPE, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_groups"),
    )
    op.create_index(
        "ix_alert_groups_key_state_last_seen", "alert_groups", ["key", "state", "last_seen"]
    )
    op.create_index("ix_alert_groups_last_seen_id", "alert_groups", ["last_seen", "id"])
    op.create_index(
        "ix_alert_groups_camera_id_last_seen", "alert_groups", ["camera_id", "last_seen"]
    )
    op.create_table(
        "alert_snoozes",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("until", UtcDateTime(), nullable=False),
        sa.Column("body", JSON_TYPE, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_snoozes"),
    )
    op.create_index("ix_alert_snoozes_until", "alert_snoozes", ["until"])
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("start", UtcDateTime(), nullable=False),
        sa.Column("end", UtcDateTime(), nullable=False),
        sa.Column("body", JSON_TYPE, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_maintenance_windows"),
    )
    op.create_index("ix_maintenance_windows_end", "maintenance_windows", ["end"])


def downgrade() -> None:
    """Drop the group tables and the alerts' group column."""
    op.drop_index("ix_maintenance_windows_end", table_name="maintenance_windows")
    op.drop_table("maintenance_windows")
    op.drop_index("ix_alert_snoozes_until", table_name="alert_snoozes")
    op.drop_table("alert_snoozes")
    op.drop_index("ix_alert_groups_camera_id_last_seen", table_name="alert_groups")
    op.drop_index("ix_alert_groups_last_seen_id", table_name="alert_groups")
    op.drop_index("ix_alert_groups_key_state_last_seen", table_name="alert_groups")
    op.drop_table("alert_groups")
    op.drop_index("ix_alerts_group_id_created_at", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("group_id")
