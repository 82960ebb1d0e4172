"""``WebhookSender``: delivers notifications as signed JSON ``POST`` requests with ``httpx``.

Each request carries ``X-Argus-Delivery`` (the notification id, the same on
every retry, so a receiver can drop a repeat), ``X-Argus-Timestamp`` and
``X-Argus-Signature: sha256=<HMAC-SHA256(secret, "<timestamp>.<body>")>``
(``domain.notify.signing``), plus the channel's own headers. The body is the
rendered template: Argus JSON, Slack's ``{"text", "blocks"}`` or a Teams
Adaptive Card message.

The host is checked and pinned by the ``DestinationPolicy``: the request
goes to the checked address, with the original ``Host`` header and TLS
server name (certificates are verified against the host name). Redirects
are not followed (a redirect to an internal address would undo the check);
a 3xx answer is a permanent error naming the new location.

Answers: 2xx delivered; 408, 429 and 5xx, timeouts and connection errors
are retried; any other 4xx is permanent (the receiver refuses this request
and will refuse it again).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx

from argus.adapters.notify.destinations import DestinationPolicy, DestinationRefusedError
from argus.domain.notify import Channel, ChannelKind, DeliveryError, Message, WebhookSettings
from argus.domain.notify.signing import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)

__all__ = ["USER_AGENT", "WebhookSender"]

USER_AGENT = "Argus-Notify/1"
_RETRIED = frozenset({408, 425, 429})
_MAX_SHOWN = 300


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _pinned_url(url: str, address: str, port: int) -> str:
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    return urlunsplit((parts.scheme, f"{host}:{port}", parts.path or "/", parts.query, ""))


class WebhookSender:
    """Sends webhook channels' messages.

    Args:
        destinations: Which hosts may be reached.
        clock: The time the signature's timestamp is taken from.
        verify: TLS verification: ``True`` (system CAs) or an ``ssl.SSLContext``.
    """

    kind: ChannelKind = "webhook"

    def __init__(
        self,
        destinations: DestinationPolicy,
        *,
        clock: Callable[[], datetime] = _utc_now,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._destinations = destinations
        self._clock = clock
        # Made once: loading the CA bundle for every request would cost each one milliseconds.
        self._verify: ssl.SSLContext | bool = (
            ssl.create_default_context() if verify is True else verify
        )

    async def send(self, channel: Channel, message: Message) -> None:
        """``POST`` the message's body to the channel's URL, signed.

        Raises:
            DeliveryError: Not delivered (``permanent`` on a 4xx other than 408/425/429,
                a redirect, or a refused host).
        """
        settings = channel.settings
        if not isinstance(settings, WebhookSettings):
            raise DeliveryError(f"channel {channel.id} is not a webhook channel", permanent=True)
        body = message.body.encode()
        timestamp = int(self._clock().timestamp())
        parts = urlsplit(settings.url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        headers = {
            **settings.headers,
            "Host": parts.netloc,
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            DELIVERY_HEADER: message.notification_id,
            TIMESTAMP_HEADER: str(timestamp),
        }
        if settings.secret:
            headers[SIGNATURE_HEADER] = sign(settings.secret, timestamp, body)
        try:
            addresses = await self._destinations.addresses(host, port)
        except DestinationRefusedError as exc:
            raise DeliveryError(str(exc), permanent=True) from exc
        except OSError as exc:
            raise DeliveryError(f"{host} does not resolve: {exc}") from exc
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        reasons: list[str] = []
        async with httpx.AsyncClient(
            timeout=settings.timeout_s, follow_redirects=False, verify=self._verify, trust_env=False
        ) as client:
            for address, _ in addresses:
                try:
                    response = await client.post(
                        _pinned_url(settings.url, address, port),
                        content=body,
                        headers=headers,
                        extensions=extensions,
                    )
                except httpx.ConnectError as exc:
                    # Nothing was sent: the next address may answer.
                    reasons.append(f"{address}: {exc}")
                    continue
                except httpx.TimeoutException as exc:
                    raise DeliveryError(f"{host}: timed out ({type(exc).__name__})") from exc
                except httpx.HTTPError as exc:
                    raise DeliveryError(f"{host}: {type(exc).__name__}: {exc}") from exc
                self._judge(response)
                return
        raise DeliveryError(f"cannot connect to {host}:{port}: {'; '.join(reasons)}")

    @staticmethod
    def _judge(response: httpx.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        shown = response.text[:_MAX_SHOWN].strip()
        if 300 <= status < 400:
            location = response.headers.get("location", "?")
            raise DeliveryError(
                f"HTTP {status}: redirects are not followed (to {location[:_MAX_SHOWN]})",
                permanent=True,
            )
        permanent = 400 <= status < 500 and status not in _RETRIED
        raise DeliveryError(f"HTTP {status}: {shown}".rstrip(": "), permanent=permanent)
