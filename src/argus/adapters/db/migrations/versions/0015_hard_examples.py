"""Hard examples: ``hard_examples``, the labelling queue (issue 21, part A).

One row per frame worth a label: the camera, why it was collected, its sealed
frame (an evidence id), the model's boxes and people's labels, the workflow
state and its version (compare-and-set updates).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the example table."""
    op.create_table(
        "hard_examples",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("source_key", sa.String(200), nullable=True),
        sa.Column("captured_at", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("frame_evidence_id", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("model_ref", sa.String(200), nullable=False),
        sa.Column("boxes", JSON_TYPE, nullable=False),
        sa.Column("alert_id", sa.String(64), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("lease_until", UtcDateTime(), nullable=True),
        sa.Column("labels", JSON_TYPE, nullable=False),
        sa.Column("empty", sa.Boolean(), nullable=False),
        sa.Column("labelled_by", sa.String(200), nullable=True),
        sa.Column("labelled_at", UtcDateTime(), nullable=True),
        sa.Column("reviewed_by", sa.String(200), nullable=True),
        sa.Column("reviewed_at", UtcDateTime(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hard_examples"),
        sa.UniqueConstraint("source", "source_key", name="uq_hard_examples_source_source_key"),
    )
    op.create_index(
        "ix_hard_examples_camera_id_captured_at", "hard_examples", ["camera_id", "captured_at"]
    )
    op.create_index("ix_hard_examples_state_captured_at", "hard_examples", ["state", "captured_at"])


def downgrade() -> None:
    """Drop the example table."""
    op.drop_table("hard_examples")
