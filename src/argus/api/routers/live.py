"""``/ws``: typed live messages both ways (see ``argus.api.schemas.live``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError as PydanticValidationError

from argus.api.deps import Runtime
from argus.api.live import CHANNEL_PATTERN, Client
from argus.api.schemas.live import (
    AckMessage,
    AuthMessage,
    PingMessage,
    SubscribeMessage,
    UnsubscribeMessage,
    client_messages,
)
from argus.api.security import audited, authenticate_token
from argus.domain.errors import (
    ArgusError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from argus.domain.identity import Principal

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
    (AuthenticationError, "unauthorized"),
    (PermissionDeniedError, "forbidden"),
    (ArgusError, "unavailable"),
)

Message = SubscribeMessage | UnsubscribeMessage | AckMessage | PingMessage | AuthMessage

AUTH_TIMEOUT = 10.0
"""Seconds a connection may take to sign in."""
RECHECK_INTERVAL = 30.0
"""Seconds between re-checks of a connection's token (expiry); an ended session of its
principal makes it re-check at once (``SessionWatch``)."""
UNAUTHORIZED = 4401
"""Close code: not signed in, or the token expired or was revoked."""


@dataclass(slots=True)
class _Session:
    client: Client
    token: str


def _parse(text: str) -> Message | dict[str, Any]:
    """The message, or the error reply to it."""
    if len(text) > MAX_MESSAGE:
        return _error("invalid", f"message longer than {MAX_MESSAGE} characters")
    try:
        return client_messages.validate_json(text)
    except PydanticValidationError as exc:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}" for e in exc.errors()
        )
        return _error("invalid", detail)


async def _handle(
    text: str, session: _Session, websocket: WebSocket, runtime: Runtime
) -> dict[str, Any]:
    """The reply to one client message."""
    message = _parse(text)
    if isinstance(message, dict):
        return message
    try:
        reply = await _dispatch(message, session, websocket, runtime)
    except ArgusError as exc:
        code = next(code for kind, code in _ERROR_CODES if isinstance(exc, kind))
        return _error(code, str(exc), message.request_id)
    return {**reply, "request_id": message.request_id}


async def _dispatch(
    message: Message, session: _Session, websocket: WebSocket, runtime: Runtime
) -> dict[str, Any]:
    hub, client = runtime.live, session.client
    if isinstance(message, SubscribeMessage):
        return {"type": "subscribed", "channels": hub.subscribe(client, message.channels)}
    if isinstance(message, UnsubscribeMessage):
        return {"type": "unsubscribed", "channels": hub.unsubscribe(client, message.channels)}
    if isinstance(message, AuthMessage):
        principal = await authenticate_token(runtime, message.token)
        _usable(principal)
        if client.principal is not None and principal.id != client.principal.id:
            raise PermissionDeniedError("a connection cannot change who it is; open a new one")
        client.principal, session.token = principal, message.token
        return {"type": "auth.ok", "actor": principal.actor}
    if isinstance(message, AckMessage):
        who = client.principal
        assert who is not None  # signed in before any message is dispatched
        who.require("operate")
        alert = await runtime.alerts.get_alert(message.alert_id)
        if not who.sees_camera(alert.camera_id):
            raise NotFoundError(f"no alert {message.alert_id}")
        alert = await runtime.alerts.acknowledge(message.alert_id, who.actor, message.note)
        await audited(runtime, websocket, who, "alert.acknowledge", f"alert:{alert.id}", via="ws")
        return {"type": "ack.ok", "alert": alert.to_dict()}
    return {"type": "pong"}


def _usable(principal: Principal) -> None:
    if principal.restricted is not None:
        raise PermissionDeniedError("finish signing in first (password change or MFA enrolment)")


def _handshake_token(websocket: WebSocket) -> str | None:
    key = websocket.headers.get("x-api-key")
    if key:
        return key
    scheme, _, credentials = websocket.headers.get("authorization", "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


async def _sign_in(websocket: WebSocket, runtime: Runtime) -> _Session | None:
    """Authenticate from the handshake or the first message; None after closing."""
    token = _handshake_token(websocket)
    request_id: str | None = None
    if token is None:
        try:
            text = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT)
        except (TimeoutError, WebSocketDisconnect, RuntimeError, KeyError):
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code=UNAUTHORIZED, reason="sign in first")
            return None
        message = _parse(text)
        if not isinstance(message, AuthMessage):
            await websocket.send_json(
                _error("unauthorized", "the first message must be {type: auth, token}")
            )
            await websocket.close(code=UNAUTHORIZED, reason="sign in first")
            return None
        token, request_id = message.token, message.request_id
    try:
        principal = await authenticate_token(runtime, token)
        _usable(principal)
        runtime.user_limit.hit(f"{principal.kind}:{principal.id}")
    except ArgusError as exc:
        code = next(code for kind, code in _ERROR_CODES if isinstance(exc, kind))
        await websocket.send_json(_error(code, str(exc), request_id))
        await websocket.close(code=UNAUTHORIZED, reason="not signed in")
        return None
    return _Session(client=runtime.live.connect(principal), token=token)


async def _watchdog(
    websocket: WebSocket, runtime: Runtime, session: _Session, ended: asyncio.Event
) -> None:
    """Close the connection once its token no longer authenticates.

    It re-checks every ``RECHECK_INTERVAL`` seconds, and at once when ``ended``
    is set (a session of its principal ended, here or on another server).
    """
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ended.wait(), RECHECK_INTERVAL)
        ended.clear()  # before the check: an end announced during it wakes us again
        try:
            session.client.principal = await authenticate_token(runtime, session.token)
        except AuthenticationError as exc:
            await websocket.send_json(_error("unauthorized", str(exc)))
            await websocket.close(code=UNAUTHORIZED, reason="token expired or revoked")
            return


@router.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    """Sign in, subscribe to channels, receive live messages, acknowledge alerts."""
    runtime = getattr(websocket.state, "runtime", None)
    if not isinstance(runtime, Runtime):
        await websocket.close(code=1011, reason="server not ready")
        return
    hub = runtime.live
    await websocket.accept()
    session = await _sign_in(websocket, runtime)
    if session is None:
        return
    client = session.client
    await websocket.send_json(
        {
            "type": "welcome",
            "server": runtime.services.node_id,
            "actor": client.principal.actor if client.principal else None,
            "channels": CHANNEL_PATTERN.pattern,
            "cameras": hub.statuses(client.principal),
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
            client.offer(await _handle(text, session, websocket, runtime))

    async def writer() -> None:
        while True:
            await websocket.send_json(await client.queue.get())

    assert client.principal is not None  # signed in by _sign_in
    with runtime.sessions.watching(client.principal.id) as ended:
        tasks = [asyncio.create_task(reader()), asyncio.create_task(writer())]
        tasks.append(asyncio.create_task(_watchdog(websocket, runtime, session, ended)))
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
