"""Ending a session ends it at once: on every route, on ``/ws`` and on live video, on every server.

The attacks: a thief holds a copy of a session's access token (and maybe its
refresh token). Before, signing out or a reused refresh token only revoked
the refresh tokens, and the access token kept working for up to 15 minutes;
the dashboard's own sign-out sent an empty body and was refused (422).

Every case runs against a real uvicorn server over each store (in-memory,
SQLite, PostgreSQL); the several-servers case runs two servers on one
PostgreSQL schema and one NATS stream. The periodic re-check of sockets and
streams is pushed out to an hour, so only the revocation can close them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.exceptions import ConnectionClosed

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.bus.nats import NatsEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.db.sql import SqlDatabase, async_url
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.api import streams
from argus.api.routers import live as live_router
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from argus.ports.bus import EventBus
from argus.ports.repositories import Database
from tests.auth_support import ADMIN, ADMIN_PASSWORD, bearer, make_user, settings_for, sign_in
from tests.integration.api_support import SECRET
from tests.integration.live_support import WAIT, LiveClient, live_client, served

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

POSTGRES_URL = os.environ.get(
    "ARGUS_TEST_POSTGRES_URL", "postgresql://argus:argus@127.0.0.1:5432/argus_test"
)
NATS_URL = os.environ.get("ARGUS_TEST_NATS_URL", "nats://127.0.0.1:4222")
STORES = ("memory", "sqlite", "postgres")
HOUR = 3600.0

Opener = Callable[[str], Awaitable[Adapters]]


@pytest.fixture(autouse=True)
def no_periodic_recheck(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sockets and streams re-check only when told a session ended (within the test)."""
    monkeypatch.setattr(live_router, "RECHECK_INTERVAL", HOUR)
    monkeypatch.setattr(streams, "RECHECK_INTERVAL", HOUR)


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    """A private PostgreSQL schema, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield name
    engine = create_async_engine(async_url(POSTGRES_URL))
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    finally:
        await engine.dispose()


async def _store(kind: str, directory: Path, schema: str) -> Database:
    if kind == "memory":
        return MemoryDatabase()
    if kind == "sqlite":
        return await SqlDatabase.open(f"sqlite:///{directory / 'argus.db'}", secret_key=SECRET)
    return await SqlDatabase.open(POSTGRES_URL, secret_key=SECRET, schema=schema)


@contextlib.asynccontextmanager
async def _server(
    database: Database, bus: EventBus, directory: Path, name: str = "server-a", **settings: Any
) -> AsyncIterator[str]:
    # One installation secret for every server, as a deployment shares its secret key.
    plane = Adapters(
        database=database, bus=bus, pipelines=MemoryPipelines(), node_id=name, secret=SECRET
    )

    async def opener(_: Settings) -> Adapters:
        return plane

    app = build_app(settings_for(directory / name, **settings), open_adapters=opener)
    async with served(app) as address:
        yield address


@contextlib.asynccontextmanager
async def _one_server(kind: str, tmp_path: Path, schema: str) -> AsyncIterator[httpx.AsyncClient]:
    database = await _store(kind, tmp_path, schema)
    async with (
        _server(database, MemoryEventBus(ack_wait=0.5), tmp_path) as address,
        httpx.AsyncClient(base_url=f"http://{address}", timeout=WAIT) as http,
    ):
        yield http


async def _me(http: httpx.AsyncClient, access: str) -> int:
    return (await http.get("/api/v1/auth/me", headers=bearer(access))).status_code


async def _refresh(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def _refused_everywhere(http: httpx.AsyncClient, access: str) -> None:
    for path in ("/api/v1/auth/me", "/api/v1/cameras", "/api/v1/alerts"):
        answer = await http.get(path, headers=bearer(access))
        assert answer.status_code == 401, f"{path}: {answer.status_code} {answer.text}"


@pytest.mark.parametrize("kind", STORES)
async def test_logout_refuses_the_sessions_access_token_at_once(
    kind: str, tmp_path: Path, schema: str
) -> None:
    async with _one_server(kind, tmp_path, schema) as http:
        stolen = await sign_in(http)
        other = await sign_in(http)
        assert await _me(http, stolen["access_token"]) == 200
        out = await http.post(
            "/api/v1/auth/logout", json={"refresh_token": stolen["refresh_token"]}
        )
        assert out.status_code == 204, out.text
        await _refused_everywhere(http, stolen["access_token"])
        assert (await _refresh(http, stolen["refresh_token"])).status_code == 401
        # Another sign-in of the same user is another session, untouched.
        assert await _me(http, other["access_token"]) == 200
        assert (await _refresh(http, other["refresh_token"])).status_code == 200


@pytest.mark.parametrize("kind", STORES)
async def test_signing_out_with_the_access_token_alone_ends_the_session(
    kind: str, tmp_path: Path, schema: str
) -> None:
    """What the dashboard used to send: no body, only the bearer (answered 422 before)."""
    async with _one_server(kind, tmp_path, schema) as http:
        tokens = await sign_in(http)
        out = await http.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
        assert out.status_code == 204, out.text
        await _refused_everywhere(http, tokens["access_token"])
        assert (await _refresh(http, tokens["refresh_token"])).status_code == 401
        admin = (await sign_in(http))["access_token"]
        trail = await http.get(
            "/api/v1/audit", params={"action": "auth.logout"}, headers=bearer(admin)
        )
        assert [r["action"] for r in trail.json()["items"]] == ["auth.logout"]
        # Signing out again, or with garbage, is harmless and adds no record.
        again = await http.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))
        assert again.status_code == 204
        junk = await http.post("/api/v1/auth/logout", json={}, headers=bearer("a.b.c"))
        assert junk.status_code == 204
        trail = await http.get(
            "/api/v1/audit", params={"action": "auth.logout"}, headers=bearer(admin)
        )
        assert trail.json()["total"] == 1


@pytest.mark.parametrize("kind", STORES)
async def test_a_reused_refresh_token_refuses_the_sessions_access_tokens(
    kind: str, tmp_path: Path, schema: str
) -> None:
    async with _one_server(kind, tmp_path, schema) as http:
        first = await sign_in(http)
        rotated = await _refresh(http, first["refresh_token"])
        assert rotated.status_code == 200, rotated.text
        second_access = rotated.json()["access_token"]
        assert await _me(http, second_access) == 200
        reused = await _refresh(http, first["refresh_token"])  # the thief's copy
        assert reused.status_code == 401
        for access in (first["access_token"], second_access):
            await _refused_everywhere(http, access)


async def _closed_unauthorised(client: LiveClient) -> None:
    error = await client.expect_type("error", code="unauthorized")
    assert "signed out" in error["message"]
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(client.connection.recv(), WAIT)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == live_router.UNAUTHORIZED


async def test_logout_closes_the_sessions_socket_and_video_at_once(tmp_path: Path) -> None:
    async with _one_server("memory", tmp_path, "unused") as http:
        tokens = await sign_in(http)
        access = tokens["access_token"]
        camera = await http.post(
            "/api/v1/cameras",
            json={"name": "door", "stream_url": "rtsp://127.0.0.1:8554/door"},
            headers=bearer(access),
        )
        assert camera.status_code == 201, camera.text
        url = f"/api/v1/cameras/{camera.json()['id']}/stream"
        address = str(http.base_url.netloc.decode())
        async with (
            live_client(address, access) as client,
            http.stream("GET", url, headers=bearer(access)) as video,
        ):
            assert video.status_code == 200
            chunks = video.aiter_bytes()
            assert (await asyncio.wait_for(anext(chunks), WAIT)).startswith(b"--frame")
            out = await http.post("/api/v1/auth/logout", headers=bearer(access))
            assert out.status_code == 204
            await _closed_unauthorised(client)

            async def drain() -> None:
                async for _ in chunks:
                    pass

            await asyncio.wait_for(drain(), WAIT)  # the stream ended; an hour was not waited


@pytest.fixture
async def nats_namespace() -> AsyncIterator[tuple[str, str]]:
    """A private JetStream stream and subject prefix; removed afterwards."""
    stream, prefix = f"TEST_{uuid.uuid4().hex[:12]}", f"t{uuid.uuid4().hex[:12]}"
    yield stream, prefix
    client = await nats.connect(NATS_URL)
    try:
        with contextlib.suppress(Exception):
            await client.jetstream().delete_stream(stream)
    finally:
        await client.close()


async def test_logout_on_one_server_is_refused_at_once_on_another(
    tmp_path: Path, schema: str, nats_namespace: tuple[str, str]
) -> None:
    stream, prefix = nats_namespace

    async def bus() -> NatsEventBus:
        return await NatsEventBus.connect(
            NATS_URL, stream=stream, prefix=prefix, ack_wait=2.0, poll_interval=0.2
        )

    first = await SqlDatabase.open(POSTGRES_URL, secret_key=SECRET, schema=schema)
    async with _server(first, await bus(), tmp_path, "server-a") as a:
        second = await SqlDatabase.open(POSTGRES_URL, secret_key=SECRET, schema=schema)
        async with (
            _server(second, await bus(), tmp_path, "server-b") as b,
            httpx.AsyncClient(base_url=f"http://{a}", timeout=WAIT) as on_a,
            httpx.AsyncClient(base_url=f"http://{b}", timeout=WAIT) as on_b,
        ):
            tokens = await sign_in(on_a)
            access = tokens["access_token"]
            assert await _me(on_b, access) == 200
            async with live_client(b, access) as socket_on_b:
                out = await on_a.post("/api/v1/auth/logout", headers=bearer(access))
                assert out.status_code == 204
                await _refused_everywhere(on_b, access)
                assert (await _refresh(on_b, tokens["refresh_token"])).status_code == 401
                await _closed_unauthorised(socket_on_b)


async def test_one_user_cannot_take_every_video_stream(tmp_path: Path) -> None:
    """The attack: a camera-scoped viewer opened 32 streams and the admin got 503."""
    cap = 2
    async with (
        _server(
            MemoryDatabase(),
            MemoryEventBus(ack_wait=0.5),
            tmp_path,
            streams_per_principal=cap,
        ) as address,
        httpx.AsyncClient(base_url=f"http://{address}", timeout=WAIT) as http,
        contextlib.AsyncExitStack() as stack,
    ):
        admin = (await sign_in(http, ADMIN, ADMIN_PASSWORD))["access_token"]
        made = await http.post(
            "/api/v1/cameras",
            json={"name": "door", "stream_url": "rtsp://127.0.0.1:8554/door"},
            headers=bearer(admin),
        )
        camera = made.json()["id"]
        viewer = await make_user(http, admin, "viewer", "viewer", [camera])
        url = f"/api/v1/cameras/{camera}/stream"
        for _ in range(cap):
            held = await stack.enter_async_context(http.stream("GET", url, headers=bearer(viewer)))
            assert held.status_code == 200
        refused = await http.get(url, headers=bearer(viewer))
        assert refused.status_code == 429, refused.text
        assert refused.headers["retry-after"] == "5"
        async with http.stream("GET", url, headers=bearer(admin)) as mine:
            assert mine.status_code == 200, "the admin still gets live video"
        await stack.aclose()
        # The viewer's closed streams count no more (the server notices the disconnects).
        for _ in range(int(WAIT / 0.05)):
            async with http.stream(
                "GET", url, params={"frames": "1"}, headers=bearer(viewer)
            ) as again:
                if again.status_code == 200:
                    break
            await asyncio.sleep(0.05)
        assert again.status_code == 200
