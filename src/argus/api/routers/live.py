"""``/ws``: typed live messages both ways (``argus.api.schemas.live`` from clients,
``argus.api.schemas.live_server`` to them)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from argus.api.deps import Runtime
from argus.api.schemas.live import (
    AckMessage,
    AuthMessage,
    PingMessage,
    SubscribeMessage,
    UnsubscribeMessage,
    client_messages,
)
from argus.api.schemas.live_server import (
    AckOkMessage,
    AuthOkMessage,
    CameraStatusMessage,
    ErrorCode,
    LiveErrorMessage,
    PongMessage,
    SubscribedMessage,
    UnsubscribedMessage,
    WelcomeMessage,
    server_message,
)
from argus.api.security import authenticate_token, client_ip
from argus.domain.actor import Actor
from argus.domain.errors import (
    ArgusError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from argus.domain.identity import Principal
from argus.services.live import (
    CHANNEL_PATTERN,
    AlertUpdate,
    Client,
    CountsUpdate,
    Outbound,
    StatusUpdate,
    TracksUpdate,
)

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["live"])

MAX_MESSAGE = 64 * 1024
"""Largest client message, in characters."""


def _error(code: ErrorCode, message: str, request_id: str | None = None) -> LiveErrorMessage:
    return LiveErrorMessage(code=code, message=message, request_id=request_id)


_ERROR_CODES: tuple[tuple[type[ArgusError], ErrorCode], ...] = (
    (ValidationError, "invalid"),
    (NotFoundError, "not_found"),
    (ConflictError, "conflict"),
    (AuthenticationError, "unauthorized"),
    (PermissionDeniedError, "forbidden"),
    (ArgusError, "unavailable"),
)

Message = SubscribeMessage | UnsubscribeMessage | AckMessage | PingMessage | AuthMessage
Reply = (
    SubscribedMessage
    | UnsubscribedMessage
    | AuthOkMessage
    | AckOkMessage
    | PongMessage
    | LiveErrorMessage
)

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


def _parse(text: str) -> Message | LiveErrorMessage:
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


def _error_code(exc: ArgusError) -> ErrorCode:
    return next(code for kind, code in _ERROR_CODES if isinstance(exc, kind))


async def _handle(text: str, session: _Session, websocket: WebSocket, runtime: Runtime) -> Reply:
    """The reply to one client message."""
    message = _parse(text)
    if isinstance(message, LiveErrorMessage):
        return message
    try:
        return await _dispatch(message, session, websocket, runtime)
    except ArgusError as exc:
        return _error(_error_code(exc), str(exc), message.request_id)


async def _dispatch(
    message: Message, session: _Session, websocket: WebSocket, runtime: Runtime
) -> Reply:
    hub, client, request_id = runtime.live, session.client, message.request_id
    if isinstance(message, SubscribeMessage):
        channels = hub.subscribe(client, message.channels)
        return SubscribedMessage(channels=channels, request_id=request_id)
    if isinstance(message, UnsubscribeMessage):
        channels = hub.unsubscribe(client, message.channels)
        return UnsubscribedMessage(channels=channels, request_id=request_id)
    if isinstance(message, AuthMessage):
        principal = await authenticate_token(runtime, message.token)
        _usable(principal)
        if client.principal is not None and principal.id != client.principal.id:
            raise PermissionDeniedError("a connection cannot change who it is; open a new one")
        client.principal, session.token = principal, message.token
        return AuthOkMessage(actor=principal.actor, request_id=request_id)
    if isinstance(message, AckMessage):
        who = client.principal
        assert who is not None  # signed in before any message is dispatched
        who.require("operate")
        actor = Actor(principal=who, ip=client_ip(websocket))
        alert = await runtime.alerts.acknowledge(actor, message.alert_id, message.note, via="ws")
        return AckOkMessage(alert=alert.to_dict(), request_id=request_id)
    return PongMessage(request_id=request_id)


def _wire(item: Outbound) -> dict[str, object]:
    """The JSON object of a queued hub update or reply."""
    if isinstance(item, TracksUpdate | CountsUpdate | StatusUpdate | AlertUpdate):
        return server_message(item).model_dump(mode="json")
    assert isinstance(item, BaseModel)  # a reply, built below
    return item.model_dump(mode="json")


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
            refused = _error("unauthorized", "the first message must be {type: auth, token}")
            await websocket.send_json(refused.model_dump(mode="json"))
            await websocket.close(code=UNAUTHORIZED, reason="sign in first")
            return None
        token, request_id = message.token, message.request_id
    try:
        principal = await authenticate_token(runtime, token)
        _usable(principal)
        runtime.user_limit.hit(f"{principal.kind}:{principal.id}")
    except ArgusError as exc:
        refused = _error(_error_code(exc), str(exc), request_id)
        await websocket.send_json(refused.model_dump(mode="json"))
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
            await websocket.send_json(_error("unauthorized", str(exc)).model_dump(mode="json"))
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
    welcome = WelcomeMessage(
        server=runtime.node_id,
        actor=client.principal.actor if client.principal else None,
        channels=CHANNEL_PATTERN.pattern,
        cameras=[CameraStatusMessage.of(s) for s in hub.statuses(client.principal)],
    )
    await websocket.send_json(welcome.model_dump(mode="json"))

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
            await websocket.send_json(_wire(await client.queue.get()))

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
