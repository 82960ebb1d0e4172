"""``SmtpSender``: delivers notifications as mail over SMTP with ``aiosmtplib``.

One connection per message: implicit TLS (``security="tls"``, usually port
465), STARTTLS (``"starttls"``, required: a server that does not offer it is
an error, never a silent fall back to clear text) or none; the login when the
channel has a user name. The host is checked and pinned by the
``DestinationPolicy`` first, and the connection goes to the checked address
while TLS still verifies the certificate against the host name.

The mail is plain text with ``Message-ID: <notification id@argus>``: a retry
after an ambiguous failure (the server took the message but the connection
dropped before its answer) carries the same id, so mail clients and a
receiving MTA's duplicate filter recognise it. The snapshot is attached as
JPEG when the message carries its bytes; a link is already in the body.

Errors are translated into ``DeliveryError``: a 5xx answer (a refused
recipient or sender, failed login, message refused) and a server that lacks
what the channel requires (STARTTLS, a login method offered over this
connection: a password is never sent in clear) are ``permanent``; a refused
or dropped connection, a timeout, a TLS failure or a 4xx answer is not, and
the dispatcher retries it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from argus.adapters.notify.destinations import DestinationPolicy, DestinationRefusedError
from argus.domain.notify import Channel, ChannelKind, DeliveryError, EmailSettings, Message

__all__ = ["SmtpSender", "build_mail"]

log = logging.getLogger(__name__)


def build_mail(
    settings: EmailSettings, message: Message, recipients: tuple[str, ...], now: datetime
) -> EmailMessage:
    """The mail ``message`` becomes: headers, text body and the snapshot if attached."""
    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = ", ".join(recipients)
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = f"<{message.notification_id}@argus>"
    mail["X-Argus-Notification"] = message.notification_id
    # RFC 3834: automatic mail; well-behaved auto-responders do not answer it.
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body)
    if message.snapshot is not None and settings.snapshot == "attach":
        mail.add_attachment(
            message.snapshot, maintype="image", subtype="jpeg", filename="snapshot.jpg"
        )
    return mail


def _code_error(what: str, code: int, text: str) -> DeliveryError:
    return DeliveryError(f"{what}: {code} {text}".strip(), permanent=500 <= code < 600)


async def _closed(sock: socket.socket, timeout_s: float) -> None:
    """Wait (boundedly) until the connection's transport has closed ``sock``, else close it.

    A TLS connection ends with a closing handshake that runs after the client
    has returned; waiting for it keeps the socket from outliving the delivery.
    """
    deadline = asyncio.get_running_loop().time() + min(timeout_s, 5.0)
    while sock.fileno() != -1 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    with contextlib.suppress(OSError):
        sock.close()


class SmtpSender:
    """Sends mail channels' messages.

    Args:
        destinations: Which hosts may be reached.
        tls_context: TLS settings (trusted CAs); the system defaults when ``None``.
        local_hostname: Name given in ``EHLO``; the machine's (looked up once) when ``None``.
    """

    kind: ChannelKind = "email"

    def __init__(
        self,
        destinations: DestinationPolicy,
        *,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        self._destinations = destinations
        self._tls = tls_context
        self._local_hostname = local_hostname

    async def send(self, channel: Channel, message: Message) -> None:
        """Deliver ``message`` to its recipients (the channel's ``to`` when it names none).

        Raises:
            DeliveryError: Not delivered (``permanent`` on a 5xx answer or a refused host).
        """
        settings = channel.settings
        if not isinstance(settings, EmailSettings):
            raise DeliveryError(f"channel {channel.id} is not a mail channel", permanent=True)
        recipients = message.recipients or settings.to
        if not recipients:
            raise DeliveryError("no recipients: the route and the channel name none", True)
        mail = build_mail(settings, message, recipients, datetime.now(UTC))
        if self._local_hostname is None:
            # Looked up once: a slow reverse lookup would otherwise delay every mail.
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        sock = await self._connect(settings)
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            sock=sock,
            use_tls=settings.security == "tls",
            start_tls=settings.security == "starttls",
            username=settings.username,
            password=settings.password if settings.username else None,
            timeout=settings.timeout_s,
            tls_context=self._tls,
            local_hostname=self._local_hostname,
        )
        try:
            async with client:
                refused, _ = await client.send_message(
                    mail, sender=settings.sender, recipients=list(recipients)
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [error.code for error in exc.recipients]
            raise DeliveryError(
                "every recipient was refused: "
                + "; ".join(f"{e.recipient}: {e.code} {e.message}" for e in exc.recipients),
                permanent=all(500 <= code < 600 for code in codes),
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _code_error(type(exc).__name__, exc.code, exc.message) from exc
        except (
            aiosmtplib.SMTPServerDisconnected,
            aiosmtplib.SMTPConnectError,
            aiosmtplib.SMTPTimeoutError,
        ) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        except aiosmtplib.SMTPException as exc:
            # The server lacks what the channel requires (STARTTLS, a login method it
            # offers over this connection): a setting to fix, not an outage to wait out.
            raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=True) from exc
        except (OSError, TimeoutError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            await _closed(sock, settings.timeout_s)
        if refused:
            # Delivered to the others: a retry would send them a second copy, so it counts
            # as delivered, and the refused addresses are logged.
            log.warning(
                "notification %s: the server refused %s",
                message.notification_id,
                ", ".join(f"{name} ({code} {text})" for name, (code, text) in refused.items()),
            )

    async def _connect(self, settings: EmailSettings) -> socket.socket:
        try:
            addresses = await self._destinations.addresses(settings.host, settings.port)
        except DestinationRefusedError as exc:
            raise DeliveryError(str(exc), permanent=True) from exc
        except OSError as exc:
            raise DeliveryError(f"{settings.host} does not resolve: {exc}") from exc
        reasons: list[str] = []
        loop = asyncio.get_running_loop()
        for address, family in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                async with asyncio.timeout(settings.timeout_s):
                    await loop.sock_connect(sock, (address, settings.port))
            except (OSError, TimeoutError) as exc:
                sock.close()
                reasons.append(
                    f"{address}: {'timed out' if isinstance(exc, TimeoutError) else exc}"
                )
                continue
            return sock
        raise DeliveryError(
            f"cannot connect to {settings.host}:{settings.port}: {'; '.join(reasons)}"
        )
