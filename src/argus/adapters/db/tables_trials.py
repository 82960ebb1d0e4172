"""The model-trial tables (``ports.model_trials``): shadow plans, shadow reports, evaluations.

They share ``tables.metadata`` (imported at the end of ``tables``), so the
migrations check covers them. ``model_evaluations.scores`` is the JSON form of
``EvaluationScores``; ``camera_ids`` a JSON list or NULL (every camera).
"""

from __future__ import annotations

import sqlalchemy as sa

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime, metadata

__all__ = ["model_evaluations", "shadow_plans", "shadow_reports"]

# One row per camera running a shadow candidate: a handful.
shadow_plans = sa.Table(
    "shadow_plans",
    metadata,
    sa.Column("camera_id", sa.String(64), primary_key=True),
    sa.Column("candidate", sa.String(200), nullable=False),
    sa.Column("sample_every", sa.Integer(), nullable=False),
    sa.Column("report_every", sa.Integer(), nullable=False),
    sa.Column("iou_threshold", sa.Float(), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("started_by", sa.String(200), nullable=False),
)

# One row per ``model.shadow`` event: with the defaults, one per camera every few minutes.
shadow_reports = sa.Table(
    "shadow_reports",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
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
    sa.Index(None, "camera_id", "ended_at"),
)

# One row per evaluation asked for: a few a week.
model_evaluations = sa.Table(
    "model_evaluations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("requested_by", sa.String(200), nullable=False),
    sa.Column("requested_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("camera_ids", JSON_TYPE, nullable=True),
    sa.Column("score_threshold", sa.Float(), nullable=False),
    sa.Column("scores", JSON_TYPE, nullable=True),
    sa.Column("error", sa.Text(), nullable=False),
    sa.Index(None, "requested_at"),
)
