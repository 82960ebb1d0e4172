"""Two servers on one PostgreSQL and one NATS JetStream: every client sees every alert.

Each server has its own database and broker connections, as two processes
would. The event is published by a third connection (an edge node); one
server raises the alert (they share the durable alerting consumer), and the
fan-out of alert changes brings it to the WebSocket clients of both. An
acknowledgement on one server reaches the clients of the other.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import nats
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from argus.adapters.bus.nats import NatsEventBus
from argus.adapters.db.sql import SqlDatabase, async_url
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.bootstrap.adapters import EVENTS_SUBJECT, Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from tests.auth_support import bearer, settings_for
from tests.integration.api_support import SECRET, crossing
from tests.integration.live_support import live_client, served, token_for

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

POSTGRES_URL = os.environ.get(
    "ARGUS_TEST_POSTGRES_URL", "postgresql://argus:argus@127.0.0.1:5432/argus_test"
)
NATS_URL = os.environ.get("ARGUS_TEST_NATS_URL", "nats://127.0.0.1:4222")


@pytest.fixture
async def namespace() -> AsyncIterator[tuple[str, str, str]]:
    """A private PostgreSQL schema, JetStream stream and subject prefix; removed afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    stream = f"TEST_{uuid.uuid4().hex[:12]}"
    prefix = f"t{uuid.uuid4().hex[:12]}"
    yield schema, stream, prefix
    engine = create_async_engine(async_url(POSTGRES_URL))
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()
    client = await nats.connect(NATS_URL)
    try:
        with contextlib.suppress(Exception):
            await client.jetstream().delete_stream(stream)
    finally:
        await client.close()


async def _bus(stream: str, prefix: str) -> NatsEventBus:
    return await NatsEventBus.connect(
        NATS_URL, stream=stream, prefix=prefix, ack_wait=2.0, poll_interval=0.2
    )


@contextlib.asynccontextmanager
async def _server(name: str, tmp_path: Path, namespace: tuple[str, str, str]) -> AsyncIterator[str]:
    schema, stream, prefix = namespace
    database = await SqlDatabase.open(POSTGRES_URL, secret_key=SECRET, schema=schema)
    plane = Adapters(
        database=database,
        bus=await _bus(stream, prefix),
        pipelines=MemoryPipelines(),
        node_id=name,
    )

    async def opener(_: Settings) -> Adapters:
        return plane

    app = build_app(settings_for(tmp_path / name), open_adapters=opener)
    async with served(app) as address:
        yield address


async def test_every_client_of_every_server_sees_every_alert(
    tmp_path: Path, namespace: tuple[str, str, str]
) -> None:
    _, stream, prefix = namespace
    async with (
        _server("server-a", tmp_path, namespace) as a,
        _server("server-b", tmp_path, namespace) as b,
        httpx.AsyncClient(base_url=f"http://{a}") as http,
        live_client(a) as client_a,
        live_client(b) as client_b,
    ):
        http.headers.update(bearer(await token_for(a)))
        rule = await http.post("/api/v1/rules", json={"name": "door", "weight": 0.5})
        assert rule.status_code == 201, rule.text
        for client in (client_a, client_b):
            await client.send({"type": "subscribe", "channels": ["alerts"], "request_id": "s"})
            await client.expect_type("subscribed", request_id="s")

        edge = await _bus(stream, prefix)
        try:
            event = crossing("cam-1")
            await edge.publish(EVENTS_SUBJECT, event)
        finally:
            await edge.close()

        seen_a = await client_a.expect_type("alert.created")
        seen_b = await client_b.expect_type("alert.created")
        assert seen_a["alert"]["id"] == seen_b["alert"]["id"]
        assert seen_a["alert"]["event_id"] == event.event_id
        alert_id = seen_a["alert"]["id"]

        await client_b.send({"type": "ack", "alert_id": alert_id, "request_id": "k"})
        await client_b.expect_type("ack.ok", request_id="k")
        acked = await client_a.expect(
            lambda m: (
                m.get("type") == "alert.updated"
                and m["alert"]["id"] == alert_id
                and m["alert"]["state"] == "acknowledged"
            ),
            "the acknowledgement made on the other server",
        )
        assert acked["alert"]["history"][-1]["actor"] == "user:admin"

        listed = (await http.get("/api/v1/alerts")).json()
        assert listed["total"] == 1  # one alert, however many servers consumed the event
