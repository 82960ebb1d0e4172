"""Search over events: distinct descriptions and the items they describe (issue 21, part F).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from argus.adapters.db.tables import UtcDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the description and item tables."""
    op.create_table(
        "search_descriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("text", sa.String(1000), nullable=False),
        sa.Column("indexed_model", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_search_descriptions"),
        sa.UniqueConstraint("text", name="uq_search_descriptions_text"),
    )
    op.create_table(
        "search_items",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("description_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("local_hour", sa.SmallInteger(), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=True),
        sa.Column("event_type", sa.String(64), nullable=True),
        sa.Column("class_name", sa.String(64), nullable=True),
        sa.Column("zone", sa.String(100), nullable=True),
        sa.Column("line", sa.String(100), nullable=True),
        sa.Column("direction", sa.String(8), nullable=True),
        sa.PrimaryKeyConstraint("kind", "item_id", name="pk_search_items"),
    )
    op.create_index(
        "ix_search_items_description_time", "search_items", ["description_id", "occurred_at"]
    )
    op.create_index("ix_search_items_time", "search_items", ["occurred_at"])
    op.create_index("ix_search_items_camera_time", "search_items", ["camera_id", "occurred_at"])


def downgrade() -> None:
    """Drop the tables."""
    op.drop_table("search_items")
    op.drop_table("search_descriptions")
