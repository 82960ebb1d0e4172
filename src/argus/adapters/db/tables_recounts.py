"""The re-count job table (``ports.recounts``).

It shares ``tables.metadata`` (so the migrations check covers it); the SQL
store imports this module, so opening a store registers the table.
"""

from __future__ import annotations

import sqlalchemy as sa

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime, metadata

__all__ = ["recount_jobs"]

# One row per job; ``result`` holds the per-line figures once it is done. A few rows a day.
recount_jobs = sa.Table(
    "recount_jobs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("camera_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start", UtcDateTime(), nullable=False),
    sa.Column("end", UtcDateTime(), nullable=False),
    sa.Column("requested_by", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=True),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("result", JSON_TYPE, nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Index("ix_recount_jobs_status_created", "status", "created_at"),
    sa.Index("ix_recount_jobs_camera_created", "camera_id", "created_at"),
)
