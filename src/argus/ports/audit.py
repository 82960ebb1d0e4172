"""The append-only audit log port."""

from __future__ import annotations

from typing import Protocol

from argus.domain.audit import AuditEntry, AuditRecord

__all__ = ["AuditLog"]


class AuditLog(Protocol):
    """An append-only, hash-chained log of security-relevant actions.

    ``append`` is safe under concurrency, across processes sharing one store:
    records get consecutive ``seq`` numbers and each chains to the one before.
    There is no update or delete.
    """

    async def append(self, entry: AuditEntry) -> AuditRecord:
        """Store ``entry`` as the next record of the chain and return it."""
        ...

    async def records(
        self, *, after_seq: int = 0, limit: int = 1000, target: str | None = None
    ) -> list[AuditRecord]:
        """Records with ``seq > after_seq`` in order, at most ``limit``; only those on
        ``target`` (exact match) when given."""
        ...

    async def count(self) -> int:
        """How many records there are."""
        ...
