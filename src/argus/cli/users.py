"""``argus users list|create|reset-password|unlock``: account recovery from a shell.

For when no admin can sign in any more (a forgotten password, a lost MFA
device, a lockout): whoever has shell access to the installation, and so its
database and secret, manages accounts here. The commands open the configured
database (``ARGUS_DATABASE_URL``, else the SQLite file in the data directory)
through the same ``AuthService`` as the API, so a reset ends the user's
sessions as a password change does, and every change goes to the audit trail
with the actor ``cli:<os user>``.

A one-time password is printed alone on stdout (so a script can capture it),
the notes around it on stderr. An unknown user, a taken name or an unreachable
database exit with status 1 and one line on stderr.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import typer

from argus.bootstrap.auth import open_auth_admin
from argus.cli._settings import load_settings
from argus.domain.actor import Actor
from argus.domain.errors import ConflictError, NotFoundError, StorageError
from argus.domain.identity import Role, User
from argus.ports.paging import MAX_PAGE, all_pages
from argus.services.auth import AuthService, NewUser, one_time_password

__all__ = ["users_app"]

T = TypeVar("T")

users_app = typer.Typer(
    help="List users, create one, reset a password or MFA, clear a lockout (account recovery).",
    no_args_is_help=True,
)

_DATA_DIR = typer.Option(
    None, "--data-dir", help="State directory (default: ARGUS_DATA_DIR or the user data dir)."
)
_USERNAME = typer.Argument(..., help="The user's sign-in name (exact).")


def cli_actor() -> str:
    """How the audit trail names this shell's user: ``cli:<login name>``."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login variable and no passwd entry (a container's bare uid)
        name = f"uid-{os.getuid()}"
    return f"cli:{name}"


def _redacted(url: str) -> str:
    """The database URL without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _with_auth(data_dir: Path | None, use: Callable[[AuthService], Awaitable[T]]) -> T:
    """Open the auth service, run ``use`` on it, close the database.

    Expected failures (no such user, a taken name, the database unreachable)
    print one line on stderr and exit with status 1.
    """
    settings = load_settings(data_dir)
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        # Migration chatter is noise here; --verbose shows it.
        logging.getLogger("alembic").setLevel(logging.WARNING)

    async def run() -> T:
        try:
            service, close = await open_auth_admin(settings)
        except StorageError as exc:
            where = _redacted(settings.resolved_database_url)
            raise StorageError(f"cannot open the database {where}: {exc}") from exc
        try:
            return await use(service)
        finally:
            await close()

    try:
        return asyncio.run(run())
    except (NotFoundError, ConflictError, StorageError) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc


def _show_password(username: str, password: str, *notes: str) -> None:
    """The one-time password alone on stdout; how to use it on stderr."""
    typer.echo(f"one-time password for {username!r} (shown once):", err=True)
    typer.echo(password)
    for note in (*notes, "It must be changed at the next sign-in."):
        typer.echo(note, err=True)


def _cameras(user: User) -> list[str] | None:
    return None if user.cameras is None else sorted(user.cameras)


def _locked_until(user: User, now: datetime) -> datetime | None:
    """The end of a lockout still in force (an expired one means nothing)."""
    return user.locked_until if user.locked(now) else None


def _as_json(user: User, now: datetime) -> dict[str, object]:
    locked = _locked_until(user, now)
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "cameras": _cameras(user),
        "disabled": user.disabled,
        "mfa": user.mfa_enabled,
        "locked_until": None if locked is None else locked.isoformat(),
        "failed_logins": user.failed_logins,
        "must_change_password": user.must_change_password,
    }


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _row(user: User, now: datetime) -> list[str]:
    cameras = _cameras(user)
    locked = _locked_until(user, now)
    return [
        user.username,
        user.role,
        "all" if cameras is None else ",".join(cameras),
        "yes" if user.disabled else "no",
        "on" if user.mfa_enabled else "off",
        "-" if locked is None else locked.astimezone().isoformat(timespec="seconds"),
        "yes" if user.must_change_password else "no",
    ]


@users_app.command("list")
def list_users(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array."),
    data_dir: Path | None = _DATA_DIR,
) -> None:
    """Show every user: role, cameras, disabled, MFA, lockout, must-change-password."""

    async def read(service: AuthService) -> list[User]:
        accounts = service.accounts
        return await all_pages(lambda offset: accounts.list_users(limit=MAX_PAGE, offset=offset))

    users = _with_auth(data_dir, read)
    now = datetime.now(UTC)
    if as_json:
        typer.echo(json.dumps([_as_json(u, now) for u in users], indent=2, ensure_ascii=False))
        return
    if not users:
        typer.echo("no users")
        return
    header = ["USERNAME", "ROLE", "CAMERAS", "DISABLED", "MFA", "LOCKED UNTIL", "MUST CHANGE"]
    for line in _table([header, *(_row(u, now) for u in users)]):
        typer.echo(line)


@users_app.command("create")
def create(
    username: str = _USERNAME,
    role: Role = typer.Option(..., "--role", help="viewer, operator or admin."),
    cameras: list[str] | None = typer.Option(
        None, "--camera", metavar="ID", help="Limit the user to this camera (repeat); default all."
    ),
    data_dir: Path | None = _DATA_DIR,
) -> None:
    """Create a user with a one-time password (e.g. a new admin when none is left)."""
    actor = Actor(principal=None, name=cli_actor())

    async def make(service: AuthService) -> str:
        password = one_time_password()
        await service.accounts.create_user(
            NewUser(
                username=username,
                password=password,
                role=role,
                cameras=frozenset(cameras) if cameras else None,
                must_change_password=True,
            ),
            actor,
        )
        return password

    password = _with_auth(data_dir, make)
    _show_password(username, password, f"created {role} {username!r}.")


@users_app.command("reset-password")
def reset_password(
    username: str = _USERNAME,
    reset_mfa: bool = typer.Option(
        False, "--reset-mfa", help="Also remove the user's MFA (TOTP secret and recovery codes)."
    ),
    data_dir: Path | None = _DATA_DIR,
) -> None:
    """Set a one-time password, clear the lockout and end the user's sessions."""
    actor = Actor(principal=None, name=cli_actor())

    async def reset(service: AuthService) -> tuple[User, str]:
        user = await service.accounts.user_named(username)
        return await service.accounts.reset_password(user.id, actor, reset_mfa=reset_mfa)

    _, password = _with_auth(data_dir, reset)
    notes = ["its sessions were ended and its lockout cleared."]
    if reset_mfa:
        notes.append("MFA was removed: the user may enrol again after signing in.")
    _show_password(username, password, *notes)


@users_app.command("unlock")
def unlock(username: str = _USERNAME, data_dir: Path | None = _DATA_DIR) -> None:
    """Clear a lockout after failed sign-ins."""
    actor = Actor(principal=None, name=cli_actor())

    async def clear(service: AuthService) -> User:
        user = await service.accounts.user_named(username)
        return await service.accounts.unlock_user(user.id, actor)

    _with_auth(data_dir, clear)
    typer.echo(f"unlocked {username!r}")
