"""``HttpEdgeLink``: the node's link to the control plane over HTTP(S) (``EdgeLink``).

Requests go to ``/api/v1/edge/...`` with the node's key in ``X-API-Key``.
Several base URLs (control-plane replicas, or a primary and a standby) are
tried in order; the one that last answered is tried first next time, so a
node stays on a healthy replica instead of timing out on a dead one before
each request.

Failover happens on what another replica could answer differently: a network
error, a timeout, a 5xx. A 429 raises ``LinkDown`` at once with the server's
``Retry-After`` (every replica shares the limit); a 401 or 403 raises
``LinkUnauthorized`` at once (every replica shares the database of keys). A
reply that is not the expected JSON is ``LinkDown`` too: a proxy's error page
with status 200 must not count as an acknowledgement.

The long poll of ``fetch_config`` waits ``wait_s`` on the server, so its read
timeout is ``wait_s`` plus ``LONG_POLL_MARGIN``. Proxies come from the usual
environment variables (``HTTPS_PROXY``, ``NO_PROXY``), as httpx reads them.
"""

from __future__ import annotations

import json
import math
import ssl
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import httpx

from argus.domain.edge import (
    EdgeConfig,
    NodeRegistration,
    RegistrationReply,
    SyncBatch,
    SyncReply,
)
from argus.domain.errors import ConfigError, ValidationError
from argus.ports.edge_link import LinkDown, LinkUnauthorized

__all__ = ["API_PREFIX", "LONG_POLL_MARGIN", "HttpEdgeLink"]

API_PREFIX = "/api/v1/edge"
"""Where the control plane serves the edge endpoints."""

LONG_POLL_MARGIN = 10.0
"""Seconds a config long poll may take beyond its ``wait_s`` before it times out."""

_T = TypeVar("_T")


def _retry_after(response: httpx.Response) -> float | None:
    try:
        value = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])[:200]
    return str(body)[:200]


class HttpEdgeLink:
    """The node's HTTP(S) client of the control plane.

    Args:
        server_urls: Base URLs (``https://argus.example:8000``), tried in order.
        api_key: The node's API key (permission ``edge``).
        verify_tls: Check the server's certificate (keep on outside a lab).
        ca_file: A CA bundle to trust instead of the system's (a private CA).
        timeout_s: Connect, write and read timeout of ordinary requests.
        transport: An httpx transport to use instead of the network (an
            in-process app via ``httpx.ASGITransport`` in benchmarks).

    Raises:
        ConfigError: No URL, a URL that is not http(s), or a CA file that is
            missing or unreadable.
    """

    def __init__(
        self,
        server_urls: Sequence[str],
        api_key: str,
        *,
        verify_tls: bool = True,
        ca_file: Path | None = None,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        urls = [url.strip().rstrip("/") for url in server_urls if url.strip()]
        if not urls:
            raise ConfigError("the edge link needs at least one server URL")
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"server URL {url!r} must start with http:// or https://")
        if ca_file is not None and not ca_file.is_file():
            raise ConfigError(f"the CA file {ca_file} does not exist")
        self._urls = urls
        self._current = 0
        self._timeout = timeout_s
        verify: bool | ssl.SSLContext = verify_tls
        if ca_file is not None and verify_tls:
            try:
                verify = ssl.create_default_context(cafile=str(ca_file))
            except (ssl.SSLError, OSError) as exc:
                raise ConfigError(f"the CA file {ca_file} is not a PEM bundle: {exc}") from exc
        self._client = httpx.AsyncClient(
            headers={"X-API-Key": api_key, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout_s),
            verify=verify,
            transport=transport,
            follow_redirects=False,
        )

    @property
    def current_url(self) -> str:
        """The base URL tried first (the one that last answered)."""
        return self._urls[self._current]

    async def register(self, reg: NodeRegistration) -> RegistrationReply:
        """``POST /api/v1/edge/register`` (see ``EdgeLink.register``)."""
        return await self._request(
            "POST", "/register", RegistrationReply.from_dict, body=reg.to_dict()
        )

    async def fetch_config(self, node_id: str, after: str | None, wait_s: float) -> EdgeConfig:
        """``GET /api/v1/edge/config`` with a long poll (see ``EdgeLink.fetch_config``)."""
        params: dict[str, str] = {"node_id": node_id}
        if after is not None:
            params["after"] = after
            params["wait"] = f"{max(0.0, wait_s):g}"
        timeout = httpx.Timeout(self._timeout, read=max(0.0, wait_s) + LONG_POLL_MARGIN)
        return await self._request(
            "GET", "/config", EdgeConfig.from_dict, params=params, timeout=timeout
        )

    async def sync(self, batch: SyncBatch) -> SyncReply:
        """``POST /api/v1/edge/sync`` (see ``EdgeLink.sync``)."""
        return await self._request("POST", "/sync", SyncReply.from_dict, body=batch.to_dict())

    async def close(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        parse: Callable[[object], _T],
        *,
        body: object = None,
        params: dict[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> _T:
        content = None
        headers = {}
        if body is not None:
            content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        failures: list[str] = []
        hint: float | None = None
        count = len(self._urls)
        for step in range(count):
            index = (self._current + step) % count
            url = f"{self._urls[index]}{API_PREFIX}{path}"

            async def send(url: str = url) -> httpx.Response:
                return await self._client.request(
                    method,
                    url,
                    content=content,
                    headers=headers,
                    params=params,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )

            try:
                try:
                    response = await send()
                except httpx.RemoteProtocolError:
                    # A pooled connection the server had closed: every request here is
                    # idempotent, so try once more on a fresh connection.
                    response = await send()
            except httpx.HTTPError as exc:
                failures.append(f"{url}: {type(exc).__name__} {exc}".rstrip())
                continue
            if response.status_code >= 500:
                failures.append(f"{url}: HTTP {response.status_code} {_detail(response)}")
                hint = _retry_after(response) if hint is None else hint
                continue
            self._current = index
            return self._answer(response, url, parse)
        raise LinkDown("no control plane answered: " + "; ".join(failures), hint)

    @staticmethod
    def _answer(response: httpx.Response, url: str, parse: Callable[[object], _T]) -> _T:
        status = response.status_code
        if status in (401, 403):
            raise LinkUnauthorized(f"{url}: HTTP {status} {_detail(response)}", status)
        if status == 429:
            raise LinkDown(f"{url}: HTTP 429 {_detail(response)}", _retry_after(response))
        if status >= 400:
            raise ValidationError(f"{url}: HTTP {status} {_detail(response)}")
        if status != 200:
            raise LinkDown(f"{url}: unexpected HTTP {status}")
        try:
            return parse(response.json())
        except (ValueError, ValidationError) as exc:
            raise LinkDown(f"{url}: the reply is not what was expected: {exc}") from exc
