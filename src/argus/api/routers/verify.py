"""``/ws/verify``: workstation clients sign in, stream frames and receive decisions.

The protocol (messages, reasons, error codes, close codes) is in
``argus.api.schemas.verify``; the server's messages are the models of
``argus.api.schemas.verify_server``. This module only moves messages: admission,
analysis and decisions are the verify hub's (``argus.services.verify_hub``),
which queues typed outcomes that this module turns into messages and closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from argus.api.deps import Runtime
from argus.api.schemas.verify import VerifyAuth, VerifyPing, verify_messages
from argus.api.schemas.verify_server import (
    CLOSE_CODES,
    CLOSE_RATE_LIMITED,
    CLOSE_REFUSED,
    CLOSE_UNAUTHORIZED,
    RejectedMessage,
    VerifyErrorMessage,
    VerifyPongMessage,
    verify_message,
)
from argus.domain.errors import ArgusError, AuthenticationError, RateLimitedError
from argus.domain.faces import EnrolledFaces
from argus.domain.workstations import VerifyClient
from argus.services.verify_outcomes import (
    VerifyAssigned,
    VerifyClosed,
    VerifyDecision,
    VerifyError,
    VerifyErrorCode,
    VerifyQueued,
    VerifyRejected,
)
from argus.services.verify_pipeline import Outbound, VerifySession

__all__ = ["AUTH_TIMEOUT", "CLOSE_RATE_LIMITED", "router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["workstations"])

AUTH_TIMEOUT = 10.0
"""Seconds a connection may take to send its ``auth`` message."""
MAX_TEXT = 4096
"""Longest text message, in characters."""

_SIGN_IN_FIRST = "sign in first: send {type: auth, client_id, key}"


def _error(code: VerifyErrorCode, message: str) -> VerifyErrorMessage:
    return VerifyErrorMessage(code=code, message=message)


def _parse(text: str) -> VerifyAuth | VerifyPing | VerifyErrorMessage:
    """The message, or the error to answer it with."""
    if len(text) > MAX_TEXT:
        return _error("invalid", f"a text message is at most {MAX_TEXT} characters")
    try:
        return verify_messages.validate_json(text)
    except PydanticValidationError as exc:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}" for e in exc.errors()
        )
        return _error("invalid", f"{detail} (types: auth, ping; frames are binary)")


async def _refuse(websocket: WebSocket, code: int, reason: str, message: BaseModel) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.send_json(message.model_dump(mode="json"))
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
    refused = _error("unauthorized", _SIGN_IN_FIRST)
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
        limited = _error("rate_limited", f"{exc}; retry in {exc.retry_after:.0f} s")
        await _refuse(websocket, CLOSE_RATE_LIMITED, "too many attempts", limited)
        return None
    except AuthenticationError:
        rejected = RejectedMessage(reason="unknown client")
        await _refuse(websocket, CLOSE_UNAUTHORIZED, "unknown client", rejected)
        return None
    if client.status != "active":
        rejected = RejectedMessage(reason=client.status)
        await _refuse(websocket, CLOSE_REFUSED, client.status, rejected)
        return None
    enrolled = await service.enrolled_faces(client)
    if enrolled is None:
        rejected = RejectedMessage(reason="not enrolled")
        await _refuse(websocket, CLOSE_REFUSED, "not enrolled", rejected)
        return None
    return client, enrolled


def _answer(runtime: Runtime, session: VerifySession, received: Mapping[str, Any]) -> None:
    """Hand a frame to the hub or answer a text message."""
    data = received.get("bytes")
    reply: Outbound | None
    if data is not None:
        reply = runtime.verify.offer(session, data)
    else:
        message = _parse(received.get("text") or "")
        if isinstance(message, VerifyPing):
            reply = VerifyPongMessage()
        elif isinstance(message, VerifyAuth):
            reply = _error("invalid", "this connection is signed in already")
        else:
            reply = message
    if reply is not None:
        session.send(reply)


def _wire(item: Outbound) -> dict[str, Any]:
    """The JSON object of a queued hub outcome or reply (the writer closes on ``VerifyClosed``)."""
    if isinstance(
        item, VerifyAssigned | VerifyQueued | VerifyRejected | VerifyError | VerifyDecision
    ):
        return verify_message(item).model_dump(mode="json")
    assert isinstance(item, BaseModel)  # a reply built here
    return item.model_dump(mode="json")


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
        await _refuse(websocket, 1011, "unavailable", _error("unavailable", str(exc)))
        return
    if signed is None:
        return
    try:
        session = await runtime.verify.join(*signed)
    except ArgusError as exc:
        await _refuse(websocket, 1011, "unavailable", _error("unavailable", str(exc)))
        return

    async def reader() -> None:
        while True:
            received = await websocket.receive()
            if received["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(received.get("code", 1000))
            _answer(runtime, session, received)

    async def writer() -> None:
        while True:
            item = await session.outbox.get()
            if isinstance(item, VerifyClosed):
                await websocket.close(code=CLOSE_CODES[item.ending], reason=item.reason)
                return
            await websocket.send_json(_wire(item))

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
