"""``Settings``: every group of settings in one strict, frozen model read from ``ARGUS_*``."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from argus.config.alerting import AlertingSettings
from argus.config.ingest import IngestSettings
from argus.config.learning import LearningSettings
from argus.config.mqtt import MqttSettings
from argus.config.nodes import NodeSettings
from argus.config.notify import NotifySettings
from argus.config.placeholders import is_placeholder
from argus.config.recording import RecordingSettings
from argus.config.retention import RetentionSettings
from argus.config.runtime import RuntimeSettings
from argus.config.security import SecuritySettings
from argus.config.sources import SourceSettings, check_networks
from argus.config.workstation import WorkstationSettings

__all__ = ["Settings"]


# pydantic lists inherited fields in reverse MRO order: the bases are named last group first
# so that the fields keep their documented order (runtime, sources, security, alerting,
# workstation, nodes, then the ones below).
class Settings(
    RecordingSettings,
    LearningSettings,
    RetentionSettings,
    MqttSettings,
    NotifySettings,
    IngestSettings,
    NodeSettings,
    WorkstationSettings,
    AlertingSettings,
    SecuritySettings,
    SourceSettings,
    RuntimeSettings,
):
    """Argus settings, read from ``ARGUS_*`` environment variables.

    Nothing reads these at import time: ``Settings()`` is built once by the
    entry point and handed to ``bootstrap``.
    """

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

    trusted_proxies: str = Field(
        default="",
        max_length=4096,
        pattern=r"^[0-9A-Fa-f.:/, ]*$",
        description="Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto headers are "
        "believed (ARGUS_TRUSTED_PROXIES): comma-separated addresses or networks such as "
        "127.0.0.1,10.0.0.0/8. Empty (the default): no proxy is trusted and the client "
        "address is the TCP peer's.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token of the Prometheus scraper (ARGUS_METRICS_TOKEN, at least 16 "
        "characters): /metrics also accepts it besides an admin's token. Unset: only admins "
        "may read /metrics.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        return check_networks(value)

    @field_validator("metrics_token")
    @classmethod
    def _long_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("metrics_token must have at least 16 characters")
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        """``trusted_proxies`` as a list of addresses or networks (empty: trust none)."""
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Self:
        if self.dev_mode:
            return self
        for name in ("secret_key", "admin_password", "evidence_master_keys", "metrics_token"):
            value: SecretStr | None = getattr(self, name)
            if value is not None and is_placeholder(value.get_secret_value()):
                raise ValueError(
                    f"{name} is a placeholder value; set a real secret "
                    "(or ARGUS_DEV_MODE=1 on a development machine)"
                )
        return self
