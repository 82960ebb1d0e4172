"""Event bus URLs: which adapter a URL names, checked before anything connects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from argus.domain.errors import ConfigError

__all__ = ["BusKind", "BusUrl", "parse_bus_url"]

BusKind = Literal["memory", "nats", "redis"]
"""The event bus adapters a URL can name."""

_BUS_SCHEMES: dict[str, BusKind] = {
    "memory": "memory",
    "nats": "nats",
    "tls": "nats",
    "redis": "redis",
    "rediss": "redis",
}


@dataclass(frozen=True, slots=True)
class BusUrl:
    """A parsed event bus URL.

    Attributes:
        kind: The adapter it names.
        url: The URL as given (passed to the broker client).
    """

    kind: BusKind
    url: str


def parse_bus_url(url: str) -> BusUrl:
    """Parse an event bus URL: ``memory://``, ``nats://host:4222`` or ``redis://host:6379/0``.

    NATS takes several servers separated by commas (``nats://a:4222,nats://b:4222``)
    and ``tls://`` for TLS; Redis takes ``rediss://`` for TLS.

    Raises:
        ConfigError: An unknown scheme, a broker URL without a host, or a
            ``memory://`` URL with anything after the scheme.
    """
    text = url.strip()
    parts = text.split(",")
    kinds: set[BusKind] = set()
    for part in parts:
        split = urlsplit(part.strip())
        scheme = split.scheme.lower()
        kind = _BUS_SCHEMES.get(scheme)
        if kind is None:
            known = ", ".join(f"{name}://" for name in _BUS_SCHEMES)
            raise ConfigError(f"bus URL {url!r}: unknown scheme {scheme!r} (use one of {known})")
        if kind == "memory" and (part.strip().lower() != "memory://" or len(parts) > 1):
            raise ConfigError(f"bus URL {url!r}: the in-process bus is just 'memory://'")
        if kind != "memory" and not split.hostname:
            raise ConfigError(f"bus URL {url!r}: {scheme}:// needs a host, e.g. {scheme}://host")
        kinds.add(kind)
    if len(kinds) > 1 or (len(parts) > 1 and kinds != {"nats"}):
        raise ConfigError(f"bus URL {url!r}: only NATS takes several comma-separated servers")
    return BusUrl(kind=kinds.pop(), url=text)
