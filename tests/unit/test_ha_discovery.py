"""Home Assistant discovery payloads against a schema written from HA's documented options.

``tests/fixtures/ha_mqtt_discovery.schema.json`` holds the sensor and
binary_sensor options of the MQTT integration's documentation (its description
lists the pages). Every payload Argus announces must validate against its
platform's definition, and the schema must refuse what Home Assistant refuses,
so a typo in an option name or an unknown state class fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from argus.domain.errors import ValidationError
from argus.domain.notify.ha_discovery import DiscoveryConfig, camera_entities, node_entities
from argus.domain.notify.mqtt_topics import BrokerEndpoint, MqttTopics, slug

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "ha_mqtt_discovery.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
OBJECT_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
TOPICS = MqttTopics("argus")


def _validator(component: str) -> Draft202012Validator:
    schema = {**SCHEMA, "$ref": f"#/$defs/{component}"}
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _errors(component: str, payload: dict[str, Any]) -> list[str]:
    return [error.message for error in _validator(component).iter_errors(payload)]


def _entities() -> list[DiscoveryConfig]:
    return [
        *camera_entities(
            TOPICS,
            "01JCAMERA0000000000000000",
            "Front gate",
            lines=["kerb", "Kerb line", "a/b+c#"],
            zones=["street", "Zone 2"],
            sw_version="0.1.0",
        ),
        *node_entities(TOPICS, "edge-1", sw_version="0.1.0"),
    ]


ENTITIES = _entities()


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda e: e.object_id)
def test_every_payload_validates_against_its_platform(entity: DiscoveryConfig) -> None:
    assert _errors(entity.component, dict(entity.payload)) == []


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda e: e.object_id)
def test_topic_follows_the_discovery_format(entity: DiscoveryConfig) -> None:
    prefix, component, object_id, config = entity.topic("homeassistant").split("/")
    assert (prefix, component, config) == ("homeassistant", entity.component, "config")
    assert OBJECT_ID.fullmatch(object_id)
    assert object_id == entity.payload["unique_id"]
    assert "object_id" not in entity.payload  # deprecated: default_entity_id instead


def test_ids_and_state_topics_are_unique() -> None:
    unique_ids = [e.payload["unique_id"] for e in ENTITIES]
    assert len(set(unique_ids)) == len(unique_ids)
    states = [e.payload["state_topic"] for e in ENTITIES if e.object_id.endswith(("_in", "_out"))]
    assert len(set(states)) == len(states)


def test_what_each_camera_announces() -> None:
    by_id = {e.object_id: e.payload for e in ENTITIES}
    camera = "argus_01JCAMERA0000000000000000"
    assert by_id[f"{camera}_line_kerb_total"]["state_class"] == "total_increasing"
    assert by_id[f"{camera}_line_kerb_in"]["state_topic"] == (
        "argus/01JCAMERA0000000000000000/lines/kerb/in"
    )
    assert by_id[f"{camera}_zone_street_occupancy"]["state_class"] == "measurement"
    alert = by_id[f"{camera}_alert"]
    assert (alert["device_class"], alert["payload_on"], alert["payload_off"]) == (
        "problem",
        "on",
        "off",
    )
    assert alert["json_attributes_topic"] == "argus/01JCAMERA0000000000000000/alert/attributes"
    assert by_id[f"{camera}_online"]["device_class"] == "connectivity"
    assert by_id["argus_node_edge-1_online"]["state_topic"] == "argus/nodes/edge-1/state"
    device = alert["device"]
    assert isinstance(device, dict)
    assert device["manufacturer"] == "Argus"
    assert device["name"] == "Front gate"
    for payload in by_id.values():
        assert payload["availability_topic"] == "argus/status"
    # 2 binary sensors + 3 lines x 3 counts + 2 zones, and the node's entity
    assert len(ENTITIES) == 2 + 9 + 2 + 1


GOOD: dict[str, dict[str, Any]] = {
    "sensor": {
        "name": "kerb in",
        "unique_id": "argus_x_line_kerb_in",
        "state_topic": "argus/x/lines/kerb/in",
        "state_class": "total_increasing",
        "device": {"identifiers": ["argus_x"], "name": "x"},
    },
    "binary_sensor": {
        "name": "Alert",
        "unique_id": "argus_x_alert",
        "state_topic": "argus/x/alert",
        "payload_on": "on",
        "payload_off": "off",
    },
}
REFUSED: dict[str, tuple[str, dict[str, Any]]] = {
    "no-state-topic": ("sensor", {"state_topic": None}),
    "misspelt-option": ("sensor", {"stat_class": "measurement"}),
    "unknown-state-class": ("sensor", {"state_class": "increasing"}),
    "wildcard-topic": ("sensor", {"state_topic": "argus/+/in"}),
    "device-without-unique-id": ("sensor", {"unique_id": None}),
    "device-without-identifiers": ("sensor", {"device": {"name": "no identifiers"}}),
    "unknown-device-option": ("sensor", {"device": {"identifiers": ["x"], "make": "Argus"}}),
    "two-availability-styles": (
        "sensor",
        {"availability": [{"topic": "a"}], "availability_topic": "argus/status"},
    ),
    "qos-3": ("sensor", {"qos": 3}),
    "binary-option-on-sensor": ("sensor", {"payload_on": "on"}),
    "last-reset-without-total": ("sensor", {"last_reset_value_template": "{{ 0 }}"}),
    "origin-without-name": ("sensor", {"origin": {"sw_version": "1"}}),
    "state-class-on-binary-sensor": ("binary_sensor", {"state_class": "measurement"}),
    "unknown-binary-device-class": ("binary_sensor", {"device_class": "crowd"}),
    "bad-entity-id": ("binary_sensor", {"default_entity_id": "binary_sensor.Bad-Id"}),
}


@pytest.mark.parametrize("component", sorted(GOOD))
def test_the_reference_payloads_pass(component: str) -> None:
    assert _errors(component, GOOD[component]) == []


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_the_schema_refuses_what_home_assistant_refuses(case: str) -> None:
    component, change = REFUSED[case]
    merged = {**GOOD[component], **change}
    payload = {key: value for key, value in merged.items() if value is not None}
    assert _errors(component, payload) != []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("kerb", "kerb"),
        ("edge-1", "edge-1"),
        ("01JCAMERA", "01JCAMERA"),
        ("Kerb line", "Kerb_line_"),
        ("a/b", "a_b_"),
        ("a+b", "a_b_"),
        ("#", "x_"),
    ],
)
def test_slug_keeps_safe_names_and_marks_changed_ones(name: str, expected: str) -> None:
    assert slug(name).startswith(expected)
    assert OBJECT_ID.fullmatch(slug(name))


def test_slugs_of_different_names_differ() -> None:
    names = ["a/b", "a+b", "A B", "a_b", "a b", "A_B"]
    assert len({slug(n) for n in names}) == len(names)
    with pytest.raises(ValidationError):
        slug("")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1", BrokerEndpoint("127.0.0.1", 1883, False)),
        ("mqtts://broker.example", BrokerEndpoint("broker.example", 8883, True)),
        ("mqtt://u:p%40ss@h:1884", BrokerEndpoint("h", 1884, False, "u", "p@ss")),
        ("mqtt://only-user@h/", BrokerEndpoint("h", 1883, False, "only-user", None)),
    ],
)
def test_broker_urls(url: str, expected: BrokerEndpoint) -> None:
    assert BrokerEndpoint.from_url(url) == expected


@pytest.mark.parametrize(
    "url", ["http://h", "mqtt://", "mqtt://h:0", "mqtt://h:99999", "mqtt://h/topic", "h:1883"]
)
def test_bad_broker_urls(url: str) -> None:
    with pytest.raises(ValidationError):
        BrokerEndpoint.from_url(url)


def test_the_password_stays_out_of_repr() -> None:
    assert "secret" not in repr(BrokerEndpoint.from_url("mqtt://u:secret@h"))


@pytest.mark.parametrize("prefix", ["", "a/", "/a", "a/+", "a#", "a b"])
def test_bad_prefixes(prefix: str) -> None:
    with pytest.raises(ValidationError):
        MqttTopics(prefix)
