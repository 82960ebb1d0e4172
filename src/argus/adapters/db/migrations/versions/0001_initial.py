"""Initial schema: cameras, lines, zones, events.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the four tables and their indexes."""
    op.create_table(
        "cameras",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("stream_url", sa.String(2048), nullable=False),
        sa.Column("credentials", sa.LargeBinary(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("detect_fps", sa.Float(), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cameras"),
    )
    op.create_index("ix_cameras_created_at_id", "cameras", ["created_at", "id"])
    for table in ("lines", "zones"):
        op.create_table(
            table,
            sa.Column("id", sa.String(64), nullable=False),
            sa.Column("camera_id", sa.String(64), nullable=False),
            sa.Column("name", sa.String(64), nullable=False),
            sa.Column("geometry", JSON_TYPE, nullable=False),
            sa.Column("settings", JSON_TYPE, nullable=False),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
            sa.UniqueConstraint("camera_id", "name", name=f"uq_{table}_camera_id_name"),
            sa.ForeignKeyConstraint(
                ["camera_id"],
                ["cameras.id"],
                name=f"fk_{table}_camera_id_cameras",
                ondelete="CASCADE",
            ),
        )
    op.create_table(
        "events",
        sa.Column("event_id", sa.String(26), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("timestamp", UtcDateTime(), nullable=False),
        sa.Column("camera_id", sa.String(200), nullable=False),
        sa.Column("edge_node_id", sa.String(200), nullable=False),
        sa.Column("class_name", sa.String(200), nullable=True),
        sa.Column("track_id", sa.BigInteger(), nullable=True),
        sa.Column("payload", JSON_TYPE, nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_events"),
    )
    for columns in (
        ("timestamp", "event_id"),
        ("camera_id", "timestamp"),
        ("type", "timestamp"),
        ("class_name", "timestamp"),
    ):
        op.create_index(f"ix_events_{'_'.join(columns)}", "events", list(columns))


def downgrade() -> None:
    """Drop everything ``upgrade`` created."""
    op.drop_table("events")
    op.drop_table("zones")
    op.drop_table("lines")
    op.drop_index("ix_cameras_created_at_id", table_name="cameras")
    op.drop_table("cameras")
