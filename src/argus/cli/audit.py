"""``argus audit verify|list``: check the tamper-evident audit log, show its records.

Both open the configured database (``ARGUS_DATABASE_URL``, else the SQLite file
in the data directory) with the installation secret, from which the chain key
is derived. ``verify`` exits with status 1 when the chain is broken.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import typer

from argus.bootstrap.audit import open_audit_log
from argus.cli._settings import load_settings
from argus.config import Settings
from argus.domain.audit import AuditRecord, ChainReport, parse_head
from argus.domain.errors import ConfigError, ValidationError
from argus.domain.identity import printable
from argus.ports.audit import AuditFilter, AuditLog
from argus.ports.paging import MAX_PAGE, Page

__all__ = ["audit_app"]

T = TypeVar("T")

audit_app = typer.Typer(
    help="Check the tamper-evident audit log and list its records.", no_args_is_help=True
)

_DATA_DIR = typer.Option(
    None, "--data-dir", help="State directory (default: ARGUS_DATA_DIR or the user data dir)."
)


def _with_log(settings: Settings, use: Callable[[AuditLog], Awaitable[T]]) -> T:
    """Open the audit log, run ``use`` on it, and close the database."""
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        # Migration chatter is noise here; --verbose shows it.
        logging.getLogger("alembic").setLevel(logging.WARNING)

    async def run() -> T:
        log, close = await open_audit_log(settings)
        try:
            return await use(log)
        finally:
            await close()

    return asyncio.run(run())


@audit_app.command("verify")
def verify(
    expect_head: str | None = typer.Option(
        None,
        "--expect-head",
        metavar="SEQ:HASH",
        help="A head recorded earlier (printed by a previous verify); a log that ends "
        "before it, or differs at it, was truncated.",
    ),
    data_dir: Path | None = _DATA_DIR,
) -> None:
    """Recompute every record's chain hash; name each edited, deleted or reordered record."""
    try:
        anchor = None if expect_head is None else parse_head(expect_head)
    except ValidationError as exc:
        raise ConfigError(f"--expect-head: {exc}") from exc

    async def check(log: AuditLog) -> ChainReport:
        return await log.verify(expected_head=anchor)

    report = _with_log(load_settings(data_dir), check)
    seq, head_hash = report.head
    if report.ok:
        typer.echo(f"audit chain OK: {report.records} records, head {seq} {head_hash}")
        return
    for problem in report.problems:
        typer.secho(str(problem), fg=typer.colors.RED)
    typer.echo(
        f"audit chain BROKEN: {len(report.problems)} problem(s) in {report.records} records, "
        f"head {seq} {head_hash}"
    )
    raise typer.Exit(1)


def _aware(value: datetime | None) -> datetime | None:
    """Command-line times without a zone are taken as local time."""
    return None if value is None or value.tzinfo is not None else value.astimezone()


@audit_app.command("list")
def list_records(
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=MAX_PAGE, help="Records to show."),
    offset: int = typer.Option(0, "--offset", min=0, help="Newest records to skip."),
    actor: str | None = typer.Option(None, "--actor", help="Only this actor (exact)."),
    action: str | None = typer.Option(
        None, "--action", help="Only actions starting with this, e.g. 'auth.'."
    ),
    target: str | None = typer.Option(None, "--target", help="Only this target (exact)."),
    since: datetime | None = typer.Option(
        None, "--since", help="Only records at or after this time (local unless it has a zone)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
    data_dir: Path | None = _DATA_DIR,
) -> None:
    """Show the newest records, newest first."""
    where = AuditFilter(actor=actor, action=action, target=target, since=_aware(since))

    async def read(log: AuditLog) -> Page[AuditRecord]:
        return await log.list(limit=limit, offset=offset, where=where)

    page = _with_log(load_settings(data_dir), read)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in page.items], indent=2, ensure_ascii=False))
        return
    typer.echo(f"{len(page.items)} of {page.total} records, newest first")
    for record in page.items:
        entry = record.entry
        at = entry.at.isoformat(timespec="seconds")
        # Every field is escaped: a stored name with a newline or a terminal escape
        # (a sign-in attempt's username, say) must not forge a line of this listing.
        outcome, actor, action = (printable(v) for v in (entry.outcome, entry.actor, entry.action))
        target, ip = printable(entry.target or "-"), printable(entry.ip or "")
        typer.echo(
            f"{record.seq:>8}  {at}  {outcome:<7}  {actor:<20}  "
            f"{action:<24}  {target}  {ip}".rstrip()
        )
