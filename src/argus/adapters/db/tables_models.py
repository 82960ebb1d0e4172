"""The model registry's tables (``ports.model_registry``).

They share ``tables.metadata`` (so the migrations check covers them); the SQL
store imports this module, so opening a store registers the tables.
"""

from __future__ import annotations

import sqlalchemy as sa

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime, metadata

__all__ = ["model_assignments", "model_versions"]

# One row per registered pack version: a handful per pack.
model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("version", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("manifest", JSON_TYPE, nullable=False),
    sa.Column("location", sa.String(300), nullable=False),
    sa.Column("registered_at", UtcDateTime(), nullable=False),
    sa.Column("registered_by", sa.String(200), nullable=False),
    sa.Column("notes", sa.Text(), nullable=False),
)

# One row per change of a camera's model: a few per rollout.
model_assignments = sa.Table(
    "model_assignments",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("camera_id", sa.String(64), nullable=False),
    sa.Column("ref", sa.String(200), nullable=False),
    sa.Column("previous_ref", sa.String(200), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("by", sa.String(200), nullable=False),
    sa.Index("ix_model_assignments_camera_at", "camera_id", "at"),
)
