"""ASGI middleware that guards the server before any route runs.

* ``RateLimitPerIp``: a token bucket per client address over every HTTP
  request (health probes exempt); an empty bucket answers 429 with
  ``Retry-After``.
* ``BodyLimit``: refuses a body larger than the route allows with 413, from
  ``Content-Length`` up front or by counting a streamed (chunked) body, so a
  huge upload is never buffered.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

from starlette.formparsers import MultiPartException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from argus.domain.errors import RateLimitedError
from argus.services.ratelimit import RateLimiter

__all__ = ["BodyLimit", "RateLimitPerIp"]

_EXEMPT_PREFIXES = ("/health/",)


async def _answer(
    send: Send, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RateLimitPerIp:
    """429 once a client address exceeds its request budget.

    Args:
        app: The wrapped app.
        limiter: Buckets keyed by client address.
    """

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Take a token for the client, or answer 429."""
        if scope["type"] == "http" and not str(scope.get("path", "")).startswith(_EXEMPT_PREFIXES):
            client = scope.get("client")
            address = client[0] if client else "unknown"
            try:
                self.limiter.hit(address)
            except RateLimitedError as exc:
                retry = str(math.ceil(exc.retry_after))
                await _answer(send, 429, str(exc), {"Retry-After": retry})
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """413 for a request body over the limit of its path.

    Args:
        app: The wrapped app.
        default: Bytes any request body may have.
        overrides: Other limits by path pattern (the first that matches wins).
    """

    def __init__(
        self, app: ASGIApp, default: int, overrides: Mapping[re.Pattern[str], int] | None = None
    ) -> None:
        self.app = app
        self.default = default
        self.overrides = list((overrides or {}).items())

    def limit_for(self, path: str) -> int:
        """The byte limit of ``path``."""
        for pattern, limit in self.overrides:
            if pattern.fullmatch(path):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check ``Content-Length``, then count what is received."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("path", "")))
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _answer(send, 400, "Content-Length is not a number")
                    return
                if declared > limit:
                    await _answer(send, 413, f"the body is over {limit} bytes")
                    return
        seen = 0
        answered = False

        async def tracking(message: Message) -> None:
            if not answered:
                await send(message)

        async def counting() -> Message:
            nonlocal seen, answered
            message = await receive()
            if message["type"] == "http.request" and not answered:
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Answer now, then fail the app's read with the error Starlette's form
                    # parser cleans up after (it closes upload temp files); the app's own
                    # answer to it is dropped.
                    answered = True
                    await _answer(send, 413, f"the body is over {limit} bytes")
                    raise MultiPartException(f"the body is over {limit} bytes")
            return message

        try:
            await self.app(scope, counting, tracking)
        except Exception:
            if not answered:
                raise
