"""The notification tables: channels, routes, the outbox and its delivery attempts.

They share ``tables.metadata`` (so the migrations check covers them); ``tables``
imports this module, so either import registers the whole schema.
"""

from __future__ import annotations

import sqlalchemy as sa

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime, metadata

__all__ = ["notification_attempts", "notifications", "notify_channels", "notify_routes"]

notify_channels = sa.Table(
    "notify_channels",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("body", JSON_TYPE, nullable=False),  # Channel.without_secrets().to_dict()
    sa.Column("secrets", sa.LargeBinary(), nullable=True),  # AES-GCM, bound to the id
)

notify_routes = sa.Table(
    "notify_routes",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("body", JSON_TYPE, nullable=False),  # Route.to_dict()
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("dedupe_key", sa.String(400), nullable=False, unique=True),
    sa.Column("channel_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
    sa.Column("alert_id", sa.String(64), nullable=True),
    sa.Column("group_id", sa.String(64), nullable=True),
    sa.Column("level", sa.Integer(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("delivered_at", UtcDateTime(), nullable=True),
    sa.Column("leased_until", UtcDateTime(), nullable=True),
    sa.Column("lease_owner", sa.String(100), nullable=True),
    sa.Column("recipients", JSON_TYPE, nullable=False),
    sa.Column("payload", JSON_TYPE, nullable=False),
    sa.Index(None, "state", "next_attempt_at"),
    sa.Index(None, "alert_id"),
    sa.Index(None, "created_at", "id"),
    sa.Index(None, "channel_id", "created_at"),
)

notification_attempts = sa.Table(
    "notification_attempts",
    metadata,
    sa.Column(
        "notification_id",
        sa.String(64),
        sa.ForeignKey("notifications.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("number", sa.Integer(), primary_key=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("ok", sa.Boolean(), nullable=False),
    sa.Column("latency_ms", sa.Float(), nullable=False),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("breaker", sa.String(20), nullable=False),
)
