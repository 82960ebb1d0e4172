"""Authentication and authorisation of every request.

A request authenticates with ``Authorization: Bearer <access JWT>``, or with
an API key as ``Authorization: Bearer ak_...`` or ``X-API-Key: ak_...``.

Every router is mounted behind a ``Guard`` naming the permission its reads
need and the one its writes need; the guard also refuses a ``camera_id`` in
the path or query that lies outside the caller's camera scope. Handlers that
list or fetch things by another id take ``Caller`` and narrow or check by
camera themselves.

A *restricted* sign-in (a one-time password to change, or MFA the policy
requires but the user has not enrolled) is refused everywhere except the
routes that take ``SigningIn``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request, WebSocket
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from argus.api.deps import Runtime, RuntimeDep
from argus.domain.actor import Actor
from argus.domain.audit import AuditOutcome
from argus.domain.errors import (
    AuthenticationError,
    BusError,
    PermissionDeniedError,
    RateLimitedError,
    StorageError,
)
from argus.domain.identity import Permission, Principal
from argus.services.writes import record

__all__ = [
    "PUBLIC_PATHS",
    "PUBLIC_PREFIXES",
    "Account",
    "AccountHolder",
    "AuthenticateFirst",
    "Caller",
    "Guard",
    "SigningIn",
    "audited",
    "authenticate_token",
    "client_ip",
    "principal_of_headers",
    "require",
]

_bearer = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="Access token from POST /api/v1/auth/token, or an API key (ak_...).",
)
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="API key of an edge node or integration."
)

_RESTRICTED_HINT = {
    "password_change": "change the one-time password first (POST /api/v1/auth/password)",
    "mfa_enrolment": "the policy requires MFA: enrol first (POST /api/v1/auth/mfa/enrol)",
}


async def audited(
    runtime: Runtime,
    request: Request | WebSocket,
    who: Principal,
    action: str,
    target: str,
    *,
    outcome: AuditOutcome = "success",
    **details: Any,
) -> None:
    """Append an API action to the audit trail (who, from where, on what)."""
    actor = Actor(principal=who, ip=client_ip(request))
    await record(runtime.audit, actor, action, target, outcome=outcome, **details)


def client_ip(request: Request | WebSocket) -> str:
    """The peer address (``unknown`` when the server does not know it)."""
    return request.client.host if request.client is not None else "unknown"


async def authenticate_token(runtime: RuntimeDep, token: str) -> Principal:
    """The principal of a bearer credential: an API key (``ak_``) or an access JWT."""
    if token.startswith("ak_"):
        return await runtime.auth.authenticate_key(token)
    return await runtime.auth.authenticate(token)


async def principal_of_headers(
    runtime: Runtime, authorization: str | None, api_key: str | None
) -> Principal:
    """The principal of a request's credentials (no rate limit: see ``authenticate_headers``).

    ``X-API-Key`` must hold an API key; ``Authorization: Bearer`` an API key or
    an access token.

    Raises:
        AuthenticationError: No credentials, or not valid ones.
    """
    if api_key:
        return await runtime.auth.authenticate_key(api_key)
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("sign in first: no bearer token or API key was given")
    return await authenticate_token(runtime, token.strip())


async def authenticate_headers(
    runtime: Runtime, authorization: str | None, api_key: str | None
) -> Principal:
    """The principal of a request's credentials, rate-limited per principal.

    Raises:
        AuthenticationError: No credentials, or not valid ones.
        RateLimitedError: The principal is over its request budget.
    """
    principal = await principal_of_headers(runtime, authorization, api_key)
    runtime.user_limit.hit(f"{principal.kind}:{principal.id}")
    return principal


async def _signing_in(
    request: Request,
    runtime: RuntimeDep,
    bearer: Annotated[str | None, Depends(_bearer)],
    key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    # The Authenticate middleware usually signed the request in before its body was read.
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    del bearer, key  # declared for the OpenAPI document; read from the headers below
    principal = await authenticate_headers(
        runtime, request.headers.get("authorization"), request.headers.get("x-api-key")
    )
    request.state.principal = principal
    return principal


SigningIn = Annotated[Principal, Depends(_signing_in)]
"""Any authenticated caller, restricted sign-ins included (own account, MFA enrolment)."""


async def _account(principal: SigningIn) -> Principal:
    if principal.kind != "user":
        raise PermissionDeniedError("an API key has no user account")
    return principal


AccountHolder = Annotated[Principal, Depends(_account)]
"""A signed-in user (restricted sign-ins included), never an API key: own-account routes."""


async def _caller(principal: SigningIn) -> Principal:
    if principal.restricted is not None:
        raise PermissionDeniedError(_RESTRICTED_HINT[principal.restricted])
    return principal


Caller = Annotated[Principal, Depends(_caller)]
"""An authenticated, unrestricted caller."""


async def _full_account(principal: Caller) -> Principal:
    return await _account(principal)


Account = Annotated[Principal, Depends(_full_account)]
"""An unrestricted signed-in user, never an API key."""


async def _acting(request: Request, principal: Caller) -> Actor:
    return Actor(principal=principal, ip=client_ip(request))


Acting = Annotated[Actor, Depends(_acting)]
"""The unrestricted caller and its client address, as services take it for a write."""


def require(permission: Permission) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that returns the caller when it has ``permission``."""

    async def check(principal: Caller) -> Principal:
        principal.require(permission)
        return principal

    check.__name__ = f"require_{permission}"
    return check


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Guard:
    """Router-level check: ``read`` for safe methods, ``write`` for the others.

    The camera named by a ``camera_id`` path or query parameter must be in the
    caller's scope.
    """

    def __init__(self, read: Permission, write: Permission) -> None:
        self.read = read
        self.write = write

    async def __call__(self, request: Request, principal: Caller) -> Principal:
        """Check the permission and the camera scope."""
        needed = self.read if request.method in _SAFE_METHODS else self.write
        principal.require(needed)
        camera_id = request.path_params.get("camera_id")
        if camera_id is None:
            camera_id = request.query_params.get("camera_id")
        if camera_id is not None:
            principal.require_camera(str(camera_id))
        return principal


