"""Domain events, the envelope and event ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from argus.domain.errors import ValidationError
from argus.domain.events import (
    Crowding,
    DomainEvent,
    Envelope,
    EventSource,
    HeatmapMinute,
    LineCrossed,
    Loitering,
    Running,
    WrongWay,
    ZoneEntered,
    ZoneExited,
    event_id_time,
    new_event_id,
)

SOURCE = EventSource(edge_node_id="edge-1", camera_id="cam-door")
WHEN = datetime(2026, 11, 28, 12, 30, 15, 250000, tzinfo=UTC)

EVENTS: list[tuple[DomainEvent, str]] = [
    (LineCrossed("gate", 3, 0, "person", "in", 12.3456, confidence=0.91234), "line.crossed"),
    (WrongWay("gate", 3, 0, "person", "out", "in", 12.5, confidence=0.5), "line.wrong_way"),
    (ZoneEntered("till", 4, 2, "car", 1.0, confidence=0.75), "zone.entered"),
    (ZoneExited("till", 4, 2, "car", 9.0, 8.0, "lost", confidence=0.6), "zone.exited"),
    (Loitering("till", 4, 2, "car", 31.0, 30.0, 30.0, confidence=0.8), "zone.loitering"),
    (Crowding("queue", 5.5, 7, 6), "zone.crowding"),
    (Running(9, 0, "person", 3.25, 3.1234, "m/s", 2.5, confidence=0.4444), "behaviour.running"),
]


@pytest.mark.parametrize(("event", "kind"), EVENTS, ids=[k for _, k in EVENTS])
def test_events_have_a_type_and_a_json_payload(event: DomainEvent, kind: str) -> None:
    assert event.type == kind
    payload = event.payload()
    assert json.loads(json.dumps(payload)) == payload
    assert payload["timestamp"] == round(event.timestamp, 3)


# The payloads readers depend on, key by key and in order (floats rounded to 3 places).
PAYLOADS: list[tuple[DomainEvent, dict[str, object]]] = [
    (
        EVENTS[0][0],
        {
            "line": "gate",
            "track_id": 3,
            "class_id": 0,
            "class_name": "person",
            "direction": "in",
            "timestamp": 12.346,
            "confidence": 0.912,
        },
    ),
    (
        EVENTS[1][0],
        {
            "line": "gate",
            "track_id": 3,
            "class_id": 0,
            "class_name": "person",
            "direction": "out",
            "expected_direction": "in",
            "timestamp": 12.5,
            "confidence": 0.5,
        },
    ),
    (
        EVENTS[2][0],
        {
            "zone": "till",
            "track_id": 4,
            "class_id": 2,
            "class_name": "car",
            "timestamp": 1.0,
            "confidence": 0.75,
        },
    ),
    (
        EVENTS[3][0],
        {
            "zone": "till",
            "track_id": 4,
            "class_id": 2,
            "class_name": "car",
            "timestamp": 9.0,
            "dwell_seconds": 8.0,
            "reason": "lost",
            "confidence": 0.6,
        },
    ),
    (
        EVENTS[4][0],
        {
            "zone": "till",
            "track_id": 4,
            "class_id": 2,
            "class_name": "car",
            "timestamp": 31.0,
            "dwell_seconds": 30.0,
            "threshold_seconds": 30.0,
            "confidence": 0.8,
        },
    ),
    (EVENTS[5][0], {"zone": "queue", "timestamp": 5.5, "occupancy": 7, "threshold": 6}),
    (
        EVENTS[6][0],
        {
            "track_id": 9,
            "class_id": 0,
            "class_name": "person",
            "timestamp": 3.25,
            "speed": 3.123,
            "unit": "m/s",
            "threshold": 2.5,
            "confidence": 0.444,
        },
    ),
]


@pytest.mark.parametrize(("event", "expected"), PAYLOADS, ids=[k for _, k in EVENTS])
def test_payloads_keep_their_keys_order_and_rounding(
    event: DomainEvent, expected: dict[str, object]
) -> None:
    payload = event.payload()
    assert payload == expected
    assert list(payload) == list(expected)


def test_a_float_field_given_an_int_is_still_a_float() -> None:
    payload = Running(1, 0, "person", 2, 3, "px/s", 4, confidence=1).payload()
    assert [type(payload[k]) for k in ("timestamp", "speed", "threshold", "confidence")] == [
        float
    ] * 4


def test_heatmap_minute_payload_is_sparse_json_and_wraps() -> None:
    event = HeatmapMinute(64, 36, 1280, 720, 480, ((0, 3), (2303, 1)))
    assert event.type == "heatmap.minute"
    expected = {
        "grid_width": 64,
        "grid_height": 36,
        "frame_width": 1280,
        "frame_height": 720,
        "frames": 480,
        "cells": [[0, 3], [2303, 1]],
    }
    assert event.payload() == expected
    envelope = Envelope.wrap(event, SOURCE, WHEN)
    assert Envelope.from_dict(json.loads(json.dumps(envelope.to_dict()))) == envelope


@pytest.mark.parametrize(("event", "kind"), EVENTS, ids=[k for _, k in EVENTS])
def test_envelope_roundtrip(event: DomainEvent, kind: str) -> None:
    envelope = Envelope.wrap(event, SOURCE, WHEN)
    assert envelope.type == kind
    data = json.loads(json.dumps(envelope.to_dict()))
    assert data["timestamp"] == "2026-11-28T12:30:15.250000Z"
    assert data["source"] == {"edge_node_id": "edge-1", "camera_id": "cam-door"}
    back = Envelope.from_dict(data)
    assert back == envelope
    assert back.to_dict() == envelope.to_dict()


def test_envelope_normalises_the_timestamp_to_utc() -> None:
    local = WHEN.astimezone(timezone(timedelta(hours=2)))
    envelope = Envelope(new_event_id(WHEN), "zone.entered", local, SOURCE, {"a": 1})
    assert envelope.timestamp.tzinfo == UTC
    assert envelope.timestamp == WHEN
    with pytest.raises(TypeError):
        envelope.payload["a"] = 2  # type: ignore[index]


def _valid() -> dict[str, Any]:
    return Envelope.wrap(EVENTS[0][0], SOURCE, WHEN).to_dict()


def _with(**changes: Any) -> dict[str, Any]:
    data = _valid()
    data.update(changes)
    return data


def _without(key: str) -> dict[str, Any]:
    data = _valid()
    del data[key]
    return data


@pytest.mark.parametrize(
    "data",
    [
        "not a mapping",
        _without("event_id"),
        _with(extra=1),
        _with(event_id="short"),
        _with(event_id="01arz3ndektsv4rrffq69g5fav"),  # lower case is not canonical
        _with(event_id="81ARZ3NDEKTSV4RRFFQ69G5FAV"),  # overflows 128 bits
        _with(type=""),
        _with(type=3),
        _with(timestamp="yesterday"),
        _with(timestamp="2026-11-28T12:30:15"),  # naive
        _with(timestamp=1700000000),
        _with(source={"edge_node_id": "e"}),
        _with(source={"edge_node_id": "e", "camera_id": ""}),
        _with(source={"edge_node_id": "e", "camera_id": "c", "x": 1}),
        _with(payload=[1, 2]),
        _with(payload={"x": float("nan")}),
        _with(payload={"x": object()}),
        _with(payload={1: "x"}),
    ],
    ids=[
        "not-mapping",
        "missing-key",
        "extra-key",
        "short-id",
        "lowercase-id",
        "overflow-id",
        "empty-type",
        "int-type",
        "bad-timestamp",
        "naive-timestamp",
        "numeric-timestamp",
        "source-missing",
        "source-empty",
        "source-extra",
        "payload-list",
        "payload-nan",
        "payload-object",
        "payload-int-key",
    ],
)
def test_from_dict_is_strict(data: Any) -> None:
    with pytest.raises(ValidationError):
        Envelope.from_dict(data)


def test_ids_are_unique_and_sort_by_time() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [new_event_id(start + timedelta(microseconds=137 * i)) for i in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(len(i) == 26 for i in ids)


def test_ids_of_the_same_millisecond_are_monotonic() -> None:
    ids = [new_event_id(WHEN) for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert {event_id_time(i) for i in ids} == {WHEN.replace(microsecond=250000)}


def test_ids_without_a_time_use_now() -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    stamp = event_id_time(new_event_id())
    assert before <= stamp <= datetime.now(UTC)
    assert event_id_time(new_event_id(WHEN)) == WHEN


@pytest.mark.parametrize(
    "when",
    [datetime(2026, 1, 1), datetime(1969, 12, 31, tzinfo=UTC)],
    ids=["naive", "before-epoch"],
)
def test_ids_reject_bad_times(when: datetime) -> None:
    with pytest.raises(ValidationError):
        new_event_id(when)
