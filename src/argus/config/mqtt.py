"""Settings of the MQTT state bridge and its Home Assistant discovery (off without a broker URL)."""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["MqttSettings"]

_PREFIX = r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$"


class MqttSettings(BaseSettings):
    """Where the bridge publishes counts, occupancy, alert and camera state, and under which names.

    The bridge runs only when ``ARGUS_MQTT_URL`` is set. Alerts sent to MQTT
    through notification routes use their own channels (``/api/v1/channels``),
    not these settings.
    """

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

    mqtt_url: SecretStr | None = Field(
        default=None,
        description="Broker of the state bridge (ARGUS_MQTT_URL): mqtt://[user:password@]host"
        "[:port] (1883) or mqtts://... (TLS, 8883). Unset (the default): no bridge.",
    )
    mqtt_topic_prefix: str = Field(
        default="argus",
        max_length=100,
        pattern=_PREFIX,
        description="First level(s) of every state topic (ARGUS_MQTT_TOPIC_PREFIX): "
        "<prefix>/status, <prefix>/<camera>/lines/<line>/in ...",
    )
    mqtt_discovery: bool = Field(
        default=True,
        description="Announce cameras, lines, zones and edge nodes to Home Assistant by MQTT "
        "discovery (ARGUS_MQTT_DISCOVERY).",
    )
    mqtt_discovery_prefix: str = Field(
        default="homeassistant",
        max_length=100,
        pattern=_PREFIX,
        description="Home Assistant's discovery prefix (ARGUS_MQTT_DISCOVERY_PREFIX); its "
        "<prefix>/status birth message makes the bridge announce everything again.",
    )
    mqtt_rescan_s: float = Field(
        default=60.0,
        ge=1,
        le=86_400,
        description="Seconds between two reads of the cameras, lines, zones and nodes, which "
        "announces new ones and removes deleted ones from Home Assistant.",
    )

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.match(r"^mqtts?://[^/]", value.get_secret_value()):
            raise ValueError("mqtt_url must be mqtt://host[:port] or mqtts://host[:port]")
        return value
