"""Model registry: pack versions and per-camera assignment history (issue 21, part D1).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the version and assignment tables."""
    op.create_table(
        "model_versions",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("manifest", JSON_TYPE, nullable=False),
        sa.Column("location", sa.String(300), nullable=False),
        sa.Column("registered_at", UtcDateTime(), nullable=False),
        sa.Column("registered_by", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_model_versions"),
    )
    op.create_table(
        "model_assignments",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("previous_ref", sa.String(200), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_assignments"),
    )
    op.create_index("ix_model_assignments_camera_at", "model_assignments", ["camera_id", "at"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("model_assignments")
    op.drop_table("model_versions")
