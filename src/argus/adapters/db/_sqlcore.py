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

from argus.domain.errors import ConflictError, StorageError

__all__ = ["count_rows", "insert_for", "transaction"]


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


async def count_rows(connection: AsyncConnection, table: sa.Table, *where: Any) -> int:
    """``SELECT count(*)`` of ``table`` under the conditions ``where``."""
    total = await connection.scalar(sa.select(sa.func.count()).select_from(table).where(*where))
    return int(total or 0)


def insert_for(engine: AsyncEngine) -> Callable[[sa.Table], Any]:
    """The dialect's ``insert`` (with ``on_conflict_do_nothing``) for ``engine``."""
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
