"""Evidence gaps: alerts whose evidence could not be captured, and why.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from argus.adapters.db.tables import JSON_TYPE, UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

_INDEXES = (("camera_id",), ("at", "alert_id"))


def upgrade() -> None:
    """Create ``evidence_gaps`` and its indexes."""
    op.create_table(
        "evidence_gaps",
        sa.Column("alert_id", sa.String(200), nullable=False),
        sa.Column("camera_id", sa.String(200), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("body", JSON_TYPE, nullable=False),
        sa.PrimaryKeyConstraint("alert_id", name="pk_evidence_gaps"),
    )
    for columns in _INDEXES:
        op.create_index(f"ix_evidence_gaps_{'_'.join(columns)}", "evidence_gaps", list(columns))


def downgrade() -> None:
    """Drop ``evidence_gaps``."""
    for columns in _INDEXES:
        op.drop_index(f"ix_evidence_gaps_{'_'.join(columns)}", table_name="evidence_gaps")
    op.drop_table("evidence_gaps")
