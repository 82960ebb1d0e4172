"""Analytics rollups: ``event_rollups``, backfilled from the stored events.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from argus.adapters.db.rollups_sql import rebuild
from argus.adapters.db.tables import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``event_rollups`` and count every stored event into it."""
    op.create_table(
        "event_rollups",
        sa.Column("grain", sa.String(8), nullable=False),
        sa.Column("bucket", UtcDateTime(), nullable=False),
        sa.Column("group_key", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(200), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("class_name", sa.Text(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("grain", "bucket", "group_key", name="pk_event_rollups"),
    )
    # Installations upgrading with events keep their counts: the rows are computed by the
    # same code that maintains them on insert.
    rebuild(op.get_bind())


def downgrade() -> None:
    """Drop ``event_rollups``."""
    op.drop_table("event_rollups")
