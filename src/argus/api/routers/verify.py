"""``/ws/verify``: workstation clients sign in, stream frames and receive decisions.

The protocol (messages, reasons, error codes, close codes) is in
``argus.api.schemas.verify``. This module only moves messages: admission,
analysis and decisions are the verify hub's (``argus.services.verify_hub``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError as PydanticValidationError

from argus.api.deps import Runtime
from argus.api.schemas.verify import VerifyAuth, VerifyPing, verify_messages
from argus.domain.errors import ArgusError, AuthenticationError, RateLimitedError
from argus.domain.faces import EnrolledFaces
from argus.domain.workstations import VerifyClient
from argus.services.verify_hub import CLOSE_REFUSED, CLOSE_UNAUTHORIZED
from argus.services.verify_pipeline import VerifySession, error_message

__all__ = ["AUTH_TIMEOUT", "CLOSE_RATE_LIMITED", "router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["workstations"])

AUTH_TIMEOUT = 10.0
"""Seconds a connection may take to send its ``auth`` message."""
MAX_TEXT = 4096
"""Longest text message, in characters."""

CLOSE_RATE_LIMITED = 4429
"""Close code: too many failed sign-ins from this address."""

_SIGN_IN_FIRST = "sign in first: send {type: auth, client_id, key}"


def _parse(text: str) -> VerifyAuth | VerifyPing | dict[str, Any]:
    """The message, or the error to answer it with."""
    if len(text) > MAX_TEXT:
        return error_message("invalid", f"a text message is at most {MAX_TEXT} characters")
    try:
        return verify_messages.validate_json(text)
    except PydanticValidationError as exc:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}" for e in exc.errors()
        )
        return error_message("invalid", f"{detail} (types: auth, ping; frames are binary)")


async def _refuse(websocket: WebSocket, code: int, reason: str, message: dict[str, Any]) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.send_json(message)
        await websocket.close(code=code, reason=reason)


async def _auth_message(websocket: WebSocket) -> VerifyAuth | None:
    """The first message if it is ``auth``; else refuse (4401) and return ``None``."""
    try:
        received = await asyncio.wait_for(websocket.receive(), AUTH_TIMEOUT)
    except (TimeoutError, RuntimeError):
        received = {"type": "timeout"}
    if received["type"] == "websocket.disconnect":
        return None
    text = received.get("text")
    message = _parse(text) if text is not None else None
    if isinstance(message, VerifyAuth):
        return message
    refused = error_message("unauthorized", _SIGN_IN_FIRST)
    await _refuse(websocket, CLOSE_UNAUTHORIZED, "sign in first", refused)
    return None


async def _sign_in(
    websocket: WebSocket, runtime: Runtime
) -> tuple[VerifyClient, EnrolledFaces] | None:
    """The client and its subjects' descriptors; ``None`` after refusing and closing."""
    message = await _auth_message(websocket)
    if message is None:
        return None
    service = runtime.workstations
    ip = websocket.client.host if websocket.client else None
    try:
        client = await service.authenticate(message.client_id, message.key, ip=ip)
    except RateLimitedError as exc:
        limited = error_message("rate_limited", f"{exc}; retry in {exc.retry_after:.0f} s")
        await _refuse(websocket, CLOSE_RATE_LIMITED, "too many attempts", limited)
        return None
    except AuthenticationError:
        rejected = {"type": "rejected", "reason": "unknown client"}
        await _refuse(websocket, CLOSE_UNAUTHORIZED, "unknown client", rejected)
        return None
    if client.status != "active":
        rejected = {"type": "rejected", "reason": client.status}
        await _refuse(websocket, CLOSE_REFUSED, client.status, rejected)
        return None
    enrolled = await service.enrolled_faces(client)
    if enrolled is None:
        rejected = {"type": "rejected", "reason": "not enrolled"}
        await _refuse(websocket, CLOSE_REFUSED, "not enrolled", rejected)
        return None
    return client, enrolled


def _answer(runtime: Runtime, session: VerifySession, received: Mapping[str, Any]) -> None:
    """Hand a frame to the hub or answer a text message."""
    data = received.get("bytes")
    if data is not None:
        reply = runtime.verify.offer(session, data)
    else:
        message = _parse(received.get("text") or "")
        if isinstance(message, VerifyPing):
            reply = {"type": "pong"}
        elif isinstance(message, VerifyAuth):
            reply = error_message("invalid", "this connection is signed in already")
        else:
            reply = message
    if reply is not None:
        session.send(reply)


@router.websocket("/ws/verify")
async def verify(websocket: WebSocket) -> None:
    """Sign a workstation in, admit it, stream its frames to a pipeline, send decisions."""
    runtime = getattr(websocket.state, "runtime", None)
    if not isinstance(runtime, Runtime):
        await websocket.close(code=1011, reason="server not ready")
        return
    await websocket.accept()
    try:
        signed = await _sign_in(websocket, runtime)
    except ArgusError as exc:
        await _refuse(websocket, 1011, "unavailable", error_message("unavailable", str(exc)))
        return
    if signed is None:
        return
    try:
        session = await runtime.verify.join(*signed)
    except ArgusError as exc:
        await _refuse(websocket, 1011, "unavailable", error_message("unavailable", str(exc)))
        return

    async def reader() -> None:
        while True:
            received = await websocket.receive()
            if received["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(received.get("code", 1000))
            _answer(runtime, session, received)

    async def writer() -> None:
        while True:
            message = await session.outbox.get()
            if message["type"] == "_close":
                await websocket.close(code=message["code"], reason=message["reason"])
                return
            await websocket.send_json(message)

    tasks = [asyncio.create_task(reader()), asyncio.create_task(writer())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, WebSocketDisconnect):
                log.warning(
                    "verify connection of %s closed after an error: %s", session.client_id, error
                )
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await runtime.verify.leave(session)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close()
