"""Auth sessions and their revocation: the ``revoked_sessions`` set.

An access token names its sign-in session (``sid``); every server refuses a
token whose session is in this table, so signing out (or a reused refresh
token) ends the session at once everywhere, not when the token expires.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from argus.adapters.db.tables import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``revoked_sessions`` (keyed by session id, so a check is one index lookup)."""
    op.create_table(
        "revoked_sessions",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_revoked_sessions"),
    )


def downgrade() -> None:
    """Drop ``revoked_sessions``."""
    op.drop_table("revoked_sessions")
