"""The one table from Argus errors to HTTP status codes, and the last-resort handler.

=======================================  =====
error                                    code
=======================================  =====
``ValidationError``, ``ConfigError``     422
``NotFoundError``                        404
``AuthenticationError``                  401 (``WWW-Authenticate: Bearer``)
``PermissionDeniedError``                403
``RateLimitedError``                     429 (``Retry-After``)
``ConflictError``, ``IntegrityError``    409 (tampered evidence is reported, never served)
``StorageError``, ``BusError``           503
any other exception                      500
=======================================  =====

422 bodies have FastAPI's request-validation shape (``detail`` is a list of
``{loc, msg, type}``), so clients read one format for every invalid input.
Other errors answer ``{"detail": "..."}``. A 500 logs the traceback and
answers a generic body: internals never leak to clients. A 503 does the same:
a storage or bus failure's text can hold SQL statements and their parameters,
so it is logged under an error id and the client gets only that id
(``{"detail": "...", "error_id": "..."}``) to quote to the operator.
"""

from __future__ import annotations

import logging
import math
import re
import secrets
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from argus.domain.audit import AuditEntry
from argus.domain.errors import (
    ArgusError,
    AuthenticationError,
    BusError,
    ConfigError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    StorageError,
    ValidationError,
)

__all__ = ["STATUS_BY_ERROR", "CatchAll", "install_error_handlers", "status_for"]

log = logging.getLogger(__name__)

STATUS_BY_ERROR: tuple[tuple[type[ArgusError], int], ...] = (
    (ValidationError, 422),
    (ConfigError, 422),
    (NotFoundError, 404),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (RateLimitedError, 429),
    (IntegrityError, 409),
    (ConflictError, 409),
    (StorageError, 503),
    (BusError, 503),
)
"""Error class to status code; the first matching row wins."""

_GENERIC = {"detail": "internal server error"}

_ERROR_ID = re.compile(r"\(error ([0-9a-f]{12})\)")
"""The id an adapter already logged its failure under (``_sqlcore.storage_failure``)."""


def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    """A 503 that names only an error id; the failure's own text goes to the log."""
    found = _ERROR_ID.search(str(exc))
    error_id = found.group(1) if found else secrets.token_hex(6)
    log.error(
        "%s %s: %s (error %s): %s",
        request.method,
        request.url.path,
        type(exc).__name__,
        error_id,
        exc,
    )
    what = "the event bus" if isinstance(exc, BusError) else "storage"
    body = {
        "detail": f"{what} is unavailable; try again later (error {error_id})",
        "error_id": error_id,
    }
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})


def status_for(exc: BaseException) -> int:
    """The HTTP status code for an exception (500 when no row matches)."""
    for kind, status in STATUS_BY_ERROR:
        if isinstance(exc, kind):
            return status
    return 500


async def _audit_denial(request: Request, exc: Exception) -> None:
    """Record a refused request of a signed-in caller in the audit trail."""
    runtime = getattr(request.state, "runtime", None)
    principal = getattr(request.state, "principal", None)
    audit = getattr(runtime, "audit", None)
    actor = getattr(principal, "actor", None)
    if audit is None or not isinstance(actor, str):
        return
    entry = AuditEntry(
        action="access.denied",
        actor=actor,
        at=datetime.now(UTC),
        target=f"{request.method} {request.url.path}"[:300],
        outcome="denied",
        details={"reason": str(exc)[:500]},
        ip=request.client.host if request.client else None,
    )
    try:
        await audit.append(entry)
    except ArgusError:
        log.exception("could not audit a denied request")


async def _argus_error(request: Request, exc: Exception) -> JSONResponse:
    status = status_for(exc)
    if isinstance(exc, PermissionDeniedError):
        await _audit_denial(request, exc)
    if status == 500:
        log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(_GENERIC, status_code=500)
    if isinstance(exc, StorageError | BusError):
        return _unavailable(request, exc)
    if status == 422:
        where = "query" if request.method in {"GET", "DELETE"} else "body"
        body: object = [{"loc": [where], "msg": str(exc), "type": "value_error"}]
        return JSONResponse({"detail": body}, status_code=422)
    body = {"detail": str(exc)}
    headers: dict[str, str] = {}
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
        code = getattr(exc, "code", None)
        if isinstance(code, str):
            body["code"] = code
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(math.ceil(exc.retry_after))
    return JSONResponse(body, status_code=status, headers=headers or None)


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's handler, with a complete ``Allow`` header on 405.

    Starlette lists only the methods of the first route whose path matched,
    though several routes (GET and POST on ``/cameras``) share a path. Only
    routes of that first route's path template count: ``/cameras/probe`` is
    not also ``/cameras/{camera_id}``.
    """
    assert isinstance(exc, HTTPException)
    if exc.status_code != 405:
        return await http_exception_handler(request, exc)
    allowed: set[str] = set()
    template: str | None = None
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        path = getattr(route, "path_format", None)
        if match is Match.NONE or template not in (None, path):
            continue
        template = path
        allowed |= set(getattr(route, "methods", None) or ())
    headers = {"Allow": ", ".join(sorted(allowed))} if allowed else exc.headers
    return JSONResponse({"detail": exc.detail}, status_code=405, headers=headers)


def _json_safe(value: object) -> object:
    """``value`` with what JSON cannot carry spelled out: NaN and Infinity as strings,
    lone surrogates as backslash escapes."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    return value


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, made safe for echoed input that JSON cannot carry (NaN, lone surrogates)."""
    assert isinstance(exc, RequestValidationError)
    detail = _json_safe(jsonable_encoder(exc.errors()))
    return JSONResponse({"detail": detail}, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    """Map every ``ArgusError`` through ``STATUS_BY_ERROR``; complete 405's ``Allow``."""
    app.add_exception_handler(ArgusError, _argus_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)


class CatchAll:
    """ASGI middleware: any other exception becomes a logged, generic 500.

    Starlette's own last resort re-raises into the server after answering;
    this one answers and stops, so a bug is logged once, with its traceback.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; turn an escaping exception into a 500 if nothing was sent yet."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await JSONResponse(_GENERIC, status_code=500)(scope, receive, send)
