"""The alert group tables: groups, snoozes, maintenance windows, and ``alerts.group_id``.

They share ``tables.metadata`` (so the migrations check covers them). The
alert's group column joins the ``alerts`` table here rather than in ``tables``
(which is at its size limit); every module that writes alerts imports this one.
Rows keep the domain value whole in ``body`` next to the columns queries
filter and sort on, like alerts.
"""

from __future__ import annotations

import sqlalchemy as sa

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime, alerts, metadata

__all__ = ["alert_groups", "alert_snoozes", "maintenance_windows"]

if "group_id" not in alerts.c:
    alerts.append_column(sa.Column("group_id", sa.String(64), nullable=True))
    sa.Index(None, alerts.c.group_id, alerts.c.created_at)

alert_groups = sa.Table(
    "alert_groups",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(600), nullable=False),
    sa.Column("rule_id", sa.String(200), nullable=False),
    sa.Column("camera_id", sa.String(200), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("max_severity", sa.String(10), nullable=False),
    sa.Column("first_seen", UtcDateTime(), nullable=False),
    sa.Column("last_seen", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("body", JSON_TYPE, nullable=False),  # AlertGroup.to_dict()
    sa.Index(None, "key", "state", "last_seen"),
    sa.Index(None, "last_seen", "id"),
    sa.Index(None, "camera_id", "last_seen"),
)

alert_snoozes = sa.Table(
    "alert_snoozes",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("until", UtcDateTime(), nullable=False),
    sa.Column("body", JSON_TYPE, nullable=False),  # Snooze.to_dict()
    sa.Index(None, "until"),
)

maintenance_windows = sa.Table(
    "maintenance_windows",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("start", UtcDateTime(), nullable=False),
    sa.Column("end", UtcDateTime(), nullable=False),
    sa.Column("body", JSON_TYPE, nullable=False),  # MaintenanceWindow.to_dict()
    sa.Index(None, "end"),
)

# The triage column of alerts (``escalation_level``) joins with the group column: one schema.
import argus.adapters.db.tables_triage  # noqa: E402, F401
