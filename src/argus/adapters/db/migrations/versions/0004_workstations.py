"""Workstation security: face subjects and descriptors, verify clients, decisions, capacity.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

_INDEXES = (
    ("face_subjects", ("created_at", "id")),
    ("face_embeddings", ("subject_id",)),
    ("verify_clients", ("created_at", "id")),
    ("verify_decisions", ("client_id", "at")),
    ("verify_decisions", ("at", "id")),
)


def upgrade() -> None:
    """Create the five tables and their indexes."""
    op.create_table(
        "face_subjects",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_face_subjects"),
    )
    op.create_table(
        "face_embeddings",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_face_embeddings"),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["face_subjects.id"],
            name="fk_face_embeddings_subject_id_face_subjects",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "verify_clients",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("subjects", JSON_TYPE, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("violations", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_verify_clients"),
    )
    op.create_table(
        "verify_decisions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("reasons", JSON_TYPE, nullable=False),
        sa.Column("scores", JSON_TYPE, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("frame_seq", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_verify_decisions"),
    )
    op.create_table(
        "capacity_state",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", JSON_TYPE, nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_capacity_state"),
    )
    for table, columns in _INDEXES:
        op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns))


def downgrade() -> None:
    """Drop everything ``upgrade`` created."""
    for table, columns in reversed(_INDEXES):
        op.drop_index(f"ix_{table}_{'_'.join(columns)}", table_name=table)
    for table in (
        "capacity_state",
        "verify_decisions",
        "verify_clients",
        "face_embeddings",
        "face_subjects",
    ):
        op.drop_table(table)
