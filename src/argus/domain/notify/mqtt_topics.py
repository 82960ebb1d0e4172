"""MQTT names: the broker endpoint of ``ARGUS_MQTT_URL`` and every topic Argus publishes.

The state bridge publishes under one prefix (``argus`` by default)::

    argus/status                                  online | offline (retained; the LWT)
    argus/alerts                                  the latest alert, JSON (not retained)
    argus/<camera>/status                         the camera's pipeline state (retained)
    argus/<camera>/alert                          on | off: any open alert (retained)
    argus/<camera>/alert/attributes               JSON of the latest open alert (retained)
    argus/<camera>/lines/<line>/in|out|total      today's crossings (retained)
    argus/<camera>/zones/<zone>/occupancy         objects inside now (retained)
    argus/nodes/<node>/state                      online | offline (retained)

Camera ids, line and zone names are free text, but a topic level must not hold
``/``, ``+`` or ``#`` and Home Assistant's object ids only take
``[a-zA-Z0-9_-]``; ``slug`` maps each onto that class and adds a short hash of
the original whenever the mapping changed something, so two names never share
a topic (``Kerb line`` → ``Kerb_line_b0da82``, ``kerb`` → ``kerb``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from argus.domain.errors import ValidationError

__all__ = ["BrokerEndpoint", "LineCount", "MqttTopics", "check_prefix", "slug"]

LineCount = Literal["in", "out", "total"]
"""The three counters of a line."""

_SLUG_OK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SLUG_OUT = re.compile(r"[^A-Za-z0-9_-]+")
_PREFIX = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")


def slug(name: str) -> str:
    """A topic level and object-id fragment for ``name`` (``[A-Za-z0-9_-]``, unique per name).

    Raises:
        ValidationError: ``name`` is empty.
    """
    if not name:
        raise ValidationError("a name in an MQTT topic must not be empty")
    if _SLUG_OK.fullmatch(name):
        return name
    base = _SLUG_OUT.sub("_", name).strip("_")[:48] or "x"
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:6]
    return f"{base}_{digest}"


def check_prefix(prefix: str, what: str = "topic prefix") -> str:
    """Return ``prefix`` if it is ``/``-separated levels of ``[A-Za-z0-9_-]``.

    Raises:
        ValidationError: It is empty, has wildcards, empty levels or other characters.
    """
    if not _PREFIX.fullmatch(prefix):
        raise ValidationError(
            f"invalid MQTT {what} {prefix!r}: use /-separated levels of [A-Za-z0-9_-]"
        )
    return prefix


@dataclass(frozen=True, slots=True)
class MqttTopics:
    """Every state topic under ``prefix``.

    Attributes:
        prefix: The first level(s) of every topic (``argus``).
    """

    prefix: str = "argus"

    def __post_init__(self) -> None:
        check_prefix(self.prefix)

    @property
    def status(self) -> str:
        """The bridge's availability (its last will says ``offline``)."""
        return f"{self.prefix}/status"

    @property
    def alerts(self) -> str:
        """Every new alert as JSON, not retained."""
        return f"{self.prefix}/alerts"

    def camera(self, camera_id: str) -> str:
        """The level every topic of a camera starts with."""
        return f"{self.prefix}/{slug(camera_id)}"

    def camera_status(self, camera_id: str) -> str:
        """The camera's pipeline state (``online``, ``offline``, ``error``...)."""
        return f"{self.camera(camera_id)}/status"

    def alert(self, camera_id: str) -> str:
        """``on`` while the camera has an open alert, else ``off``."""
        return f"{self.camera(camera_id)}/alert"

    def alert_attributes(self, camera_id: str) -> str:
        """JSON of the camera's latest open alert (``{}`` when none is open)."""
        return f"{self.camera(camera_id)}/alert/attributes"

    def line(self, camera_id: str, line: str, count: LineCount) -> str:
        """Today's crossings of a line in one direction, or both (``total``)."""
        return f"{self.camera(camera_id)}/lines/{slug(line)}/{count}"

    def zone_occupancy(self, camera_id: str, zone: str) -> str:
        """How many tracked objects are inside a zone now."""
        return f"{self.camera(camera_id)}/zones/{slug(zone)}/occupancy"

    def node_state(self, node_id: str) -> str:
        """An edge node's state: ``online`` or ``offline``."""
        return f"{self.prefix}/nodes/{slug(node_id)}/state"


@dataclass(frozen=True, slots=True)
class BrokerEndpoint:
    """Where an MQTT broker listens and how to log in.

    Attributes:
        host: Host name or address.
        port: TCP port (1883, or 8883 with TLS, by default).
        tls: Whether to speak TLS (``mqtts://``).
        username: Login, if any.
        password: Password, if any (never in ``repr``).
    """

    host: str
    port: int = 1883
    tls: bool = False
    username: str | None = None
    password: str | None = None

    def __post_init__(self) -> None:
        if not self.host:
            raise ValidationError("the MQTT broker needs a host")
        if not 1 <= self.port <= 65535:
            raise ValidationError(f"MQTT port must be 1..65535, got {self.port}")

    def __repr__(self) -> str:
        secret = "***" if self.password else None
        return (
            f"BrokerEndpoint(host={self.host!r}, port={self.port}, tls={self.tls}, "
            f"username={self.username!r}, password={secret!r})"
        )

    @classmethod
    def from_url(cls, url: str) -> BrokerEndpoint:
        """Parse ``mqtt://[user[:password]@]host[:port]`` or ``mqtts://...``.

        Raises:
            ValidationError: Another scheme, no host, a bad port, or a path.
        """
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise ValidationError(f"invalid MQTT URL: {exc}") from exc
        if parts.scheme not in {"mqtt", "mqtts"}:
            raise ValidationError("an MQTT URL starts with mqtt:// or mqtts://")
        if parts.path not in {"", "/"} or parts.query or parts.fragment:
            raise ValidationError("an MQTT URL has no path, query or fragment")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname or "",
            port=port if port is not None else (8883 if tls else 1883),
            tls=tls,
            username=None if parts.username is None else unquote(parts.username),
            password=None if parts.password is None else unquote(parts.password),
        )
