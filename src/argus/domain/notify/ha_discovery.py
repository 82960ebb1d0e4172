"""Home Assistant MQTT discovery: the retained config messages that make Argus entities appear.

Home Assistant subscribes to ``<discovery_prefix>/<component>/<object_id>/config``
and turns each JSON payload into an entity, grouped into devices by the
payload's ``device`` (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery).
Argus announces, per camera (one device each):

* ``sensor`` per line and direction (``in``, ``out``, ``total``): today's
  crossings, ``state_class: total_increasing`` (the midnight reset is read by
  Home Assistant as a new meter cycle);
* ``sensor`` per zone: its occupancy now, ``state_class: measurement``;
* ``binary_sensor`` ``alert`` (``device_class: problem``): on while the camera
  has an open alert, the latest one's fields as attributes;
* ``binary_sensor`` ``online`` (``device_class: connectivity``): the pipeline's state;

and per edge node (a device each) a connectivity ``binary_sensor``. Every
entity is unavailable while the bridge is (``availability_topic`` is the
bridge's ``argus/status``, whose last will says ``offline``).

The ``object_id`` level of the topic is the entity's ``unique_id``, as the
discovery documentation advises; the entity id is proposed with
``default_entity_id`` (``object_id`` in the payload is deprecated since Home
Assistant 2025.10 and ignored since 2026.4). An empty retained payload on the
same topic removes the entity. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from argus.domain.notify.mqtt_topics import LineCount, MqttTopics, check_prefix, slug

__all__ = [
    "Component",
    "DiscoveryConfig",
    "camera_device",
    "camera_entities",
    "node_device",
    "node_entities",
]

Component = Literal["sensor", "binary_sensor"]
"""The Home Assistant MQTT platforms Argus announces."""

MANUFACTURER = "Argus"
_COUNTS: tuple[LineCount, ...] = ("in", "out", "total")


@dataclass(frozen=True, slots=True)
class DiscoveryConfig:
    """One entity's discovery message.

    Attributes:
        component: The Home Assistant platform.
        object_id: The entity's ``unique_id``, also the topic's object id level.
        payload: The JSON-ready config (read-only).
    """

    component: Component
    object_id: str
    payload: Mapping[str, object]

    def __post_init__(self) -> None:
        object.__setattr__(self, "payload", MappingProxyType(dict(self.payload)))

    def topic(self, discovery_prefix: str = "homeassistant") -> str:
        """``<discovery_prefix>/<component>/<object_id>/config``."""
        check_prefix(discovery_prefix, "discovery prefix")
        return f"{discovery_prefix}/{self.component}/{self.object_id}/config"


def _entity_id(component: Component, object_id: str) -> str:
    """An entity id proposal: Home Assistant's ids take ``[a-z0-9_]`` only."""
    return f"{component}.{object_id.lower().replace('-', '_')}"


def camera_device(camera_id: str, name: str, *, sw_version: str) -> dict[str, object]:
    """The ``device`` block of a camera's entities."""
    return {
        "identifiers": [f"argus_{slug(camera_id)}"],
        "name": name or camera_id,
        "manufacturer": MANUFACTURER,
        "model": "Camera",
        "sw_version": sw_version,
    }


def node_device(node_id: str, *, sw_version: str) -> dict[str, object]:
    """The ``device`` block of an edge node's entities."""
    return {
        "identifiers": [f"argus_node_{slug(node_id)}"],
        "name": f"Argus node {node_id}",
        "manufacturer": MANUFACTURER,
        "model": "Edge node",
        "sw_version": sw_version,
    }


def _entity(
    topics: MqttTopics,
    component: Component,
    object_id: str,
    device: Mapping[str, object],
    sw_version: str,
    **options: object,
) -> DiscoveryConfig:
    payload: dict[str, object] = {
        "unique_id": object_id,
        "default_entity_id": _entity_id(component, object_id),
        "availability_topic": topics.status,
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": dict(device),
        "origin": {"name": MANUFACTURER, "sw_version": sw_version},
        "qos": 1,
        **options,
    }
    return DiscoveryConfig(component, object_id, payload)


def camera_entities(
    topics: MqttTopics,
    camera_id: str,
    camera_name: str,
    *,
    lines: Iterable[str] = (),
    zones: Iterable[str] = (),
    sw_version: str,
) -> list[DiscoveryConfig]:
    """Every entity of one camera: alert and online state, line counts, zone occupancy.

    Args:
        topics: The state topics the entities read.
        camera_id: The camera.
        camera_name: Its name (the device's name in Home Assistant).
        lines: Names of its counting lines.
        zones: Names of its zones.
        sw_version: Argus's version (device and origin).
    """
    device = camera_device(camera_id, camera_name, sw_version=sw_version)
    base = f"argus_{slug(camera_id)}"
    entities = [
        _entity(
            topics,
            "binary_sensor",
            f"{base}_alert",
            device,
            sw_version,
            name="Alert",
            state_topic=topics.alert(camera_id),
            payload_on="on",
            payload_off="off",
            device_class="problem",
            json_attributes_topic=topics.alert_attributes(camera_id),
        ),
        _entity(
            topics,
            "binary_sensor",
            f"{base}_online",
            device,
            sw_version,
            name="Online",
            state_topic=topics.camera_status(camera_id),
            value_template="{{ 'online' if value == 'online' else 'offline' }}",
            payload_on="online",
            payload_off="offline",
            device_class="connectivity",
            entity_category="diagnostic",
        ),
    ]
    for line in sorted(set(lines)):
        entities.extend(
            _entity(
                topics,
                "sensor",
                f"{base}_line_{slug(line)}_{count}",
                device,
                sw_version,
                name=f"{line} {count}",
                state_topic=topics.line(camera_id, line, count),
                state_class="total_increasing",
                unit_of_measurement="objects",
                icon="mdi:counter",
            )
            for count in _COUNTS
        )
    entities.extend(
        _entity(
            topics,
            "sensor",
            f"{base}_zone_{slug(zone)}_occupancy",
            device,
            sw_version,
            name=f"{zone} occupancy",
            state_topic=topics.zone_occupancy(camera_id, zone),
            state_class="measurement",
            unit_of_measurement="objects",
            icon="mdi:account-group",
        )
        for zone in sorted(set(zones))
    )
    return entities


def node_entities(topics: MqttTopics, node_id: str, *, sw_version: str) -> list[DiscoveryConfig]:
    """The connectivity entity of an edge node."""
    device = node_device(node_id, sw_version=sw_version)
    return [
        _entity(
            topics,
            "binary_sensor",
            f"argus_node_{slug(node_id)}_online",
            device,
            sw_version,
            name="Online",
            state_topic=topics.node_state(node_id),
            payload_on="online",
            payload_off="offline",
            device_class="connectivity",
        )
    ]
