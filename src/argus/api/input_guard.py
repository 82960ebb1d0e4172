"""``StorableText``: refuse request text no database can store, before any route reads it.

PostgreSQL refuses NUL characters in text and its driver cannot encode a lone
UTF-16 surrogate, so a string holding either fails deep inside a repository, as
a 503 that a retrying producer would repeat forever. Both are checked here,
once, for everything a request carries as text: the path, the query string,
JSON bodies (where ``"\\u0000"`` and ``"\\ud800"`` escapes produce them),
URL-encoded forms and the text fields of small multipart forms. The answer is
FastAPI's 422 shape, on every backend alike.

A path with a NUL names nothing that can exist, so it is answered 404 (a
static file lookup would otherwise fail with ``ValueError``).

Raw NUL bytes cannot occur inside JSON strings and raw surrogate bytes are not
UTF-8, so JSON bodies are parsed here only when they hold a suspicious
``\\u`` escape. Binary bodies and multipart uploads over
``MULTIPART_CHECKED`` bytes are left to their routes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import partial
from urllib.parse import unquote_to_bytes

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MULTIPART_CHECKED", "StorableText", "unstorable_location"]

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_MESSAGE = "text must not contain NUL characters or lone surrogates"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)
_FIELD_NAME = re.compile(r'name="([^"]*)"')

MULTIPART_CHECKED = 1 << 20
"""Bytes of a multipart body read for checking; a larger one (an upload) passes unread."""

Location = tuple[str | int, ...]


def unstorable_location(value: object, where: Location) -> Location | None:
    """Where in a decoded JSON value a string (or key) holds NUL or a lone surrogate."""
    if isinstance(value, str):
        return where if _UNSTORABLE.search(value) else None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_location(item, (*where, index))
            if found is not None:
                return found
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if _UNSTORABLE.search(key):
                return (*where, key)
            found = unstorable_location(item, (*where, key))
            if found is not None:
                return found
    return None


def _json_location(body: bytes) -> Location | None:
    if _SUSPECT_ESCAPE.search(body) is None:
        return None
    try:
        decoded = json.loads(body)
    except ValueError:
        return None  # the route's own parser answers malformed JSON
    return unstorable_location(decoded, ("body",))


def _pairs_location(encoded: bytes, where: str) -> Location | None:
    """The first ``name=value`` pair of a URL-encoded string that decodes to a NUL."""
    for pair in encoded.split(b"&"):
        if b"\x00" in unquote_to_bytes(pair):
            name = unquote_to_bytes(pair.partition(b"=")[0].replace(b"+", b" "))
            return (where, name.decode("utf-8", "replace").replace("\x00", "\\x00"))
    return None


def _form_location(body: bytes) -> Location | None:
    return _pairs_location(body, "body")


def _refusal(where: Location) -> JSONResponse:
    detail = [{"type": "value_error", "loc": list(where), "msg": _MESSAGE}]
    return JSONResponse({"detail": detail}, status_code=422)


class StorableText:
    """ASGI middleware: 422 for text holding NUL or lone surrogates, 404 for such a path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the path, query and a JSON or form body; replay the body to the app."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = _refuse_head(scope)
        if refusal is None and scope["type"] == "http":
            check, limit = _body_check(scope)
            if check is not None:
                messages, body, complete = await _read_body(receive, limit)
                where = check(body) if complete else None
                refusal = _refusal(where) if where is not None else None
                receive = _replay(messages, receive)
        if refusal is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await refusal(scope, receive, send)


def _refuse_head(scope: Scope) -> JSONResponse | None:
    """The answer to a path or query string that holds a NUL, if it does."""
    if "\x00" in str(scope.get("path", "")):
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    where = _pairs_location(bytes(scope.get("query_string", b"")), "query")
    return _refusal(where) if where is not None else None


Check = Callable[[bytes], Location | None]


def _body_check(scope: Scope) -> tuple[Check | None, int | None]:
    """How to check this request's body, and up to how many bytes (``None``: all of it).

    JSON and URL-encoded bodies are bounded by the body limit already. A
    multipart body is checked when it is small (a form sent as multipart);
    larger ones are uploads, whose few text fields their routes validate.
    """
    if scope.get("method") not in _BODY_METHODS:
        return None, None
    header = _content_type(scope)
    content_type, _, parameters = header.partition(";")
    content_type = content_type.strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        return _json_location, None
    if content_type == "application/x-www-form-urlencoded":
        return _form_location, None
    found = _BOUNDARY.search(parameters)
    if content_type == "multipart/form-data" and found is not None:
        boundary = (found.group(1) or found.group(2)).encode("latin-1")
        return partial(_multipart_location, boundary=boundary), MULTIPART_CHECKED
    return None, None


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return bytes(value).decode("latin-1")
    return ""


def _multipart_location(body: bytes, *, boundary: bytes) -> Location | None:
    """The first text field (a part without a file name) holding a NUL or bad UTF-8."""
    for part in body.split(b"--" + boundary):
        head, separator, content = part.partition(b"\r\n\r\n")
        if not separator or b"filename=" in head.lower():
            continue
        content = content.removesuffix(b"\r\n")
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            text = "\x00"  # not text at all; its route would reject it less clearly
        if _UNSTORABLE.search(text):
            name = _FIELD_NAME.search(head.decode("latin-1"))
            return ("body", name.group(1)) if name else ("body",)
    return None


async def _read_body(receive: Receive, limit: int | None) -> tuple[list[Message], bytes, bool]:
    """The messages up to the end of the body or past ``limit`` bytes, the body read,
    and whether that is all of it (a disconnect ends it too)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, b"".join(chunks), True
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return messages, b"".join(chunks), True
        if limit is not None and size > limit:
            return messages, b"", False


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
