"""Settings of notification delivery: retries, circuit breakers, destinations, snapshot links."""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from argus.config.sources import check_networks

__all__ = ["NotifySettings"]


class NotifySettings(BaseSettings):
    """How the notification dispatcher delivers the outbox (``ARGUS_NOTIFY_*``)."""

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

    notify_dispatch: bool = Field(
        default=True,
        description="Run the notification dispatcher in this server (ARGUS_NOTIFY_DISPATCH). "
        "Several servers may run it over one database: each claims items under a lease.",
    )
    notify_max_attempts: int = Field(
        default=8,
        ge=1,
        le=100,
        description="Delivery attempts of one notification before it is dead-lettered "
        "(ARGUS_NOTIFY_MAX_ATTEMPTS); a permanent refusal (SMTP 5xx, HTTP 4xx but 408 and "
        "429) dead-letters it at once. Dead notifications can be retried from the log.",
    )
    notify_backoff_initial_s: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="Ceiling of the first retry delay in seconds (ARGUS_NOTIFY_BACKOFF_INITIAL_S); "
        "it doubles per failed attempt, with full jitter.",
    )
    notify_backoff_max_s: float = Field(
        default=900.0,
        gt=0,
        le=86_400,
        description="Longest retry delay in seconds (ARGUS_NOTIFY_BACKOFF_MAX_S).",
    )
    notify_breaker_threshold: int = Field(
        default=3,
        ge=1,
        le=1000,
        description="Failures in a row that open a channel's circuit breaker "
        "(ARGUS_NOTIFY_BREAKER_THRESHOLD); while open, the channel's notifications wait "
        "without spending attempts and the other channels are not held up.",
    )
    notify_breaker_cooldown_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds an open breaker waits before one probe delivery "
        "(ARGUS_NOTIFY_BREAKER_COOLDOWN_S); each failed probe doubles it.",
    )
    notify_breaker_max_cooldown_s: float = Field(
        default=600.0,
        gt=0,
        le=86_400,
        description="Longest wait of an open breaker (ARGUS_NOTIFY_BREAKER_MAX_COOLDOWN_S).",
    )
    notify_lease_s: float = Field(
        default=120.0,
        ge=5,
        le=3600,
        description="Seconds a dispatcher holds a claimed notification (ARGUS_NOTIFY_LEASE_S); "
        "after a crash another server (or this one, restarted) takes it over after this. It "
        "must exceed the slowest channel's timeout.",
    )
    notify_poll_s: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="Seconds between two looks at the outbox when it is idle "
        "(ARGUS_NOTIFY_POLL_S).",
    )
    notify_batch: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Notifications claimed at once (ARGUS_NOTIFY_BATCH).",
    )
    notify_channel_concurrency: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Deliveries in flight at once on one channel "
        "(ARGUS_NOTIFY_CHANNEL_CONCURRENCY).",
    )
    notify_allowed_networks: str = Field(
        default="",
        max_length=4096,
        pattern=r"^[0-9A-Fa-f.:/, ]*$",
        description="Networks of private, loopback or link-local addresses that SMTP servers, "
        "webhooks and MQTT brokers may resolve to (ARGUS_NOTIFY_ALLOWED_NETWORKS), e.g. "
        "10.0.0.0/8,127.0.0.1. Default none: a channel may only reach public addresses, so "
        "whoever configures channels cannot make the server call its own network.",
    )
    public_url: str | None = Field(
        default=None,
        max_length=2000,
        pattern=r"^https?://[^\s]+$",
        description="The URL people reach this server at (ARGUS_PUBLIC_URL), e.g. "
        "https://argus.example.org: links in notifications (the alert, the signed snapshot "
        "link) start with it. Unset: mails attach the snapshot instead of linking it.",
    )
    notify_link_ttl_s: float = Field(
        default=7 * 86_400.0,
        ge=60,
        le=90 * 86_400,
        description="Seconds a signed snapshot link in a notification stays valid "
        "(ARGUS_NOTIFY_LINK_TTL_S).",
    )

    @field_validator("notify_allowed_networks")
    @classmethod
    def _allowed_networks(cls, value: str) -> str:
        return check_networks(value)

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return None if value is None else value.rstrip("/")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.notify_backoff_max_s < self.notify_backoff_initial_s:
            raise ValueError("notify_backoff_max_s must be >= notify_backoff_initial_s")
        if self.notify_breaker_max_cooldown_s < self.notify_breaker_cooldown_s:
            raise ValueError("notify_breaker_max_cooldown_s must be >= notify_breaker_cooldown_s")
        return self
