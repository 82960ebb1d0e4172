"""Browser hardening: security headers on every response, and API docs served locally.

``SecurityHeaders`` gives every HTTP response a Content Security Policy that
allows only the server's own scripts, styles and connections (``/ws``
included) and no framing, plus ``X-Content-Type-Options: nosniff``,
``Referrer-Policy: no-referrer`` and ``X-Frame-Options: DENY`` for older
browsers. A response that set its own policy keeps it: the API docs page
allows its one inline script by hash.

``install_docs`` serves Swagger UI at ``/api/docs`` from the files the
``fastapi-offline`` package ships, so the docs load without any CDN.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "DOCS_PATH", "SecurityHeaders", "install_docs"]

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Style attributes cannot run code or select elements; the charts colour swatches.
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""The policy of the dashboard and every other response but the docs page."""

_FIXED = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)

DOCS_PATH = "/api/docs"
_DOCS_STATIC = Path(fastapi_offline.__file__).with_name("static")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers at ``http.response.start``; keep a policy the response set."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _FIXED:
                    headers[name.decode()] = value.decode()
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            await send(message)

        await self.app(scope, receive, sending)


def _docs_page(openapi_url: str, title: str) -> tuple[bytes, str]:
    """Swagger UI's page on local files, with a policy allowing its inline script by hash."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=f"{DOCS_PATH}/static/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_PATH}/static/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_PATH}/static/favicon.png",
    )
    body = bytes(page.body)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(body.decode())
    )
    policy = CONTENT_SECURITY_POLICY.replace("script-src 'self'", f"script-src 'self' {hashes}")
    # Swagger UI sets style attributes and injects style elements of its own.
    policy = policy.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'", 1)
    return body, policy


def install_docs(app: FastAPI, *, openapi_url: str) -> None:
    """Serve Swagger UI at ``DOCS_PATH`` from the bundled files (create the app with
    ``docs_url=None``)."""
    body, policy = _docs_page(openapi_url, f"{app.title} - API docs")

    async def docs() -> HTMLResponse:
        return HTMLResponse(body, headers={"Content-Security-Policy": policy})

    app.mount(f"{DOCS_PATH}/static", StaticFiles(directory=_DOCS_STATIC), name="docs-static")
    app.add_api_route(DOCS_PATH, docs, include_in_schema=False, methods=["GET"])
