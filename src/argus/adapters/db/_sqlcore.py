"""What every SQL repository shares: the translated transaction, counting, dialect inserts.

These live apart from ``sql`` so that repository modules ``sql`` wires in
(``alerts_sql``) can use them without an import cycle.
"""

from __future__ import annotations

import logging
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from argus.domain.errors import ConflictError, NotFoundError, StorageError

__all__ = [
    "Bind",
    "count_rows",
    "delete_by_id",
    "insert_for",
    "new_error_id",
    "storage_failure",
    "transaction",
]

log = logging.getLogger(__name__)

Bind = AsyncEngine | AsyncConnection
"""What a repository runs on: the engine (one transaction per call) or the open
connection of a unit of work (every call joins its transaction)."""


def new_error_id() -> str:
    """A short random id that ties a client's error message to its log record."""
    return secrets.token_hex(6)


def storage_failure(what: str, exc: BaseException) -> StorageError:
    """A ``StorageError`` for ``what`` that carries no database text.

    The driver's message can hold the SQL statement and its parameters (a
    password hash, the caller's input), so it goes to the log under a new error
    id and the error names only the operation and that id.
    """
    unreachable = _connection_failure(exc)
    if unreachable is not None:
        # The operating system's reason holds no database text and tells an
        # operator what to fix, so it is said rather than hidden behind an id.
        reason = unreachable.strerror or type(unreachable).__name__
        return StorageError(f"{what} failed: cannot reach the database ({reason})")
    error_id = new_error_id()
    log.error("%s failed (error %s): %s", what, error_id, exc, exc_info=exc)
    return StorageError(f"{what} failed (error {error_id})")


def _connection_failure(exc: BaseException) -> OSError | None:
    """The refused or failed connection behind ``exc``, if that is what it is."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionError | TimeoutError | socket.gaierror):
            return current
        orig = getattr(current, "orig", None)
        current = (
            orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
        )
    return None


@asynccontextmanager
async def transaction(bind: Bind, what: str) -> AsyncIterator[AsyncConnection]:
    """One transaction, with database errors translated into ``ArgusError``s.

    On an engine it begins and commits a transaction of its own; on the
    connection of a unit of work it joins the unit's transaction, which the
    unit commits or rolls back. A unique or foreign-key violation becomes
    ``ConflictError``, any other database or connection failure
    ``StorageError``; ``what`` names the operation in the message. Neither
    message quotes the database: its text (statement, parameters, constraint
    details) is logged under an error id.
    """
    try:
        if isinstance(bind, AsyncConnection):
            yield bind
        else:
            async with bind.begin() as connection:
                yield connection
    except sqlalchemy.exc.IntegrityError as exc:
        error_id = new_error_id()
        log.info("%s: constraint violated (error %s): %s", what, error_id, exc.orig)
        raise ConflictError(f"{what}: conflicts with a stored record (error {error_id})") from exc
    except (sqlalchemy.exc.SQLAlchemyError, OSError, UnicodeError) as exc:
        raise storage_failure(what, exc) from exc


async def delete_by_id(engine: Bind, table: sa.Table, kind: str, entity_id: str) -> None:
    """Delete the row of ``table`` with this id in its own transaction.

    Raises:
        NotFoundError: No row has the id (``"no {kind} {id}"``).
        StorageError: The database failed.
    """
    async with transaction(engine, f"deleting {kind} {entity_id}") as connection:
        result = await connection.execute(sa.delete(table).where(table.c.id == entity_id))
    if result.rowcount == 0:
        raise NotFoundError(f"no {kind} {entity_id}")


async def count_rows(connection: AsyncConnection, table: sa.Table, *where: Any) -> int:
    """``SELECT count(*)`` of ``table`` under the conditions ``where``."""
    total = await connection.scalar(sa.select(sa.func.count()).select_from(table).where(*where))
    return int(total or 0)


def insert_for(engine: Bind) -> Callable[[sa.Table], Any]:
    """The dialect's ``insert`` (with ``on_conflict_do_nothing``) for ``engine``."""
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
