"""Notification channels: where an alert goes (an SMTP server, a webhook, an MQTT broker).

A ``Channel`` is a validated, stored value: its kind, the kind's settings
(``EmailSettings``, ``WebhookSettings`` or ``MqttChannelSettings``), optional
templates and a per-channel rate limit. Settings hold secrets (SMTP and MQTT
passwords, the webhook HMAC key); they are kept in the value so senders can
use them, but ``public_dict`` replaces each by ``{"set": bool}`` and stores
encrypt them at rest (``secrets_of`` / ``with_secrets`` split them off and put
them back).

Checks here are about shape only (addresses that look like addresses, http(s)
webhook URLs, topics without wildcards). Whether a destination may be reached
at all (the SSRF check) is decided where the network is: at save time through
a callable the configuration service is given, and again at send time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Literal, get_args
from urllib.parse import urlsplit

from argus.domain.checks import aware_utc, finite, text
from argus.domain.errors import ValidationError

__all__ = [
    "CHANNEL_KINDS",
    "SECRET_FIELDS",
    "Channel",
    "ChannelKind",
    "ChannelSettings",
    "EmailSecurity",
    "EmailSettings",
    "MqttChannelSettings",
    "SnapshotMode",
    "Templates",
    "WebhookFormat",
    "WebhookSettings",
    "check_address",
    "settings_from_dict",
]

ChannelKind = Literal["email", "webhook", "mqtt"]
EmailSecurity = Literal["none", "starttls", "tls"]
SnapshotMode = Literal["attach", "link", "none"]
WebhookFormat = Literal["json", "slack", "teams"]

CHANNEL_KINDS: tuple[ChannelKind, ...] = get_args(ChannelKind)
SECRET_FIELDS: Mapping[ChannelKind, tuple[str, ...]] = MappingProxyType(
    {"email": ("password",), "webhook": ("secret",), "mqtt": ("password",)}
)
"""The settings fields of each kind that are secrets (write-only, encrypted at rest)."""

_ATOM = r"[^@\s<>,;\"\x00-\x1f\x7f]+"
_ADDRESS = re.compile(rf"^{_ATOM}@{_ATOM}\.{_ATOM}$|^{_ATOM}@localhost$")
_HOST = re.compile(r"^[A-Za-z0-9._:\[\]-]{1,253}$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
_RESERVED_HEADERS = frozenset({"host", "content-length", "content-type", "transfer-encoding"})
_MAX_RECIPIENTS = 100
_MAX_TEMPLATE = 20_000


def check_address(value: object, where: str) -> str:
    """An e-mail address (``local@domain``), at most 254 characters."""
    address = text(value, where, 254)
    if not _ADDRESS.fullmatch(address):
        raise ValidationError(f"{where} must be an e-mail address, got {address!r}")
    return address


def _host(value: object, where: str) -> str:
    host = text(value, where, 253)
    if not _HOST.fullmatch(host):
        raise ValidationError(f"{where} must be a host name or IP address, got {host!r}")
    return host


def _port(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValidationError(f"{where} must be an integer in [1, 65535], got {value!r}")
    return value


def _timeout(value: object, where: str) -> float:
    seconds = finite(value, where)
    if not 0.0 < seconds <= 120.0:
        raise ValidationError(f"{where} must be in (0, 120] seconds, got {seconds}")
    return seconds


def _choice(value: object, choices: tuple[str, ...], where: str) -> None:
    if value not in choices:
        raise ValidationError(f"{where} must be one of {', '.join(choices)}, got {value!r}")


def _clean(value: object, where: str, max_len: int) -> str:
    """A non-empty string without NUL or line breaks (they end up in protocol lines)."""
    checked = text(value, where, max_len)
    if any(c in checked for c in "\x00\r\n"):
        raise ValidationError(f"{where} may not contain NUL or line breaks")
    return checked


def _optional_text(value: object, where: str, max_len: int) -> None:
    if value is not None:
        _clean(value, where, max_len)


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """An SMTP server and the mail it sends.

    Attributes:
        host: SMTP server host.
        port: SMTP server port.
        security: ``"tls"`` (implicit TLS, port 465), ``"starttls"`` or ``"none"``.
        username: Login, if the server needs authentication.
        password: Login password (a secret: encrypted at rest, never returned).
        sender: The ``From`` address.
        to: Default recipients, used when a route target names none.
        snapshot: Whether the evidence snapshot is attached, linked or left out.
        timeout_s: Connect and command timeout.
    """

    host: str
    port: int = 587
    security: EmailSecurity = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "argus@localhost"
    to: tuple[str, ...] = ()
    snapshot: SnapshotMode = "link"
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        _host(self.host, "email.host")
        _port(self.port, "email.port")
        _choice(self.security, get_args(EmailSecurity), "email.security")
        _optional_text(self.username, "email.username", 200)
        _optional_text(self.password, "email.password", 1000)
        check_address(self.sender, "email.sender")
        if not isinstance(self.to, tuple | list) or len(self.to) > _MAX_RECIPIENTS:
            raise ValidationError(f"email.to must be a list of at most {_MAX_RECIPIENTS}")
        to = tuple(check_address(item, f"email.to[{i}]") for i, item in enumerate(self.to))
        object.__setattr__(self, "to", to)
        _choice(self.snapshot, get_args(SnapshotMode), "email.snapshot")
        object.__setattr__(self, "timeout_s", _timeout(self.timeout_s, "email.timeout_s"))


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """An HTTP endpoint that receives signed JSON ``POST`` requests.

    Attributes:
        url: ``http(s)://`` URL.
        secret: HMAC-SHA256 key of the signature (a secret, never returned);
            the configuration service generates one when none is given.
        format: Body shape: Argus JSON, Slack or Microsoft Teams.
        headers: Extra request headers; they may not set ``Host``,
            ``Content-Length``, ``Content-Type``, ``Transfer-Encoding`` or ``X-Argus-*``.
        timeout_s: Request timeout.
    """

    url: str
    secret: str | None = field(default=None, repr=False)
    format: WebhookFormat = "json"
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        url = _clean(self.url, "webhook.url", 2000)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError(f"webhook.url must be an http(s) URL, got {url!r}")
        if parts.username is not None or parts.password is not None:
            raise ValidationError("webhook.url may not carry credentials; use headers")
        _optional_text(self.secret, "webhook.secret", 500)
        _choice(self.format, get_args(WebhookFormat), "webhook.format")
        if not isinstance(self.headers, Mapping) or len(self.headers) > 20:
            raise ValidationError("webhook.headers must be a mapping of at most 20 headers")
        headers: dict[str, str] = {}
        for name, raw in self.headers.items():
            if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
                raise ValidationError(f"webhook.headers: {name!r} is not a header name")
            lowered = name.lower()
            if lowered in _RESERVED_HEADERS or lowered.startswith("x-argus-"):
                raise ValidationError(f"webhook.headers may not set {name}")
            value = text(raw, f"webhook.headers[{name}]", 2000, empty=True)
            if any(c in value for c in "\x00\r\n"):
                raise ValidationError(f"webhook.headers[{name}] may not contain NUL or line breaks")
            headers[name] = value
        object.__setattr__(self, "headers", MappingProxyType(headers))
        object.__setattr__(self, "timeout_s", _timeout(self.timeout_s, "webhook.timeout_s"))


@dataclass(frozen=True, slots=True)
class MqttChannelSettings:
    """An MQTT broker and the topic alerts are published on.

    Attributes:
        host: Broker host.
        port: Broker port.
        tls: Connect over TLS.
        username: Login, if the broker needs one.
        password: Login password (a secret, never returned).
        topic: Topic alerts are published on (no ``#``/``+`` wildcards).
        qos: MQTT quality of service, 0 to 2.
        retain: Publish retained messages.
    """

    host: str
    port: int = 1883
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    topic: str = "argus/notifications"
    qos: int = 1
    retain: bool = False

    def __post_init__(self) -> None:
        _host(self.host, "mqtt.host")
        _port(self.port, "mqtt.port")
        if not isinstance(self.tls, bool) or not isinstance(self.retain, bool):
            raise ValidationError("mqtt.tls and mqtt.retain must be booleans")
        _optional_text(self.username, "mqtt.username", 200)
        _optional_text(self.password, "mqtt.password", 1000)
        topic = _clean(self.topic, "mqtt.topic", 200)
        if "#" in topic or "+" in topic or "\x00" in topic or topic.startswith("$"):
            raise ValidationError(f"mqtt.topic may not hold wildcards or start with $: {topic!r}")
        if isinstance(self.qos, bool) or self.qos not in (0, 1, 2):
            raise ValidationError(f"mqtt.qos must be 0, 1 or 2, got {self.qos!r}")


ChannelSettings = EmailSettings | WebhookSettings | MqttChannelSettings

_SETTINGS_OF: Mapping[ChannelKind, type[ChannelSettings]] = MappingProxyType(
    {"email": EmailSettings, "webhook": WebhookSettings, "mqtt": MqttChannelSettings}
)


def settings_from_dict(kind: ChannelKind, data: Mapping[str, object]) -> ChannelSettings:
    """Settings of ``kind`` from their JSON form (unknown fields refused)."""
    _choice(kind, CHANNEL_KINDS, "channel.kind")
    cls = _SETTINGS_OF[kind]
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValidationError(f"{kind} settings have no field(s) {', '.join(unknown)}")
    fields = dict(data)
    if kind == "email" and isinstance(fields.get("to"), list):
        fields["to"] = tuple(fields["to"])  # type: ignore[arg-type]
    try:
        return cls(**fields)  # type: ignore[arg-type]
    except TypeError as exc:
        raise ValidationError(f"{kind} settings: {exc}") from exc


def _settings_dict(settings: ChannelSettings) -> dict[str, object]:
    doc: dict[str, object] = {name: getattr(settings, name) for name in settings.__slots__}
    if isinstance(settings, EmailSettings):
        doc["to"] = list(settings.to)
    if isinstance(settings, WebhookSettings):
        doc["headers"] = dict(settings.headers)
    return doc


@dataclass(frozen=True, slots=True)
class Templates:
    """Jinja2 (sandboxed) template sources; an empty one means the kind's built-in."""

    subject: str = ""
    body: str = ""

    def __post_init__(self) -> None:
        text(self.subject, "templates.subject", 1000, empty=True)
        text(self.body, "templates.body", _MAX_TEMPLATE, empty=True)


@dataclass(frozen=True, slots=True)
class Channel:
    """A stored notification channel.

    Attributes:
        id: Stable id.
        name: Display name (at most 100 characters).
        kind: ``"email"``, ``"webhook"`` or ``"mqtt"``; matches the settings' type.
        settings: Where and how to deliver.
        created_at: When it was created (UTC).
        updated_at: When it was last changed (UTC).
        enabled: Disabled channels receive nothing.
        templates: Subject and body templates.
        rate_per_minute: At most this many deliveries a minute (1 to 10 000).
        version: Bumped by every update (optimistic concurrency).
    """

    id: str
    name: str
    kind: ChannelKind
    settings: ChannelSettings
    created_at: datetime
    updated_at: datetime
    enabled: bool = True
    templates: Templates = Templates()
    rate_per_minute: int = 30
    version: int = 1

    def __post_init__(self) -> None:
        text(self.id, "channel.id", 64)
        text(self.name, "channel.name", 100)
        _choice(self.kind, CHANNEL_KINDS, "channel.kind")
        if not isinstance(self.settings, _SETTINGS_OF[self.kind]):
            raise ValidationError(f"channel.settings do not fit kind {self.kind!r}")
        object.__setattr__(self, "created_at", aware_utc(self.created_at, "channel.created_at"))
        object.__setattr__(self, "updated_at", aware_utc(self.updated_at, "channel.updated_at"))
        if not isinstance(self.enabled, bool):
            raise ValidationError("channel.enabled must be a boolean")
        if not isinstance(self.templates, Templates):
            raise ValidationError("channel.templates must be Templates")
        rate = self.rate_per_minute
        if isinstance(rate, bool) or not isinstance(rate, int) or not 1 <= rate <= 10_000:
            raise ValidationError(f"channel.rate_per_minute must be in [1, 10000], got {rate!r}")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValidationError("channel.version must be a positive integer")

    def secrets_of(self) -> dict[str, str]:
        """The set secrets of the settings, by field name."""
        found = {name: getattr(self.settings, name) for name in SECRET_FIELDS[self.kind]}
        return {name: value for name, value in found.items() if value is not None}

    def with_secrets(self, secrets: Mapping[str, str | None]) -> Channel:
        """This channel with the given secret fields set (unknown names refused)."""
        unknown = set(secrets) - set(SECRET_FIELDS[self.kind])
        if unknown:
            raise ValidationError(f"{self.kind} channels have no secret(s) {sorted(unknown)}")
        return replace(self, settings=replace(self.settings, **secrets))  # type: ignore[arg-type]

    def without_secrets(self) -> Channel:
        """This channel with every secret field cleared (for storage beside ciphertext)."""
        return self.with_secrets(dict.fromkeys(SECRET_FIELDS[self.kind]))

    def to_dict(self) -> dict[str, object]:
        """The full JSON-ready form, secrets included in clear (storage only)."""
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "enabled": self.enabled,
            "rate_per_minute": self.rate_per_minute,
            "templates": {"subject": self.templates.subject, "body": self.templates.body},
            "settings": _settings_dict(self.settings),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "version": self.version,
        }

    def public_dict(self) -> dict[str, object]:
        """The JSON form for the API: each secret replaced by ``{"set": bool}``."""
        doc = self.to_dict()
        settings = dict(doc["settings"])  # type: ignore[call-overload]
        for name in SECRET_FIELDS[self.kind]:
            settings[name] = {"set": getattr(self.settings, name) is not None}
        doc["settings"] = settings
        return doc

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Channel:
        """Rebuild a channel from ``to_dict`` output."""
        kind = data.get("kind")
        _choice(kind, CHANNEL_KINDS, "channel.kind")
        settings = data.get("settings")
        templates = data.get("templates", {})
        if not isinstance(settings, Mapping) or not isinstance(templates, Mapping):
            raise ValidationError("channel.settings and channel.templates must be objects")
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            kind=kind,  # type: ignore[arg-type]
            settings=settings_from_dict(kind, settings),  # type: ignore[arg-type]
            created_at=datetime.fromisoformat(str(data["created_at"])),
            updated_at=datetime.fromisoformat(str(data["updated_at"])),
            enabled=bool(data.get("enabled", True)),
            templates=Templates(
                subject=str(templates.get("subject", "")), body=str(templates.get("body", ""))
            ),
            rate_per_minute=int(data.get("rate_per_minute", 30)),  # type: ignore[call-overload]
            version=int(data.get("version", 1)),  # type: ignore[call-overload]
        )
