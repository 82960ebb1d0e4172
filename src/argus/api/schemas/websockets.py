"""The WebSocket protocols in the OpenAPI document.

OpenAPI has no WebSocket operations, so ``/ws`` and ``/ws/verify`` do not
appear under ``paths``. ``document_websockets`` adds every message model of
both sockets to ``components.schemas`` and describes each socket under the
``x-websockets`` extension: the messages a client sends and those the server
sends, each a ``oneOf`` told apart by ``type``. A client generated from the
document gets a type for every message.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from argus.api.schemas import live, live_server, verify, verify_server

__all__ = ["WEBSOCKETS", "document_websockets", "websocket_document"]

_REF = "#/components/schemas/{model}"

WEBSOCKETS: dict[str, tuple[str, tuple[type[BaseModel], ...], tuple[type[BaseModel], ...]]] = {
    "/ws": (
        "Live alerts, tracks, counts and camera statuses (see argus.api.schemas.live).",
        (
            live.AuthMessage,
            live.SubscribeMessage,
            live.UnsubscribeMessage,
            live.AckMessage,
            live.PingMessage,
        ),
        (
            live_server.WelcomeMessage,
            live_server.SubscribedMessage,
            live_server.UnsubscribedMessage,
            live_server.AuthOkMessage,
            live_server.AckOkMessage,
            live_server.PongMessage,
            live_server.LiveErrorMessage,
            live_server.AlertCreatedMessage,
            live_server.AlertUpdatedMessage,
            live_server.AlertEscalatedMessage,
            live_server.AlertEvidenceMessage,
            live_server.AlertGroupUpdatedMessage,
            live_server.TracksMessage,
            live_server.CountsMessage,
            live_server.CameraStatusMessage,
        ),
    ),
    "/ws/verify": (
        "Workstation verification: JSON text messages and binary JPEG/PNG frames "
        "(see argus.api.schemas.verify). Close codes: 4401 not signed in, 4403 refused, "
        "4409 replaced, 4429 too many failed sign-ins, 4503 system full, 1012 shutting down.",
        (verify.VerifyAuth, verify.VerifyPing),
        (
            verify_server.AssignedMessage,
            verify_server.QueuedMessage,
            verify_server.RejectedMessage,
            verify_server.DecisionMessage,
            verify_server.VerifyErrorMessage,
            verify_server.VerifyPongMessage,
        ),
    ),
}
"""Per socket path: its description, the client's messages and the server's messages."""


def _one_of(models: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    return {
        "oneOf": [{"$ref": _REF.format(model=m.__name__)} for m in models],
        "discriminator": {"propertyName": "type"},
    }


def websocket_document() -> tuple[dict[str, Any], dict[str, Any]]:
    """The component schemas of every message, and the ``x-websockets`` extension."""
    pairs: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    sockets: dict[str, Any] = {}
    for path, (description, client, server) in WEBSOCKETS.items():
        pairs += [(m, "validation") for m in client]
        pairs += [(m, "serialization") for m in server]
        sockets[path] = {
            "description": description,
            "client": _one_of(client),
            "server": _one_of(server),
        }
    _, schema = models_json_schema(pairs, ref_template=_REF)
    return dict(schema.get("$defs", {})), sockets


def document_websockets(app: FastAPI) -> None:
    """Make ``app.openapi()`` include the WebSocket messages (call once, after the routes)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        components, sockets = websocket_document()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in components.items():
            schemas.setdefault(name, schema)
        document["x-websockets"] = sockets
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
