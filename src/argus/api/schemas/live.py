"""Messages a ``/ws`` client sends, told apart by their ``type``.

A connection signs in with ``Authorization: Bearer`` (or ``X-API-Key``) on the
upgrade request, or with an ``auth`` message as its first message; until then
the server answers nothing else, and closes it (code 4401) after 10 seconds
or on a bad token. A token that expires or is revoked closes it too, unless an
``auth`` message swapped in a fresh one.

The server answers with JSON objects that also carry a ``type``:
``welcome`` (server id, the channel patterns, the local camera statuses),
``subscribed`` / ``unsubscribed`` (the client's channels now), ``ack.ok`` (the
acknowledged alert), ``auth.ok``, ``pong``, ``error`` (``code``: ``invalid``,
``not_found``, ``conflict``, ``unauthorized`` or ``forbidden``, and a
``message``), and the channel messages ``alert.created`` / ``alert.updated``
/ ``alert.escalated`` / ``alert.evidence`` (``alert``: the alert as
``GET /api/v1/alerts/{id}`` returns it), ``tracks``, ``counts`` and
``camera.status``. Replies to a message echo its ``request_id``. Each is a
model of ``argus.api.schemas.live_server``; the OpenAPI document lists them
all under ``x-websockets`` (``argus.api.schemas.websockets``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from argus.api.schemas.common import StrictModel, Text

__all__ = [
    "AckMessage",
    "AuthMessage",
    "ClientMessage",
    "PingMessage",
    "SubscribeMessage",
    "UnsubscribeMessage",
    "client_messages",
]

Channel = Annotated[
    str,
    Field(
        min_length=1,
        max_length=100,
        description="alerts, supervisor, system, camera.{id}.tracks or camera.{id}.counts",
    ),
]
RequestId = Annotated[
    str | None, Field(default=None, max_length=100, description="Echoed in the reply.")
]


class SubscribeMessage(StrictModel):
    """Start receiving the given channels."""

    type: Literal["subscribe"]
    channels: Annotated[list[Channel], Field(min_length=1, max_length=50)]
    request_id: RequestId = None


class UnsubscribeMessage(StrictModel):
    """Stop receiving the given channels."""

    type: Literal["unsubscribe"]
    channels: Annotated[list[Channel], Field(min_length=1, max_length=50)]
    request_id: RequestId = None


class AckMessage(StrictModel):
    """Acknowledge an alert (as ``POST /api/v1/alerts/{id}/acknowledge``)."""

    type: Literal["ack"]
    alert_id: Annotated[str, Field(min_length=1, max_length=64)]
    note: Annotated[Text, Field(max_length=2000)] = ""
    request_id: RequestId = None


class AuthMessage(StrictModel):
    """Sign the connection in (browsers cannot set headers on a WebSocket), or swap in a
    fresh access token before the current one expires."""

    type: Literal["auth"]
    token: Annotated[str, Field(min_length=1, max_length=4096)]
    request_id: RequestId = None


class PingMessage(StrictModel):
    """Ask for a ``pong``."""

    type: Literal["ping"]
    request_id: RequestId = None


ClientMessage = Annotated[
    SubscribeMessage | UnsubscribeMessage | AckMessage | PingMessage | AuthMessage,
    Field(discriminator="type"),
]

client_messages: TypeAdapter[
    SubscribeMessage | UnsubscribeMessage | AckMessage | PingMessage | AuthMessage
] = TypeAdapter(ClientMessage)
"""Validates one client message from JSON text."""
