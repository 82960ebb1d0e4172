"""Alert triage: ``alerts.escalation_level``, so lists sort by escalation in the database.

The level is copied from each stored alert's JSON body (``escalation_level``);
alerts whose body lacks it stay at 0, the level of an alert never escalated.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the column and fill it from the alerts' bodies."""
    op.add_column(
        "alerts",
        sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE alerts SET escalation_level = COALESCE((body->>'escalation_level')::int, 0)"
        )
    else:
        op.execute(
            "UPDATE alerts SET escalation_level = "
            "COALESCE(json_extract(body, '$.escalation_level'), 0)"
        )


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("escalation_level")
