"""Run the packaged Alembic migrations programmatically (no ``alembic.ini``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["MIGRATIONS", "current_revision", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
"""The migration scripts, installed with the package."""


def _config(schema: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["schema"] = schema
    return config


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


async def upgrade(engine: AsyncEngine, revision: str = "head", schema: str | None = None) -> None:
    """Upgrade the database behind ``engine`` to ``revision`` in one transaction.

    Args:
        engine: The database.
        revision: Target revision (``"head"``: the newest).
        schema: PostgreSQL schema holding Argus's tables (and the version
            table); ``None`` for the connection's default.
    """

    def run(connection: Connection) -> None:
        config = _config(schema)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def current_revision(engine: AsyncEngine, schema: str | None = None) -> str | None:
    """The revision the database is at, or ``None`` for an empty database."""

    def read(connection: Connection) -> str | None:
        options = {"version_table_schema": schema} if schema else {}
        return MigrationContext.configure(connection, opts=options).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)
