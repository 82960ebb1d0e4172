"""Builds the API in-process over fakes of Argus's ports (memory) or a temporary SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.db.sql import SqlDatabase
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.api.testing import running
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from argus.domain.events import Envelope, EventSource, LineCrossed
from argus.ports.pipelines import PipelineSupervisor
from argus.ports.repositories import Database
from tests.auth_support import admin_token, bearer, settings_for

SECRET = b"api-test-secret-0123456789abcdef"
STORES = ("memory", "sqlite")
WAIT = 30.0
"""Seconds a test waits for the background ingest; generous for a loaded machine."""


@dataclass
class Api:
    """A running app and the fakes behind it."""

    client: httpx.AsyncClient
    plane: Adapters
    pipelines: MemoryPipelines
    bus: MemoryEventBus


async def open_store(kind: str, directory: Path) -> Database:
    if kind == "memory":
        return MemoryDatabase()
    return await SqlDatabase.open(f"sqlite:///{directory / 'argus.db'}", secret_key=SECRET)


@asynccontextmanager
async def api(
    kind: str,
    directory: Path,
    *,
    pipelines: PipelineSupervisor | None = None,
    settings: Settings | None = None,
    signed_in: bool = True,
) -> AsyncIterator[Api]:
    """The app over a store of ``kind``, an in-memory bus and in-memory pipelines.

    The client is signed in as the test admin unless ``signed_in`` is False.
    """
    fake = MemoryPipelines()
    plane = Adapters(
        database=await open_store(kind, directory),
        bus=MemoryEventBus(ack_wait=0.5),
        pipelines=pipelines if pipelines is not None else fake,
    )

    async def opener(_: Settings) -> Adapters:
        return plane

    app = build_app(settings or settings_for(directory), open_adapters=opener)
    async with (
        running(app) as asgi,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi, raise_app_exceptions=False),
            base_url="http://argus",
        ) as client,
    ):
        assert isinstance(plane.bus, MemoryEventBus)
        if signed_in:
            client.headers.update(bearer(await admin_token(client)))
        yield Api(client, plane, fake, plane.bus)


def crossing(camera_id: str, *, class_name: str = "person", second: int = 0) -> Envelope:
    """A line-crossing envelope from ``camera_id`` at 2026-03-01 12:00:<second>."""
    event = LineCrossed(
        line="door",
        track_id=7,
        class_id=0,
        class_name=class_name,
        direction="in",
        timestamp=1.0,
        confidence=0.9,
    )
    moment = datetime(2026, 3, 1, 12, 0, second, tzinfo=UTC)
    return Envelope.wrap(event, EventSource("edge-1", camera_id), moment)


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` until it holds (never a fixed sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
