"""Bodies of the audit trail's admin API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, Field

from argus.domain.audit import AuditRecord, ChainReport

__all__ = ["AuditList", "AuditRecordPublic", "ChainReportPublic"]


class AuditRecordPublic(BaseModel):
    """One record of the audit trail."""

    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    outcome: str
    ip: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, record: AuditRecord) -> Self:
        """The public view of ``record``."""
        return cls.model_validate(record.fields())


class AuditList(BaseModel):
    """A page of audit records, newest first."""

    items: list[AuditRecordPublic]
    total: int
    limit: int
    offset: int


class ChainProblemPublic(BaseModel):
    """One thing wrong with the chain."""

    seq: int
    kind: str = Field(description="edited, deleted, reordered or truncated.")
    detail: str


class ChainReportPublic(BaseModel):
    """The outcome of checking the whole chain."""

    ok: bool
    records: int
    head_seq: int
    head_hash: str = Field(description="Keep it elsewhere: a later truncation is then caught.")
    problems: list[ChainProblemPublic]

    @classmethod
    def of(cls, report: ChainReport) -> Self:
        """The public view of ``report``."""
        return cls(
            ok=report.ok,
            records=report.records,
            head_seq=report.head[0],
            head_hash=report.head[1],
            problems=[
                ChainProblemPublic(seq=p.seq, kind=p.kind, detail=p.detail) for p in report.problems
            ],
        )
