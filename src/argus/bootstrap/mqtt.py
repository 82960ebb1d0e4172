"""The MQTT state bridge of the control plane, built when ``ARGUS_MQTT_URL`` is set.

The broker connection (``MqttConnection``) and the bridge (``MqttBridge``)
are built here and nowhere else; ``ControlPlane.steps`` starts the bridge
after the alerting and the live hub and stops it before them. The counting
day follows the site's time zone at start (``ARGUS_SITE_TIMEZONE``, else the
machine's zone).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from argus import __version__
from argus.adapters.notify.mqtt import MqttConnection
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.policies import site_defaults
from argus.config import Settings
from argus.domain.cameras import utc_now
from argus.domain.notify.mqtt_topics import BrokerEndpoint, MqttTopics
from argus.services.mqtt_bridge import MqttBridge

__all__ = ["build_mqtt_bridge"]


def build_mqtt_bridge(
    settings: Settings, adapters: Adapters, clock: Callable[[], datetime] = utc_now
) -> MqttBridge | None:
    """The bridge to ``ARGUS_MQTT_URL``'s broker, or ``None`` when it is not set.

    ``clock`` decides the counting day (the wall clock unless a test injects one).

    Raises:
        ValidationError: The URL or the prefixes are invalid.
    """
    if settings.mqtt_url is None:
        return None
    endpoint = BrokerEndpoint.from_url(settings.mqtt_url.get_secret_value())
    topics = MqttTopics(settings.mqtt_topic_prefix)
    discovery = settings.mqtt_discovery_prefix if settings.mqtt_discovery else None
    link = MqttConnection(
        endpoint,
        status_topic=topics.status,
        listen=(f"{discovery}/status",) if discovery is not None else (),
        # Stable per server: a restarted server takes its crashed session over, so the
        # old connection's will ("offline") comes before the new "online", not after.
        client_id=f"argus-bridge-{adapters.node_id}",
    )
    return MqttBridge(
        adapters.bus,
        adapters.events_subject,
        adapters.database,
        adapters.pipelines.statuses,
        link,
        topics=topics,
        discovery_prefix=discovery,
        sw_version=__version__,
        clock=clock,
        tz=ZoneInfo(site_defaults(settings).timezone),
        rescan_s=settings.mqtt_rescan_s,
    )
