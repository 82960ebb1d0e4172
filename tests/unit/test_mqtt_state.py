"""MqttState: what the retained MQTT state topics say after events, alerts and statuses."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.notify.mqtt_state import MqttState, Publish
from argus.domain.notify.mqtt_topics import MqttTopics

TOPICS = MqttTopics("argus")
BERLIN = ZoneInfo("Europe/Berlin")
NOON = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)


def _event(
    kind: str, at: datetime = NOON, camera: str = "cam1", node: str = "edge-1", **payload: object
) -> Envelope:
    return Envelope(new_event_id(at), kind, at, EventSource(node, camera), payload)


def _crossing(direction: str, at: datetime = NOON, line: str = "kerb") -> Envelope:
    return _event("line.crossed", at, line=line, direction=direction, track_id=1)


def _values(messages: list[Publish]) -> dict[str, str]:
    return {m.topic: m.payload.decode() for m in messages}


def _state() -> MqttState:
    return MqttState(TOPICS, BERLIN, date(2026, 12, 6))


def test_crossings_count_per_direction_and_total() -> None:
    state = _state()
    state.on_event(_crossing("in"))
    state.on_event(_crossing("in"))
    out = _values(state.on_event(_crossing("out")))
    assert out == {"argus/cam1/lines/kerb/out": "1", "argus/cam1/lines/kerb/total": "3"}
    assert state.retained["argus/cam1/lines/kerb/in"] == b"2"


def test_a_replayed_event_counts_once() -> None:
    state = _state()
    crossing = _crossing("in")
    assert state.on_event(crossing)
    assert state.on_event(crossing) == []
    assert state.retained["argus/cam1/lines/kerb/total"] == b"1"


def test_counts_restart_at_local_midnight() -> None:
    state = _state()
    state.seed_counts({("cam1", "kerb", "in"): 7})
    before_midnight = datetime(2026, 12, 6, 22, 59, tzinfo=UTC)  # 23:59 in Berlin
    assert state.roll(before_midnight) == []
    after = datetime(2026, 12, 6, 23, 1, tzinfo=UTC)  # 00:01 on the 7th in Berlin
    assert _values(state.roll(after))["argus/cam1/lines/kerb/total"] == "0"
    # a late crossing of the 6th is not today's
    state.on_event(_crossing("in", at=before_midnight))
    assert state.retained["argus/cam1/lines/kerb/in"] == b"0"
    state.on_event(_crossing("in", at=after + timedelta(minutes=1)))
    assert state.retained["argus/cam1/lines/kerb/in"] == b"1"


def test_occupancy_follows_tracks_in_and_out() -> None:
    state = _state()
    for track in (1, 2, 2):
        state.on_event(_event("zone.entered", zone="street", track_id=track))
    assert state.retained["argus/cam1/zones/street/occupancy"] == b"2"
    state.on_event(_event("zone.exited", zone="street", track_id=1, reason="lost"))
    assert state.retained["argus/cam1/zones/street/occupancy"] == b"1"
    # a stopped camera empties its zones (its track ids start again)
    out = _values(state.on_camera_state("cam1", "offline"))
    assert out == {"argus/cam1/status": "offline", "argus/cam1/zones/street/occupancy": "0"}
    assert state.on_camera_state("cam1", "offline") == []


def test_alert_state_follows_open_alerts() -> None:
    state = _state()
    state.declare("cam1", ["kerb"], ["street"])
    assert state.retained["argus/cam1/alert"] == b"off"
    first = {"id": "a1", "camera_id": "cam1", "state": "new", "severity": "low",
             "created_at": "2026-12-06T11:00:00Z", "rule_name": "r"}  # fmt: skip
    second = {**first, "id": "a2", "severity": "high", "created_at": "2026-12-06T11:05:00Z"}
    out = state.on_alert("alert.created", first)
    assert ("argus/alerts", False) in {(m.topic, m.retain) for m in out}
    state.on_alert("alert.created", second)
    attributes = json.loads(state.retained["argus/cam1/alert/attributes"])
    assert (attributes["id"], attributes["open_alerts"]) == ("a2", 2)
    state.on_alert("alert.updated", {**second, "state": "acknowledged"})
    assert state.retained["argus/cam1/alert"] == b"on"
    assert json.loads(state.retained["argus/cam1/alert/attributes"])["id"] == "a1"
    state.on_alert("alert.updated", {**first, "state": "false_positive"})
    assert state.retained["argus/cam1/alert"] == b"off"
    assert json.loads(state.retained["argus/cam1/alert/attributes"]) == {"open_alerts": 0}


def test_camera_and_node_state_from_health_events() -> None:
    state = _state()
    state.on_event(_event("camera.offline", camera="cam2"))
    state.on_event(_event("node.offline", camera="node:edge-1"))
    assert state.retained["argus/cam2/status"] == b"offline"
    assert state.retained["argus/nodes/edge-1/state"] == b"offline"
    state.on_event(_event("node.online", camera="node:edge-1"))
    assert state.retained["argus/nodes/edge-1/state"] == b"online"


def test_a_deleted_camera_clears_its_topics() -> None:
    state = _state()
    state.declare("cam1", ["kerb"], ["street"])
    state.declare("cam2", ["gate"])
    cleared = state.forget_camera("cam1")
    assert cleared
    assert all(m.payload == b"" and m.retain for m in cleared)
    assert all(m.topic.startswith("argus/cam1/") for m in cleared)
    assert not any(topic.startswith("argus/cam1/") for topic in state.retained)
    assert "argus/cam2/lines/gate/total" in state.retained
    assert {m.topic for m in state.everything()} == set(state.retained)


def test_only_changes_are_published() -> None:
    state = _state()
    assert len(state.declare("cam1", ["kerb"])) == 3 + 2  # three counts, alert and attributes
    assert state.declare("cam1", ["kerb"]) == []
