"""The append-only audit log port.

The conventions of ``argus.ports.repositories`` hold: every method is one
transaction, a failing database raises ``StorageError``, bad arguments
``ValidationError``, and offset lists report ``total``. Records come back
exactly as ``append`` returned them (``details`` as plain JSON, ``at`` in UTC).

Retention prunes the oldest records (``prune_before``): a prefix of the chain,
replaced by a signed ``AuditCheckpoint`` stored in the same transaction, from
which ``verify`` then starts.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from argus.domain.audit import (
    AuditCheckpoint,
    AuditEntry,
    AuditOutcome,
    AuditRecord,
    ChainReport,
)
from argus.domain.errors import ValidationError
from argus.ports.paging import Page, check_page

__all__ = ["AuditFilter", "AuditLog", "check_prune_args", "check_records_args"]


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which records a query returns; ``None`` fields do not filter.

    Attributes:
        actor: Records of this actor (exact).
        action: Records whose action starts with this prefix: ``auth.`` matches
            ``auth.login`` and ``auth.logout``; a full name matches itself.
        target: Records on this target (exact).
        outcome: Records with this outcome.
        since: At or after this time (timezone-aware).
        until: Strictly before this time (timezone-aware).
    """

    actor: str | None = None
    action: str | None = None
    target: str | None = None
    outcome: AuditOutcome | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
                raise ValidationError(f"{name} must be timezone-aware")


def check_records_args(after_seq: int, limit: int) -> None:
    """Validate the arguments of ``AuditLog.records``.

    Raises:
        ValidationError: ``after_seq`` is negative or ``limit`` outside ``[1, MAX_PAGE]``.
    """
    check_page(limit)
    if after_seq < 0:
        raise ValidationError(f"after_seq must be >= 0, got {after_seq}")


def check_prune_args(cutoff: datetime, limit: int, at: datetime) -> None:
    """Validate the arguments of ``AuditLog.prune_before``.

    Raises:
        ValidationError: A naive time, or ``limit`` below 1.
    """
    for name, moment in (("cutoff", cutoff), ("at", at)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValidationError(f"{name} must be timezone-aware")
    if limit < 1:
        raise ValidationError(f"limit must be >= 1, got {limit}")


@runtime_checkable
class AuditLog(Protocol):
    """An append-only, hash-chained log of security-relevant actions.

    ``append`` is safe under concurrency, across processes sharing one store:
    records get consecutive ``seq`` numbers and each chains to the one before.
    There is no update or delete; only retention removes the oldest records,
    behind a signed checkpoint (``prune_before``).
    """

    async def append(self, entry: AuditEntry) -> AuditRecord:
        """Store ``entry`` as the next record of the chain and return it.

        Raises:
            ValidationError: The entry is invalid (see ``check_entry``).
        """
        ...

    async def records(
        self,
        *,
        after_seq: int = 0,
        limit: int = 1000,
        target: str | None = None,
        where: AuditFilter | None = None,
    ) -> builtins.list[AuditRecord]:
        """Records with ``seq > after_seq`` in ``seq`` order, at most ``limit`` (1 to 1000).

        Only those on ``target`` (exact match) when given, and only those ``where``
        selects; both apply together.
        """
        ...

    async def list(
        self, *, limit: int = 50, offset: int = 0, where: AuditFilter | None = None
    ) -> Page[AuditRecord]:
        """One page of the records ``where`` selects, newest first (for the admin listing)."""
        ...

    async def count(self, where: AuditFilter | None = None) -> int:
        """How many records there are (that ``where`` selects)."""
        ...

    async def head(self) -> tuple[int, str]:
        """``(seq, hash)`` of the last record, ``(0, GENESIS_HASH)`` when empty.

        Keep it outside the store (a ticket, another system) to detect a later
        truncation with ``verify_chain(..., expected_head=...)``.
        """
        ...

    def all_records(self, *, batch: int = 1000) -> AsyncIterator[AuditRecord]:
        """Every record in ``seq`` order, read ``batch`` at a time (for verification)."""
        ...

    async def prune_before(self, cutoff: datetime, *, limit: int, at: datetime) -> int:
        """Remove the oldest records older than ``cutoff``, at most ``limit``, behind a checkpoint.

        Only a prefix of the chain goes: pruning stops at the first record at or
        after ``cutoff``, and the newest record always stays (it is the head the
        next append chains to). The checkpoint of the last removed record, signed
        with the chain key and dated ``at``, is stored in the same transaction.

        Returns:
            How many records were removed (0: nothing was, and no checkpoint written).

        Raises:
            ValidationError: ``cutoff`` or ``at`` is naive, or ``limit`` is below 1.
        """
        ...

    async def checkpoints(self, *, limit: int = 100) -> builtins.list[AuditCheckpoint]:
        """The checkpoints of past prunes, newest first (the first is where verification starts)."""
        ...

    async def verify(self, *, expected_head: tuple[int, str] | None = None) -> ChainReport:
        """Stream every record through ``verify_chain`` under the log's own chain key.

        Verification starts at the newest checkpoint, if records were pruned.

        Raises:
            ValidationError: ``expected_head`` is malformed.
        """
        ...
