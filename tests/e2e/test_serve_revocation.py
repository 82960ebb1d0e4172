"""Two ``argus serve`` processes on one PostgreSQL: signing out on one is refused on the other.

The attack: a thief copied an access token. The owner signs out through one
server; the thief sends the token to another server of the same installation
(behind the same load balancer). The revocation set lives in the shared
database, so the other server refuses the token at once.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from argus.adapters.db.sql import async_url
from tests.auth_support import ADMIN, ADMIN_PASSWORD, bearer
from tests.e2e.serve_support import serving

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POSTGRES_URL = os.environ.get(
    "ARGUS_TEST_POSTGRES_URL", "postgresql://argus:argus@127.0.0.1:5432/argus_test"
)
SECRET = "e2e-revocation-secret-0123456789abcdef"


async def _admin(sql: str) -> None:
    # CREATE and DROP DATABASE cannot run inside a transaction.
    engine = create_async_engine(async_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(sql))
    finally:
        await engine.dispose()


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the installation; dropped afterwards."""
    name = f"argus_e2e_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    parts = urlsplit(POSTGRES_URL)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_sign_out_on_one_server_is_refused_on_the_other(tmp_path: Path, database_url: str) -> None:
    env = {"ARGUS_DATABASE_URL": database_url, "ARGUS_SECRET_KEY": SECRET}
    with (
        serving(tmp_path / "a", tmp_path / "a.log", env=env) as first,
        serving(tmp_path / "b", tmp_path / "b.log", env=env) as second,
    ):
        form = {"username": ADMIN, "password": ADMIN_PASSWORD}
        signed = httpx.post(f"{first.base}/api/v1/auth/token", data=form, timeout=30)
        assert signed.status_code == 200, signed.text
        tokens = signed.json()
        stolen = bearer(tokens["access_token"])
        on_second = httpx.get(f"{second.base}/api/v1/cameras", headers=stolen, timeout=30)
        assert on_second.status_code == 200, on_second.text

        out = httpx.post(f"{first.base}/api/v1/auth/logout", headers=stolen, timeout=30)
        assert out.status_code == 204, out.text

        for path in ("/api/v1/cameras", "/api/v1/auth/me"):
            refused = httpx.get(f"{second.base}{path}", headers=stolen, timeout=30)
            assert refused.status_code == 401, (path, refused.text)
        renewed = httpx.post(
            f"{second.base}/api/v1/auth/refresh",
            json={"refresh_token": tokens["refresh_token"]},
            timeout=30,
        )
        assert renewed.status_code == 401, renewed.text
