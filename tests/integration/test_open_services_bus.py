"""``open_adapters`` opens the bus ``ARGUS_BUS_URL`` names, on the real local brokers.

Each test uses its own bus prefix (so its own NATS stream and Redis keys) and
removes it afterwards. A second, independent connection to the broker sees
what the control plane's bus published: the events really went through it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import nats
import nats.js.errors
import pytest
import redis.asyncio as redis_asyncio

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.bus.nats import NatsEventBus
from argus.adapters.bus.redis_streams import RedisStreamsEventBus
from argus.bootstrap.adapters import EVENTS_SUBJECT, open_adapters, open_bus
from argus.config import Settings
from argus.domain.errors import BusError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.ports.bus import EventBus

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

NATS_URL = os.environ.get("ARGUS_TEST_NATS_URL", "nats://127.0.0.1:4222")
REDIS_URL = os.environ.get("ARGUS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WAIT = 20.0
"""Seconds to wait for a delivery that must come (generous for a loaded machine)."""


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A private bus prefix; its NATS stream and Redis keys are removed afterwards."""
    name = f"t{uuid.uuid4().hex[:12]}"
    yield name
    client = await nats.connect(NATS_URL)
    try:
        await client.jetstream().delete_stream(name.upper())
    except nats.js.errors.NotFoundError:
        pass
    finally:
        await client.close()
    redis = redis_asyncio.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{name}:*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


def _envelope() -> Envelope:
    return Envelope(
        event_id=new_event_id(),
        type="line.crossed",
        timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        source=EventSource(edge_node_id="edge-1", camera_id="cam-1"),
        payload={"line": "gate", "track_id": 1},
    )


async def _peer(kind: str, prefix: str) -> EventBus:
    """A second connection to the broker, opened the way the adapters' own tests open them."""
    if kind == "nats":
        return await NatsEventBus.connect(NATS_URL, stream=prefix.upper(), prefix=prefix)
    return await RedisStreamsEventBus.connect(REDIS_URL, prefix=prefix)


@pytest.mark.parametrize(("kind", "url"), [("nats", NATS_URL), ("redis", REDIS_URL)])
async def test_open_services_uses_the_broker_of_the_url(
    kind: str, url: str, prefix: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, bus_url=url, bus_prefix=prefix, node_id="cp-1")
    plane = await open_adapters(settings)
    try:
        assert plane.node_id == "cp-1"
        assert not isinstance(plane.bus, MemoryEventBus)
        sent = _envelope()
        await plane.bus.publish(EVENTS_SUBJECT, sent)
        peer = await _peer(kind, prefix)
        try:
            async with await peer.subscribe(EVENTS_SUBJECT, durable="peer") as subscription:
                with anyio.fail_after(WAIT):
                    delivery = await subscription.__anext__()
                await delivery.ack()
        finally:
            await peer.close()
        assert delivery.envelope == sent
        await plane.database.ping()
    finally:
        await plane.close()


async def test_open_services_defaults_to_the_in_process_bus(tmp_path: Path) -> None:
    plane = await open_adapters(Settings(data_dir=tmp_path))
    try:
        assert isinstance(plane.bus, MemoryEventBus)
        assert plane.node_id == "argus"
    finally:
        await plane.close()


async def test_an_unreachable_broker_is_a_bus_error(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        port = _closed_port()
        settings = Settings(data_dir=tmp_path, bus_url=f"redis://127.0.0.1:{port}/0")
        with pytest.raises(BusError, match="cannot connect to Redis"):
            await open_bus(settings)
        with pytest.raises(BusError, match="cannot connect to Redis"):
            await open_adapters(settings)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
