"""``/ws``: typed live messages both ways (see ``argus.api.schemas.live``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError as PydanticValidationError

from argus.api.deps import Runtime
from argus.api.live import CHANNEL_PATTERN, Client, LiveHub
from argus.api.schemas.live import (
    AckMessage,
    PingMessage,
    SubscribeMessage,
    UnsubscribeMessage,
    client_messages,
)
from argus.domain.errors import ArgusError, ConflictError, NotFoundError, ValidationError

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

MAX_MESSAGE = 64 * 1024
"""Largest client message, in characters."""


def _error(code: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, "request_id": request_id}


_ERROR_CODES: tuple[tuple[type[ArgusError], str], ...] = (
    (ValidationError, "invalid"),
    (NotFoundError, "not_found"),
    (ConflictError, "conflict"),
    (ArgusError, "unavailable"),
)

Message = SubscribeMessage | UnsubscribeMessage | AckMessage | PingMessage


async def _handle(text: str, client: Client, hub: LiveHub, runtime: Runtime) -> dict[str, Any]:
    """The reply to one client message."""
    if len(text) > MAX_MESSAGE:
        return _error("invalid", f"message longer than {MAX_MESSAGE} characters")
    try:
        message = client_messages.validate_json(text)
    except PydanticValidationError as exc:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}" for e in exc.errors()
        )
        return _error("invalid", detail)
    try:
        reply = await _dispatch(message, client, hub, runtime)
    except ArgusError as exc:
        code = next(code for kind, code in _ERROR_CODES if isinstance(exc, kind))
        return _error(code, str(exc), message.request_id)
    return {**reply, "request_id": message.request_id}


async def _dispatch(
    message: Message, client: Client, hub: LiveHub, runtime: Runtime
) -> dict[str, Any]:
    if isinstance(message, SubscribeMessage):
        return {"type": "subscribed", "channels": hub.subscribe(client, message.channels)}
    if isinstance(message, UnsubscribeMessage):
        return {"type": "unsubscribed", "channels": hub.unsubscribe(client, message.channels)}
    if isinstance(message, AckMessage):
        alert = await runtime.alerts.acknowledge(message.alert_id, message.actor, message.note)
        return {"type": "ack.ok", "alert": alert.to_dict()}
    return {"type": "pong"}


@router.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    """Subscribe to channels, receive live messages, acknowledge alerts."""
    runtime = getattr(websocket.state, "runtime", None)
    if not isinstance(runtime, Runtime):
        await websocket.close(code=1011, reason="server not ready")
        return
    hub = runtime.live
    await websocket.accept()
    client = hub.connect()
    await websocket.send_json(
        {
            "type": "welcome",
            "server": runtime.services.node_id,
            "channels": CHANNEL_PATTERN.pattern,
            "cameras": hub.statuses(),
        }
    )

    async def reader() -> None:
        while True:
            received = await websocket.receive()
            if received["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(received.get("code", 1000))
            text = received.get("text")
            if text is None:
                raw = received.get("bytes") or b""
                text = raw.decode("utf-8", errors="replace")
            client.offer(await _handle(text, client, hub, runtime))

    async def writer() -> None:
        while True:
            await websocket.send_json(await client.queue.get())

    tasks = [asyncio.create_task(reader()), asyncio.create_task(writer())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, WebSocketDisconnect):
                log.warning("websocket closed after an error: %s", error)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        hub.disconnect(client)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close()
