"""A real uvicorn server in the test's event loop, and a WebSocket client that waits."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp
from websockets.asyncio.client import ClientConnection, connect

from tests.auth_support import ADMIN, ADMIN_PASSWORD, bearer, sign_in

WAIT = 30.0
"""Seconds to wait for a message; generous for a loaded machine."""

Message = dict[str, Any]


class _Server(uvicorn.Server):
    """Uvicorn's server without its signal handlers: the test runner keeps Ctrl-C."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def served(app: ASGIApp) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port; yield ``host:port``; shut down gracefully."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="on", log_config=None, ws="websockets-sansio"
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the server stopped before it started")
        if loop.time() > deadline:
            raise AssertionError("the server did not start")
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class LiveClient:
    """A ``/ws`` connection that keeps what it read while waiting for something else."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.seen: list[Message] = []

    async def send(self, message: Message) -> None:
        """Send one JSON message."""
        await self.connection.send(json.dumps(message))

    async def expect(self, check: Callable[[Message], bool], what: str) -> Message:
        """The first message (already read, or next) that passes ``check``."""
        for earlier in self.seen:
            if check(earlier):
                self.seen.remove(earlier)
                return earlier
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while True:
            left = deadline - loop.time()
            if left <= 0:
                types = [m.get("type") for m in self.seen]
                raise AssertionError(f"timed out waiting for {what}; got {types}")
            try:
                raw = await asyncio.wait_for(self.connection.recv(), left)
            except TimeoutError:
                continue
            message: Message = json.loads(raw)
            if check(message):
                return message
            self.seen.append(message)

    async def expect_type(self, kind: str, **fields: object) -> Message:
        """The first message of type ``kind`` whose fields equal ``fields``."""

        def check(message: Message) -> bool:
            return message.get("type") == kind and all(
                message.get(k) == v for k, v in fields.items()
            )

        return await self.expect(check, f"{kind} {fields}")


async def token_for(address: str, username: str = ADMIN, password: str = ADMIN_PASSWORD) -> str:
    """Sign in over HTTP on ``address``; the access token."""
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=WAIT) as http:
        return str((await sign_in(http, username, password))["access_token"])


@asynccontextmanager
async def live_client(address: str, token: str | None = None) -> AsyncIterator[LiveClient]:
    """Open ``/ws`` on ``address`` signed in (as the test admin unless ``token`` is given);
    the welcome message is read already."""
    token = token or await token_for(address)
    async with connect(
        f"ws://{address}/ws", open_timeout=WAIT, additional_headers=bearer(token)
    ) as connection:
        client = LiveClient(connection)
        await client.expect_type("welcome")
        yield client
