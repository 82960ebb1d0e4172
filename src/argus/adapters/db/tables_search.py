"""The tables of search in words (``ports.search_items``).

``search_descriptions`` holds each distinct description once (its integer id
is its key in the vector index); ``search_items`` maps every indexed event,
alert and incident to its description with the columns filters use. They
share ``tables.metadata`` (so the migrations check covers them).
"""

from __future__ import annotations

import sqlalchemy as sa

from argus.adapters.db.tables import UtcDateTime, metadata

__all__ = ["search_descriptions", "search_items"]

# A few thousand rows even for millions of events: times are not part of the text.
search_descriptions = sa.Table(
    "search_descriptions",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("text", sa.String(1000), nullable=False),
    sa.Column("indexed_model", sa.String(200), nullable=True),
    sa.UniqueConstraint("text", name="uq_search_descriptions_text"),
)

# One row per searchable item; grows with the event store.
search_items = sa.Table(
    "search_items",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("item_id", sa.String(64), primary_key=True),
    sa.Column("description_id", sa.Integer(), nullable=False),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("local_hour", sa.SmallInteger(), nullable=False),
    sa.Column("camera_id", sa.String(64), nullable=True),
    sa.Column("event_type", sa.String(64), nullable=True),
    sa.Column("class_name", sa.String(64), nullable=True),
    sa.Column("zone", sa.String(100), nullable=True),
    sa.Column("line", sa.String(100), nullable=True),
    sa.Column("direction", sa.String(8), nullable=True),
    sa.Index("ix_search_items_description_time", "description_id", "occurred_at"),
    sa.Index("ix_search_items_time", "occurred_at"),
    sa.Index("ix_search_items_camera_time", "camera_id", "occurred_at"),
)
