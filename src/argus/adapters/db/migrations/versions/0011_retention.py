"""Retention: ``audit_checkpoints``, the signed checkpoints of pruned audit records.

Legal hold needs no column: it lives in the incident's stored body
(``Incident.legal_hold``), and the retention sweep reads the few incidents
that carry one.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from argus.adapters.db.tables import UtcDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the checkpoint table."""
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("before", UtcDateTime(), nullable=False),
        sa.Column("pruned_at", UtcDateTime(), nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_checkpoints"),
    )


def downgrade() -> None:
    """Drop the checkpoint table (the pruned records stay gone)."""
    op.drop_table("audit_checkpoints")
