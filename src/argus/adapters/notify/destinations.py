"""Which hosts notification channels may reach: the SSRF check of SMTP, webhook and MQTT hosts.

Whoever holds the ``configure`` permission (an API key included) chooses where
channels deliver. Left open, a webhook URL such as ``http://127.0.0.1:6379/``
or ``http://169.254.169.254/latest/meta-data/`` would make the server call
its own network and report the answer in the delivery log. So a destination
host is resolved and **every** address must be a public (globally routable)
one, unless it lies in a network the administrator allows
(``ARGUS_NOTIFY_ALLOWED_NETWORKS``, e.g. the office mail relay's
``10.0.0.25``, or ``127.0.0.1`` for a local MTA).

The check runs twice, in the style of the cameras' ``SourcePolicy``: when a
channel is saved (``check_channel``, a name that does not resolve yet is let
through) and at every delivery (``pin``), which returns the checked address
the sender then connects to, so a DNS answer that changes between check and
connection (DNS rebinding) cannot redirect a delivery. Webhook senders do not
follow redirects.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from argus.domain.errors import ValidationError
from argus.domain.notify import Channel, EmailSettings, MqttChannelSettings, WebhookSettings

__all__ = ["DestinationPolicy", "DestinationRefusedError"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Sequence[str]]


class DestinationRefusedError(ValidationError):
    """A channel's host resolves to an address channels may not reach."""


def _resolve(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


def _embedded(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries: 6to4, NAT64, IPv4-compatible or -translated.

    A NAT64 gateway (AWS's, for one) or a 6to4 relay turns such an address
    into a connection to the IPv4 one, private networks included, so it is
    judged as that IPv4 address.
    """
    if address.sixtofour is not None:
        return address.sixtofour
    value = int(address)
    if address in _NAT64 or address in _TRANSLATED or (value >> 32 == 0 and value > 1):
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    return None


def host_of(channel: Channel) -> str:
    """The host ``channel`` delivers to."""
    settings = channel.settings
    if isinstance(settings, WebhookSettings):
        return urlsplit(settings.url).hostname or ""
    if isinstance(settings, EmailSettings | MqttChannelSettings):
        return settings.host
    raise ValidationError(f"unknown channel settings {type(settings).__name__}")


@dataclass(frozen=True, slots=True)
class DestinationPolicy:
    """Public addresses, plus the allowed networks.

    Attributes:
        allowed: Networks reachable even though not public (``ARGUS_NOTIFY_ALLOWED_NETWORKS``).
        resolve: Resolves a host name to its addresses (blocking; used at save time).
    """

    allowed: tuple[Network, ...] = ()
    resolve: Resolver = field(default=_resolve, compare=False)

    @classmethod
    def of(cls, allowed: str, resolve: Resolver = _resolve) -> DestinationPolicy:
        """A policy from the settings' comma-separated networks."""
        nets = tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in allowed.split(",")
            if part.strip()
        )
        return cls(nets, resolve)

    def allows(self, text: str) -> bool:
        """Whether the address ``text`` may be reached."""
        address = _address(text)
        if address is None:
            return False
        if any(address in net for net in self.allowed if net.version == address.version):
            return True
        if isinstance(address, ipaddress.IPv6Address):
            if address.is_site_local or address in _NAT64_LOCAL:
                return False
            inner = _embedded(address)
            if inner is not None:
                return self.allows(str(inner))
        return address.is_global and not address.is_multicast

    def _check(self, host: str, addresses: Sequence[str]) -> str:
        if not addresses:
            raise DestinationRefusedError(f"the host name {host!r} does not resolve")
        for text in addresses:
            if not self.allows(text):
                raise DestinationRefusedError(
                    f"{host} resolves to {text}, which notification channels may not reach "
                    "(private, loopback or link-local; allow it with "
                    "ARGUS_NOTIFY_ALLOWED_NETWORKS)"
                )
        return addresses[0]

    def check_channel(self, channel: Channel) -> None:
        """The save-time check: every address the channel's host resolves to now is allowed.

        A name that does not resolve (yet) passes; ``pin`` checks again at each delivery.

        Raises:
            DestinationRefusedError: An address of the host is refused.
        """
        host = host_of(channel).strip("[]")
        if _address(host) is not None:
            self._check(host, [host])
            return
        try:
            addresses = self.resolve(host)
        except (OSError, UnicodeError):
            return
        self._check(host, addresses)

    async def pin(self, host: str, port: int) -> tuple[str, int, int]:
        """The first checked address of ``host``: ``(address, port, family)`` (see ``addresses``).

        Raises:
            DestinationRefusedError: An address of the host is refused (permanent).
            OSError: The name does not resolve now (``socket.gaierror``; may pass later).
        """
        address, family = (await self.addresses(host, port))[0]
        return address, port, family

    async def addresses(self, host: str, port: int) -> list[tuple[str, int]]:
        """The checked addresses to connect to for ``host``: ``(address, family)`` pairs.

        Every address the name resolves to must pass, not only the first: a
        name with one public and one internal address is refused. The caller
        tries them in order.

        Raises:
            DestinationRefusedError: An address of the host is refused (permanent).
            OSError: The name does not resolve now (``socket.gaierror``; may pass later).
        """
        host = host.strip("[]")
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except UnicodeError as exc:
            raise DestinationRefusedError(f"{host!r} is not a valid host name") from exc
        pairs: list[tuple[str, int]] = []
        for info in infos:
            pair = (str(info[4][0]), int(info[0]))
            if pair not in pairs:
                pairs.append(pair)
        self._check(host, [address for address, _ in pairs])
        return pairs
