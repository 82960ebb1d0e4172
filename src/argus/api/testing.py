"""Run an app's lifespan in-process, for tests and tools that call it without a server.

``httpx.ASGITransport`` (and other in-process clients) neither run the ASGI
lifespan nor pass its state to requests. ``running(app)`` does both: it starts
the lifespan, yields an ASGI app that hands each request a copy of the
lifespan state (as a server does), and shuts the lifespan down on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["running"]


@contextlib.asynccontextmanager
async def running(app: ASGIApp) -> AsyncIterator[ASGIApp]:
    """Start ``app``'s lifespan; yield the app with lifespan state; shut down on exit.

    Raises:
        Exception: The app's startup failed: the error it raised (as a server
            would log it), else a ``RuntimeError`` with its failure message.
        RuntimeError: The app's shutdown failed.
    """
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    started, stopped = asyncio.Event(), asyncio.Event()
    failure: list[str] = []

    async def receive() -> Message:
        return await inbox.get()

    async def send(message: Message) -> None:
        kind = message["type"]
        if kind.endswith(".failed"):
            failure.append(str(message.get("message", "")))
        (started if kind.startswith("lifespan.startup") else stopped).set()

    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}

    async def lifespan() -> None:
        await app(scope, receive, send)

    task = asyncio.create_task(lifespan())
    await inbox.put({"type": "lifespan.startup"})
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if failure or not started.is_set():
        if task.done():
            task.result()
        raise RuntimeError(f"app startup failed: {failure[0] if failure else 'no answer'}")

    async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, "state": dict(state)}, receive, send)

    try:
        yield with_state
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await task
        if failure:
            raise RuntimeError(f"app shutdown failed: {failure[-1]}")
