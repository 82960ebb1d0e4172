"""Cameras: a detect sub-stream (``detect_stream_url``) and ``record`` (issue 19).

Existing cameras detect on their main stream (NULL) and are recorded when the
server records (``record`` true).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the two columns."""
    op.add_column("cameras", sa.Column("detect_stream_url", sa.String(2048), nullable=True))
    op.add_column(
        "cameras", sa.Column("record", sa.Boolean(), nullable=False, server_default=sa.true())
    )


def downgrade() -> None:
    """Drop the columns."""
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("record")
        batch.drop_column("detect_stream_url")
