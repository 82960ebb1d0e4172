"""Messages of ``/ws/verify``, the workstation clients' WebSocket, told apart by ``type``.

Client to server: text frames with a JSON object (``auth`` first, then
``ping`` at will) and binary frames, each one JPEG (or PNG) image from the
webcam. Server to client, all JSON text:

=====================================  =================================================
``assigned {pipeline}``                signed in and served; send frames now
``queued {position}``                  signed in, waiting (position 1 is next); sent
                                       again whenever the position changes
``rejected {reason}``                  ``unknown client``, ``paused``, ``blocked``,
                                       ``not enrolled`` or ``system full``; the
                                       connection closes next
``decision {action, reasons, scores,   per analysed frame: ``allow``, ``lock_screen``,
frame_seq, subject, dropped_frames}``  ``sign_out`` or ``block``
``error {code, message}``              a bad message or frame; the session goes on
                                       (``invalid``, ``bad_frame``, ``too_large``,
                                       ``not_assigned``, ``unauthorized``)
``pong``                               the answer to ``ping``
=====================================  =================================================

Close codes: 4401 no or wrong sign-in (or none within 10 s), 4403 refused
(paused, blocked, unknown, not enrolled; also when an administrator pauses or
blocks a connected client, or repeated violations block it), 4409 replaced by
a newer connection of the same client, 4429 too many failed sign-ins from the
address (``error {code: rate_limited}``), 4503 system full, 1012 the server is
shutting down, 1009 a message over the WebSocket layer's 16 MiB.

The server's messages are the models of ``argus.api.schemas.verify_server``
(which also holds the close codes); the OpenAPI document lists them under
``x-websockets`` (``argus.api.schemas.websockets``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from argus.api.schemas.common import StrictModel

__all__ = ["VerifyAuth", "VerifyPing", "verify_messages"]


class VerifyAuth(StrictModel):
    """Sign the workstation in with its id and key (the first message)."""

    type: Literal["auth"]
    client_id: Annotated[str, Field(min_length=1, max_length=64)]
    key: Annotated[str, Field(min_length=1, max_length=200)]


class VerifyPing(StrictModel):
    """Ask for a ``pong``."""

    type: Literal["ping"]


verify_messages: TypeAdapter[VerifyAuth | VerifyPing] = TypeAdapter(
    Annotated[VerifyAuth | VerifyPing, Field(discriminator="type")]
)
"""Validates one client text message from JSON."""
