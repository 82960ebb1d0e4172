"""The attack of issue 15, finding 9: a viewer floods ``/analytics/counts`` with year-long queries.

Before the work budget, forty concurrent year-long queries of one viewer each
held a database connection, and an admin's ``GET /alerts`` waited 16.9 s for
one. Here the database (PostgreSQL) is made to hold the viewer's queries in
flight (another connection locks ``event_rollups``), so the test decides the
order, not the clock: the viewer's first queries (its budget, 3 by default)
run, the other 37 are answered 429 with ``Retry-After`` at once, and while
those still wait the admin lists alerts and signs in. Releasing the lock lets
them finish.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.sql import SqlDatabase, async_url
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.api.testing import running
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from argus.domain.events import Envelope, EventSource, LineCrossed
from tests.auth_support import admin_token, bearer, make_user, settings_for, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

POSTGRES_URL = os.environ.get(
    "ARGUS_TEST_POSTGRES_URL", "postgresql://argus:argus@127.0.0.1:5432/argus_test"
)
SECRET = b"budget-test-secret-0123456789abc"
WAIT = 60.0
"""Seconds the refused queries may take to be answered; generous for a loaded machine."""
YEAR = {"since": "2025-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z", "interval": "day"}
FLOOD = 40
BUDGET: int = Settings.model_fields["analytics_queries_per_principal"].default


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    engine = create_async_engine(async_url(POSTGRES_URL))
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    finally:
        await engine.dispose()


def _crossing(day: int) -> Envelope:
    event = LineCrossed("door", day, 0, "person", "in", 0.0, confidence=0.9)
    moment = datetime(2025, 1, 1, 12, tzinfo=UTC) + timedelta(days=day)
    return Envelope.wrap(event, EventSource("edge-1", "cam-1"), moment)


async def test_a_viewer_flooding_year_queries_is_refused_and_the_admin_is_served(
    schema: str, tmp_path: Path
) -> None:
    database = await SqlDatabase.open(POSTGRES_URL, secret_key=SECRET, schema=schema)
    await database.events.add_many([_crossing(day) for day in range(365)])
    plane = Adapters(
        database=database, bus=MemoryEventBus(ack_wait=0.5), pipelines=MemoryPipelines()
    )

    async def opener(_: Settings) -> Adapters:
        return plane

    app = build_app(settings_for(tmp_path), open_adapters=opener)
    locker = create_async_engine(
        async_url(POSTGRES_URL), connect_args={"server_settings": {"search_path": schema}}
    )
    async with (
        running(app) as asgi,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi, raise_app_exceptions=False),
            base_url="http://argus",
        ) as client,
    ):
        admin = await admin_token(client)
        viewer = await make_user(client, admin, "flooder", "viewer")
        try:
            async with locker.connect() as lock:
                await lock.execute(sa.text("LOCK TABLE event_rollups IN ACCESS EXCLUSIVE MODE"))

                async def year() -> httpx.Response:
                    return await client.get(
                        "/api/v1/analytics/counts", params=YEAR, headers=bearer(viewer)
                    )

                flood = [asyncio.create_task(year()) for _ in range(FLOOD)]
                done, running_ = await asyncio.wait(
                    flood, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED
                )
                while len(done) < FLOOD - BUDGET:
                    more, running_ = await asyncio.wait(
                        running_, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED
                    )
                    assert more, f"only {len(done)} of the flood were answered; the rest queue"
                    done |= more
                refused = [task.result() for task in done]
                assert [r.status_code for r in refused] == [429] * (FLOOD - BUDGET)
                assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
                assert len(running_) == BUDGET  # the viewer's slots, held by the lock

                alerts = await client.get("/api/v1/alerts", headers=bearer(admin))
                assert alerts.status_code == 200, alerts.text
                assert "access_token" in await sign_in(client)
                assert not any(task.done() for task in running_)
                await lock.rollback()  # the lock goes; the held queries run
            served = await asyncio.gather(*running_)
        finally:
            await locker.dispose()
        assert [r.status_code for r in served] == [200] * BUDGET
        for answer in served:
            assert sum(item["count"] for item in answer.json()["items"]) == 365
        again = await client.get("/api/v1/analytics/counts", params=YEAR, headers=bearer(viewer))
        assert again.status_code == 200  # slots are given back
