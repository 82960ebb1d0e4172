"""Schemas of ``/api/v1/channels`` and ``/notifications`` (routes: ``notify_routes``).

A channel is created with its kind's settings (``kind`` picks the body's
shape); secrets (``password``, ``secret``) are write-only: answers show each as
``{"set": bool}``. A PATCH merges ``settings`` into the stored ones; a secret it
leaves out keeps its value. The domain (``argus.domain.notify``) checks every
value again, so a body that passes here may still answer 422 with its reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from argus.api.schemas.common import PartialUpdate, StrictModel, Text, non_nullable
from argus.domain.notify import (
    Channel,
    ChannelKind,
    DeliveryAttempt,
    EmailSettings,
    MqttChannelSettings,
    Notification,
    NotificationKind,
    NotificationState,
    Templates,
    WebhookSettings,
)
from argus.services.notify_commands import ChannelChanges, NewChannel

__all__ = [
    "ChannelCreate",
    "ChannelCreated",
    "ChannelList",
    "ChannelPublic",
    "ChannelUpdate",
    "DeliveryList",
    "NotificationList",
    "NotificationPublic",
]

ChannelName = Annotated[Text, Field(min_length=1, max_length=100, description="Display name.")]
Host = Annotated[Text, Field(min_length=1, max_length=253, description="Host name or IP address.")]
Port = Annotated[int, Field(ge=1, le=65535)]
Secret = Annotated[Text, Field(min_length=1, max_length=1000, description="Write-only secret.")]
Login = Annotated[Text, Field(min_length=1, max_length=200)]
Address = Annotated[Text, Field(min_length=3, max_length=254, description="E-mail address.")]
Timeout = Annotated[float, Field(gt=0, le=120, description="Seconds.")]
Rate = Annotated[int, Field(ge=1, le=10_000, description="Deliveries a minute at most.")]


class TemplatesIn(StrictModel):
    """Jinja2 templates; empty means the kind's built-in one."""

    subject: Annotated[Text, Field(max_length=1000)] = ""
    body: Annotated[Text, Field(max_length=20_000)] = ""

    def value(self) -> Templates:
        """The domain value."""
        return Templates(subject=self.subject, body=self.body)


class EmailSettingsIn(StrictModel):
    """An SMTP server and the mail it sends."""

    host: Host
    port: Port = 587
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: Login | None = None
    password: Secret | None = None
    sender: Address = "argus@localhost"
    to: Annotated[list[Address], Field(max_length=100)] = Field(default_factory=list)
    snapshot: Literal["attach", "link", "none"] = "link"
    timeout_s: Timeout = 10.0

    def value(self) -> EmailSettings:
        """The domain value."""
        return EmailSettings(**{**self.model_dump(), "to": tuple(self.to)})


class WebhookSettingsIn(StrictModel):
    """An HTTP(S) endpoint receiving signed JSON; a secret is generated when none is given."""

    url: Annotated[Text, Field(min_length=8, max_length=2000, description="http(s) URL.")]
    secret: Secret | None = None
    format: Literal["json", "slack", "teams"] = "json"
    headers: Annotated[dict[str, Annotated[Text, Field(max_length=2000)]], Field(max_length=20)] = (
        Field(default_factory=dict, description="Extra headers (not Host, X-Argus-*).")
    )
    timeout_s: Timeout = 10.0

    def value(self) -> WebhookSettings:
        """The domain value."""
        return WebhookSettings(**self.model_dump())


class MqttSettingsIn(StrictModel):
    """An MQTT broker and the topic alerts are published on."""

    host: Host
    port: Port = 1883
    tls: bool = False
    username: Login | None = None
    password: Secret | None = None
    topic: Annotated[Text, Field(min_length=1, max_length=200)] = "argus/notifications"
    qos: Annotated[int, Field(ge=0, le=2)] = 1
    retain: bool = False

    def value(self) -> MqttChannelSettings:
        """The domain value."""
        return MqttChannelSettings(**self.model_dump())


class _ChannelCreateBase(StrictModel):
    name: ChannelName
    enabled: bool = True
    rate_per_minute: Rate = 30
    templates: TemplatesIn = Field(default_factory=TemplatesIn)

    def _command(self, kind: ChannelKind, settings: Any) -> NewChannel:
        return NewChannel(
            name=self.name,
            kind=kind,
            settings=settings,
            enabled=self.enabled,
            templates=self.templates.value(),
            rate_per_minute=self.rate_per_minute,
        )


