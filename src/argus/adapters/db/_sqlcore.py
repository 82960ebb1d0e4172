"""What every SQL repository shares: the translated transaction, counting, dialect inserts.

These live apart from ``sql`` so that repository modules ``sql`` wires in
(``alerts_sql``) can use them without an import cycle.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from argus.domain.errors import ConflictError, NotFoundError, StorageError

__all__ = ["count_rows", "delete_by_id", "insert_for", "transaction"]


@asynccontextmanager
async def transaction(engine: AsyncEngine, what: str) -> AsyncIterator[AsyncConnection]:
    """One transaction, with database errors translated into ``ArgusError``s.

    A unique or foreign-key violation becomes ``ConflictError``, any other
    database or connection failure ``StorageError``; ``what`` names the
    operation in the message.
    """
    try:
        async with engine.begin() as connection:
            yield connection
    except sqlalchemy.exc.IntegrityError as exc:
        raise ConflictError(f"{what}: {exc.orig}") from exc
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as exc:
        raise StorageError(f"{what} failed: {exc}") from exc


async def delete_by_id(engine: AsyncEngine, table: sa.Table, kind: str, entity_id: str) -> None:
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


def insert_for(engine: AsyncEngine) -> Callable[[sa.Table], Any]:
    """The dialect's ``insert`` (with ``on_conflict_do_nothing``) for ``engine``."""
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
