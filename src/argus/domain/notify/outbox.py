"""The notification outbox: durable delivery items, their attempts, and rendered messages.

A ``Notification`` is one alert (or test) to deliver over one channel. It is
written to the outbox in the same breath as the decision to notify, so a
restart or a SIGKILL loses nothing; the dispatcher claims due items with a
lease, tries them, and records each ``DeliveryAttempt``::

    pending ──(attempt ok)──────────────► delivered
       │  ▲
       │  └─(attempt failed, retry later: next_attempt_at moves on)
       └────(permanent failure, or the last attempt failed)──► dead ──(retry)──► pending

``dedupe_key`` makes enqueueing idempotent: the same alert, kind, level,
route and channel never produce two items, however often the decision to
notify is replayed (bus redelivery).

``Message`` is what a ``Sender`` delivers (the rendered subject and body);
``DeliveryError`` is what a sender raises, ``permanent`` when retrying cannot help.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Literal, get_args

from argus.domain.checks import aware_utc, finite, text
from argus.domain.errors import ArgusError, ValidationError

__all__ = [
    "NOTIFICATION_KINDS",
    "NOTIFICATION_STATES",
    "DeliveryAttempt",
    "DeliveryError",
    "Message",
    "Notification",
    "NotificationKind",
    "NotificationState",
    "dedupe_key",
]

NotificationState = Literal["pending", "delivered", "dead"]
NotificationKind = Literal["alert.created", "alert.escalated", "group.updated", "test"]

NOTIFICATION_STATES: tuple[NotificationState, ...] = get_args(NotificationState)
NOTIFICATION_KINDS: tuple[NotificationKind, ...] = get_args(NotificationKind)


def dedupe_key(alert_id: str, kind: str, level: int, channel_id: str, route_id: str) -> str:
    """The key that makes one notification unique: alert, kind, level, route and channel."""
    return f"{kind}:{alert_id}:{level}:{route_id}:{channel_id}"


def _optional_time(value: datetime | None, where: str) -> datetime | None:
    return None if value is None else aware_utc(value, where)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class Notification:
    """One delivery to make over one channel.

    Attributes:
        id: Stable id (a ULID).
        dedupe_key: Unique key (``dedupe_key(...)``); a second item with it is skipped.
        channel_id: The channel that delivers it.
        kind: Why: an alert raised or escalated, a group update, or a channel test.
        created_at: When it was enqueued (UTC).
        next_attempt_at: Not tried before this time (UTC).
        payload: What templates render: ``{"alert": ..., "camera": ..., "level": n,
            "links": ...}`` (JSON-ready).
        recipients: Resolved addresses (e-mail); empty for webhook and MQTT.
        alert_id: The alert it is about, if any.
        group_id: The alert group it is about, if any.
        level: Escalation level (0 = raised).
        state: ``pending``, ``delivered`` or ``dead``.
        attempts: How many attempts were made.
        last_error: Why the last attempt failed, if it did.
        delivered_at: When it was delivered.
        leased_until: A dispatcher holds it until then.
        lease_owner: Which dispatcher holds it.
    """

    id: str
    dedupe_key: str
    channel_id: str
    kind: NotificationKind
    created_at: datetime
    next_attempt_at: datetime
    payload: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    recipients: tuple[str, ...] = ()
    alert_id: str | None = None
    group_id: str | None = None
    level: int = 0
    state: NotificationState = "pending"
    attempts: int = 0
    last_error: str | None = None
    delivered_at: datetime | None = None
    leased_until: datetime | None = None
    lease_owner: str | None = None

    def __post_init__(self) -> None:
        text(self.id, "notification.id", 64)
        text(self.dedupe_key, "notification.dedupe_key", 400)
        text(self.channel_id, "notification.channel_id", 64)
        if self.kind not in NOTIFICATION_KINDS:
            raise ValidationError(f"notification.kind must be one of {NOTIFICATION_KINDS}")
        if self.state not in NOTIFICATION_STATES:
            raise ValidationError(f"notification.state must be one of {NOTIFICATION_STATES}")
        for name in ("created_at", "next_attempt_at"):
            object.__setattr__(self, name, aware_utc(getattr(self, name), f"notification.{name}"))
        for name in ("delivered_at", "leased_until"):
            value = _optional_time(getattr(self, name), f"notification.{name}")
            object.__setattr__(self, name, value)
        if not isinstance(self.payload, Mapping):
            raise ValidationError("notification.payload must be a mapping")
        if not isinstance(self.recipients, tuple | list):
            raise ValidationError("notification.recipients must be a sequence")
        recipients = tuple(
            text(item, f"notification.recipients[{i}]", 254)
            for i, item in enumerate(self.recipients)
        )
        object.__setattr__(self, "recipients", recipients)
        for name in ("level", "attempts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationError(f"notification.{name} must be an integer >= 0")

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form (lease fields included)."""
        return {
            "id": self.id,
            "dedupe_key": self.dedupe_key,
            "channel_id": self.channel_id,
            "kind": self.kind,
            "created_at": self.created_at.isoformat(),
            "next_attempt_at": self.next_attempt_at.isoformat(),
            "payload": dict(self.payload),
            "recipients": list(self.recipients),
            "alert_id": self.alert_id,
            "group_id": self.group_id,
            "level": self.level,
            "state": self.state,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "delivered_at": _iso(self.delivered_at),
            "leased_until": _iso(self.leased_until),
            "lease_owner": self.lease_owner,
        }


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One try at delivering a notification.

    Attributes:
        notification_id: The notification tried.
        number: 1 for the first attempt, then 2, 3, ...
        at: When it was tried (UTC).
        ok: Whether the receiver accepted it.
        latency_ms: How long the try took.
        error: Why it failed, if it did (also a template error on success).
        breaker: The channel's circuit breaker state when it was tried.
    """

    notification_id: str
    number: int
    at: datetime
    ok: bool
    latency_ms: float
    error: str | None = None
    breaker: str = "closed"

    def __post_init__(self) -> None:
        text(self.notification_id, "attempt.notification_id", 64)
        if isinstance(self.number, bool) or not isinstance(self.number, int) or self.number < 1:
            raise ValidationError("attempt.number must be an integer >= 1")
        object.__setattr__(self, "at", aware_utc(self.at, "attempt.at"))
        if not isinstance(self.ok, bool):
            raise ValidationError("attempt.ok must be a boolean")
        latency = finite(self.latency_ms, "attempt.latency_ms")
        if latency < 0:
            raise ValidationError("attempt.latency_ms must be >= 0")
        object.__setattr__(self, "latency_ms", latency)
        if self.error is not None:
            object.__setattr__(self, "error", str(self.error)[:2000])
        text(self.breaker, "attempt.breaker", 20)

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form."""
        return {
            "notification_id": self.notification_id,
            "number": self.number,
            "at": self.at.isoformat(),
            "ok": self.ok,
            "latency_ms": self.latency_ms,
            "error": self.error,
            "breaker": self.breaker,
        }


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered notification, ready for a sender.

    Attributes:
        notification_id: The notification it renders (webhook delivery id,
            e-mail ``Message-ID``).
        subject: Rendered subject (e-mail subject, chat title).
        body: Rendered body (mail text, webhook JSON, MQTT payload).
        payload: The notification's payload.
        recipients: Resolved addresses (e-mail).
        snapshot: JPEG bytes to attach, if any.
        snapshot_url: Signed, expiring URL of the snapshot, if linked.
    """

    notification_id: str
    subject: str
    body: str
    payload: Mapping[str, object]
    recipients: tuple[str, ...]
    snapshot: bytes | None = None
    snapshot_url: str | None = None


class DeliveryError(ArgusError):
    """A sender could not deliver a message.

    Attributes:
        permanent: Retrying cannot help (a refused recipient, a 4xx answer);
            the dispatcher moves the notification to ``dead`` at once.
    """

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
