"""Settings of authentication and abuse limits: secrets, tokens, logins, rate limits."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SecuritySettings"]


class SecuritySettings(BaseSettings):
    """The installation secret, the first admin, token lifetimes and request budgets."""

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

    secret_key: SecretStr | None = Field(
        default=None,
        description="Installation secret, at least 16 bytes (ARGUS_SECRET_KEY); camera "
        "credentials are encrypted under a key derived from it. When unset, a random key "
        "is generated into data_dir/secret.key on first use.",
    )

    dev_mode: bool = Field(
        default=False,
        description="Development mode (ARGUS_DEV_MODE): accepts placeholder secrets such as "
        "'changeme'. Never set it on a deployment.",
    )
    admin_username: str = Field(
        default="admin",
        pattern=r"^[A-Za-z0-9_.@-]{1,100}$",
        description="Username of the first admin, created on first start when there are no "
        "users (ARGUS_ADMIN_USERNAME).",
    )
    admin_password: SecretStr | None = Field(
        default=None,
        description="Password of the first admin (ARGUS_ADMIN_PASSWORD, at least 12 "
        "characters). When unset, a one-time password is printed on first start and must be "
        "changed at first login.",
    )
    access_token_ttl_s: int = Field(
        default=900, ge=30, le=86_400, description="Lifetime of a JWT access token in seconds."
    )
    refresh_token_ttl_s: int = Field(
        default=14 * 86_400,
        ge=60,
        le=365 * 86_400,
        description="Lifetime of a refresh token in seconds (each use rotates it).",
    )
    login_max_failures: int = Field(
        default=5, ge=1, le=100, description="Failed logins in a row before an account locks."
    )
    login_lockout_s: float = Field(
        default=900.0, gt=0, le=86_400, description="Seconds a locked account stays locked."
    )
    login_ip_per_s: float = Field(
        default=0.5, gt=0, le=1e6, description="Sustained sign-in attempts per second per address."
    )
    login_ip_burst: int = Field(
        default=20, ge=1, le=10**7, description="Sign-in attempts one address may burst."
    )
    rate_limit_ip_per_s: float = Field(
        default=100.0, gt=0, le=1e6, description="Sustained API requests per second per client IP."
    )
    rate_limit_ip_burst: int = Field(
        default=400, ge=1, le=10**7, description="Requests one client IP may burst above that."
    )
    rate_limit_user_per_s: float = Field(
        default=50.0, gt=0, le=1e6, description="Sustained API requests per second per user or key."
    )
    rate_limit_user_burst: int = Field(
        default=200, ge=1, le=10**7, description="Requests one user or key may burst above that."
    )
    streams_per_principal: int = Field(
        default=8,
        ge=1,
        le=1000,
        description="Live video streams (GET /cameras/{id}/stream) one user or API key may "
        "hold open at once (ARGUS_STREAMS_PER_PRINCIPAL); past it the answer is 429, so one "
        "account cannot take all of the server's 32 streams. A dashboard holds one per "
        "camera it shows.",
    )
    analytics_queries_per_principal: int = Field(
        default=3,
        ge=1,
        le=64,
        description="Analytics queries (GET /analytics/..., heatmaps) one user or API key may "
        "run at once (ARGUS_ANALYTICS_QUERIES_PER_PRINCIPAL); past it the answer is 429 with "
        "Retry-After. The dashboard's analytics page runs two at once.",
    )
    analytics_queries_total: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Analytics queries all callers together may run at once "
        "(ARGUS_ANALYTICS_QUERIES_TOTAL), at least the per-principal limit; kept below the "
        "database pool (15 connections) so sign-in, alerts and ingest always find one.",
    )
    ingest_events_per_s: float = Field(
        default=100.0,
        gt=0,
        le=1e6,
        description="Sustained events per second one API key (or user) may post to "
        "POST /api/v1/events (ARGUS_INGEST_EVENTS_PER_S); past it the batch is refused "
        "whole with 429 and Retry-After.",
    )
    ingest_events_burst: int = Field(
        default=1000,
        ge=1,
        le=10**7,
        description="Events one key may post at once above that rate (ARGUS_INGEST_EVENTS_BURST); "
        "a batch larger than this is refused with 422.",
    )

    @model_validator(mode="after")
    def _analytics_budget(self) -> Self:
        if self.analytics_queries_total < self.analytics_queries_per_principal:
            raise ValueError(
                "analytics_queries_total must be at least analytics_queries_per_principal"
            )
        return self
