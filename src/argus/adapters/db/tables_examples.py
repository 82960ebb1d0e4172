"""The hard-example table (``ports.hard_examples``): the labelling queue.

It shares ``tables.metadata`` (imported at the end of ``tables``), so the
migrations check covers it. Boxes and labels are JSON lists of
``{x1, y1, x2, y2, class_name, score}``. ``source_key`` is NULL for an example
without one: NULLs never collide in the ``(source, source_key)`` unique index,
so only keyed examples are deduplicated.
"""

from __future__ import annotations

import sqlalchemy as sa

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime, metadata

__all__ = ["hard_examples"]

# One row per example: a few per camera a day (the sampler's limits bound them).
hard_examples = sa.Table(
    "hard_examples",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
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
    sa.UniqueConstraint("source", "source_key"),
    sa.Index(None, "camera_id", "captured_at"),
    sa.Index(None, "state", "captured_at"),
)
