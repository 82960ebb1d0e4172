"""The retention tables: the signed checkpoints of pruned audit records.

They share ``tables.metadata`` (so the migrations check covers them). The
audit log imports this module, so opening a store registers the table.
"""

from __future__ import annotations

import sqlalchemy as sa

from argus.adapters.db.tables import UtcDateTime, metadata

__all__ = ["audit_checkpoints"]

# One row per prune of the audit log (``argus.domain.audit.checkpoint``); the newest (highest
# ``seq``) is where verification starts. Kept forever: a few rows a day at most.
audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("count", sa.BigInteger(), nullable=False),
    sa.Column("before", UtcDateTime(), nullable=False),
    sa.Column("pruned_at", UtcDateTime(), nullable=False),
    sa.Column("signature", sa.String(64), nullable=False),
)
