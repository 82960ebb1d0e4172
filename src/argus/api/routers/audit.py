"""``/api/v1/audit``: the hash-chained audit trail (admin only)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from argus.api.deps import RuntimeDep
from argus.api.schemas.audit import AuditList, AuditRecordPublic, ChainReportPublic
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, Moment
from argus.api.security import Caller, audited
from argus.domain.audit import parse_head
from argus.domain.errors import ValidationError
from argus.ports.audit import AuditFilter
from argus.ports.paging import MAX_PAGE

__all__ = ["router"]

router = APIRouter(prefix="/audit", tags=["audit"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})


@router.get("", summary="Query the audit trail")
async def list_records(
    runtime: RuntimeDep,
    who: Caller,
    actor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    action: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Action or its prefix.")
    ] = None,
    target: Annotated[str | None, Query(min_length=1, max_length=300)] = None,
    outcome: Literal["success", "failure", "denied"] | None = None,
    since: Annotated[Moment | None, Query(description="At or after (with offset).")] = None,
    until: Annotated[Moment | None, Query(description="Strictly before (with offset).")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditList:
    """Records matching every filter, newest first."""
    del who
    where = AuditFilter(
        actor=actor, action=action, target=target, outcome=outcome, since=since, until=until
    )
    page = await runtime.audit.list(limit=limit, offset=offset, where=where)
    return AuditList(
        items=[AuditRecordPublic.of(r) for r in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get("/verify", summary="Verify the audit chain")
async def verify(
    request: Request,
    runtime: RuntimeDep,
    who: Caller,
    expect_head: Annotated[
        str | None,
        Query(
            max_length=100,
            description="SEQ:HASH recorded earlier: catches records cut off the end.",
        ),
    ] = None,
) -> ChainReportPublic:
    """Check every record's hash and link; reports each edited, deleted or reordered record."""
    anchor = None
    if expect_head is not None:
        try:
            anchor = parse_head(expect_head)
        except ValidationError as exc:
            raise ValidationError(f"expect_head: {exc}") from exc
    report = await runtime.audit.verify(expected_head=anchor)
    await audited(
        runtime,
        request,
        who,
        "audit.verify",
        "audit",
        outcome="success" if report.ok else "failure",
        records=report.records,
        problems=len(report.problems),
    )
    return ChainReportPublic.of(report)
