"""Shadow runs and evaluations of model versions (issue 21, part D2).

``shadow_plans`` (one row per camera running a candidate beside production),
``shadow_reports`` (the agreement counts of each ``model.shadow`` event) and
``model_evaluations`` (a model version scored on the annotated set).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the shadow-plan, shadow-report and evaluation tables."""
    op.create_table(
        "shadow_plans",
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("candidate", sa.String(200), nullable=False),
        sa.Column("sample_every", sa.Integer(), nullable=False),
        sa.Column("report_every", sa.Integer(), nullable=False),
        sa.Column("iou_threshold", sa.Float(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", name="pk_shadow_plans"),
    )
    op.create_table(
        "shadow_reports",
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("production", sa.String(200), nullable=False),
        sa.Column("candidate", sa.String(200), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("class_mismatch", sa.Integer(), nullable=False),
        sa.Column("only_production", sa.Integer(), nullable=False),
        sa.Column("only_candidate", sa.Integer(), nullable=False),
        sa.Column("production_ms", sa.Float(), nullable=False),
        sa.Column("candidate_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_shadow_reports"),
    )
    op.create_index(
        "ix_shadow_reports_camera_id_ended_at", "shadow_reports", ["camera_id", "ended_at"]
    )
    op.create_table(
        "model_evaluations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("camera_ids", JSON_TYPE, nullable=True),
        sa.Column("score_threshold", sa.Float(), nullable=False),
        sa.Column("scores", JSON_TYPE, nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_evaluations"),
    )
    op.create_index("ix_model_evaluations_requested_at", "model_evaluations", ["requested_at"])


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_index("ix_model_evaluations_requested_at", table_name="model_evaluations")
    op.drop_table("model_evaluations")
    op.drop_index("ix_shadow_reports_camera_id_ended_at", table_name="shadow_reports")
    op.drop_table("shadow_reports")
    op.drop_table("shadow_plans")