class EmailChannelCreate(_ChannelCreateBase):
    """An e-mail channel to create."""

    kind: Literal["email"]
    settings: EmailSettingsIn

    def command(self) -> NewChannel:
        """The service's command."""
        return self._command("email", self.settings.value())


class WebhookChannelCreate(_ChannelCreateBase):
    """A webhook channel to create."""

    kind: Literal["webhook"]
    settings: WebhookSettingsIn

    def command(self) -> NewChannel:
        """The service's command."""
        return self._command("webhook", self.settings.value())


class MqttChannelCreate(_ChannelCreateBase):
    """An MQTT channel to create."""

    kind: Literal["mqtt"]
    settings: MqttSettingsIn

    def command(self) -> NewChannel:
        """The service's command."""
        return self._command("mqtt", self.settings.value())


ChannelCreate = Annotated[
    EmailChannelCreate | WebhookChannelCreate | MqttChannelCreate, Field(discriminator="kind")
]
"""A channel to create; ``kind`` picks the shape of ``settings``."""

_CHANNEL_NOT_NULL = ("name", "enabled", "rate_per_minute", "templates", "settings")


class ChannelUpdate(PartialUpdate):
    """Fields of a channel to change; ``settings`` is merged into the stored settings.

    A secret left out of ``settings`` keeps its value; ``"password": null`` clears one.
    The kind cannot change.
    """

    model_config = ConfigDict(json_schema_extra=non_nullable(_CHANNEL_NOT_NULL))
    not_null: ClassVar[tuple[str, ...]] = _CHANNEL_NOT_NULL

    name: ChannelName | None = None
    enabled: bool | None = None
    rate_per_minute: Rate | None = None
    templates: TemplatesIn | None = None
    settings: Annotated[dict[str, Any], Field(max_length=20)] | None = Field(
        default=None, description="Settings fields of the channel's kind to replace."
    )

    def command(self) -> ChannelChanges:
        """The service's command: the fields that were sent."""
        fields: dict[str, Any] = {
            name: getattr(self, name) for name in self.model_fields_set if name != "templates"
        }
        if self.templates is not None:
            fields["templates"] = self.templates.value()
        return ChannelChanges(**fields)


class ChannelPublic(BaseModel):
    """A stored channel; secrets show only whether they are set (``{"set": true}``)."""

    id: str
    name: str
    kind: ChannelKind
    enabled: bool
    rate_per_minute: int
    templates: dict[str, str] = Field(description='{"subject": ..., "body": ...}')
    settings: dict[str, Any] = Field(description="The kind's settings, secrets as {set: bool}.")
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, channel: Channel) -> ChannelPublic:
        """The public view of a channel."""
        return cls.model_validate(channel.public_dict())


class ChannelCreated(ChannelPublic):
    """A created channel, with the webhook secret Argus generated (shown this once)."""

    generated_secret: str | None = Field(
        default=None, description="The generated webhook secret; never shown again."
    )


class ChannelList(BaseModel):
    """A page of channels."""

    items: list[ChannelPublic]
    total: int
    limit: int
    offset: int


# --- the log ----------------------------------------------------------------------------------


class NotificationPublic(BaseModel):
    """One notification in the outbox."""

    id: str
    dedupe_key: str
    channel_id: str
    kind: NotificationKind
    state: NotificationState
    created_at: datetime
    next_attempt_at: datetime
    alert_id: str | None
    group_id: str | None
    level: int
    attempts: int
    last_error: str | None
    delivered_at: datetime | None
    recipients: list[str]
    payload: dict[str, Any]

    @classmethod
    def of(cls, item: Notification) -> NotificationPublic:
        """The public view (lease fields left out)."""
        doc = item.to_dict()
        doc.pop("leased_until")
        doc.pop("lease_owner")
        return cls.model_validate(doc)


class NotificationList(BaseModel):
    """A page of the notification log, newest first."""

    items: list[NotificationPublic]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null: last.")
    total: int


class AttemptPublic(BaseModel):
    """One delivery attempt."""

    number: int
    at: datetime
    ok: bool
    latency_ms: float
    error: str | None
    breaker: str = Field(description="The channel's circuit breaker state when tried.")

    @classmethod
    def of(cls, attempt: DeliveryAttempt) -> AttemptPublic:
        """The public view of an attempt."""
        doc = attempt.to_dict()
        doc.pop("notification_id")
        return cls.model_validate(doc)


class Delivery(BaseModel):
    """A notification about an alert, with its attempts."""

    notification: NotificationPublic
    attempts: list[AttemptPublic]


class DeliveryList(BaseModel):
    """Every notification about one alert, oldest first."""

    items: list[Delivery]