PUBLIC_PATHS = frozenset({"/api/v1/auth/token", "/api/v1/auth/refresh", "/api/v1/auth/logout"})
"""The API routes that take no credentials (signing in and out)."""
PUBLIC_PREFIXES = ("/api/v1/shared/snapshots/",)
"""API routes whose signed path is their credential (snapshot links in notifications)."""


class AuthenticateFirst:
    """ASGI middleware: sign an ``/api/v1`` request in before anything reads its body.

    FastAPI parses a body before it runs the route's dependencies, so without
    this an anonymous caller could make the server parse up to the body limit
    and would get a 422 for a malformed body instead of a 401. Requests
    without valid credentials are answered 401 here (429 over the caller's
    budget); the principal is handed on in the request state, where the
    route's guard finds it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate ``/api/v1`` requests other than signing in and out."""
        path = str(scope.get("path", ""))
        state = scope.get("state")
        runtime = state.get("runtime") if isinstance(state, dict) else None
        if (
            scope["type"] != "http"
            or not path.startswith("/api/v1/")
            or path in PUBLIC_PATHS
            or path.startswith(PUBLIC_PREFIXES)
            or not isinstance(runtime, Runtime)
            or not isinstance(state, dict)
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            principal = await authenticate_headers(
                runtime, headers.get("authorization"), headers.get("x-api-key")
            )
        except AuthenticationError as exc:
            await JSONResponse(
                {"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )(scope, receive, send)
            return
        except RateLimitedError as exc:
            await JSONResponse(
                {"detail": str(exc)},
                status_code=429,
                headers={"Retry-After": str(math.ceil(exc.retry_after))},
            )(scope, receive, send)
            return
        except (StorageError, BusError) as exc:
            await JSONResponse({"detail": str(exc)}, status_code=503)(scope, receive, send)
            return
        state["principal"] = principal
        await self.app(scope, receive, send)
