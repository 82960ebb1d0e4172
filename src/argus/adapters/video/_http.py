"""httpx at the boundary: one client per connection, errors translated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from argus.errors import SourceError, SourceOpenError

__all__ = ["HttpOptions", "check_status", "make_client", "translate_http"]


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """Connection settings shared by the HTTP sources.

    Attributes:
        open_timeout: Seconds allowed to connect.
        read_timeout: Seconds without data after which the link counts as lost.
        headers: Extra request headers.
        auth: ``(user, password)`` for HTTP basic authentication.
        verify: Verify TLS certificates (turn off only for cameras with
            self-signed certificates on a trusted network).
    """

    open_timeout: float
    read_timeout: float
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: tuple[str, str] | None = None
    verify: bool = True


def make_client(options: HttpOptions) -> httpx.Client:
    """Return a new client configured from ``options``; the caller closes it."""
    return httpx.Client(
        timeout=httpx.Timeout(options.read_timeout, connect=options.open_timeout),
        headers=dict(options.headers),
        auth=options.auth,
        verify=options.verify,
        follow_redirects=True,
    )


def translate_http(exc: httpx.HTTPError, what: str) -> SourceError:
    """Map an httpx error to ``SourceOpenError`` with a short reason."""
    if isinstance(exc, httpx.TimeoutException):
        return SourceOpenError(f"{what}: timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.ConnectError):
        return SourceOpenError(f"{what}: cannot connect ({exc})")
    return SourceOpenError(f"{what}: {type(exc).__name__} ({exc})")


def check_status(response: httpx.Response, what: str) -> None:
    """Raise ``SourceOpenError`` unless the response status is 2xx."""
    if not response.is_success:
        raise SourceOpenError(
            f"{what}: HTTP {response.status_code} {response.reason_phrase}".rstrip()
        )
