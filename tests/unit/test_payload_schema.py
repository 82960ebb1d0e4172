"""The catalogue's payload schemas: what the pipelines write passes, what breaks them fails."""

from __future__ import annotations

import pytest

from argus.domain.errors import ValidationError
from argus.domain.event_payloads import (
    Crowding,
    HeatmapMinute,
    LineCrossed,
    Loitering,
    Running,
    WrongWay,
    ZoneEntered,
    ZoneExited,
)
from argus.domain.event_types import EVENT_TYPES, check_event
from argus.domain.payload_schema import payload_size

SAMPLES = [
    LineCrossed("door", 7, 0, "person", "in", 1.5, confidence=0.9),
    WrongWay("door", 7, 0, "person", "out", "in", 1.5, confidence=0.9),
    ZoneEntered("yard", 7, 0, "person", 1.5, confidence=0.9),
    ZoneExited("yard", 7, 0, "person", 9.0, 7.5, "lost", confidence=0.9),
    Loitering("yard", 7, 0, "person", 30.0, 30.0, 30.0, confidence=0.9),
    Crowding("yard", 3.0, 12, 10),
    Running(7, 0, "person", 2.0, 3.1, "m/s", 2.5, confidence=0.8),
    HeatmapMinute(4, 3, 640, 480, 60, ((0, 3), (11, 1))),
]


@pytest.mark.parametrize("event", SAMPLES, ids=[type(e).__name__ for e in SAMPLES])
def test_what_the_pipelines_write_passes_its_schema(event: object) -> None:
    payload = event.payload()  # type: ignore[attr-defined]
    check_event(event.type, payload, max_bytes=16384)  # type: ignore[attr-defined]


def test_every_camera_and_pipeline_type_has_a_schema() -> None:
    unchecked = sorted(t.name for t in EVENT_TYPES.values() if t.payload is None)
    assert all(EVENT_TYPES[name].origin == "health" for name in unchecked)


def test_a_tamper_payload_is_checked() -> None:
    good = {"kind": "covered", "score": 0.8, "state": "raised"}
    check_event("camera.tamper", good, max_bytes=1024)
    with pytest.raises(ValidationError, match=r"payload.kind must be one of"):
        check_event("camera.tamper", {**good, "kind": "painted"}, max_bytes=1024)


@pytest.mark.parametrize(
    ("type_name", "payload", "message"),
    [
        (
            "zone.exited",
            {**ZoneExited("z", 1, 0, "p", 1.0, 1.0, confidence=0.5).payload(), "reason": "x"},
            "one of ['left', 'lost']",
        ),
        ("line.crossed", {**SAMPLES[0].payload(), "timestamp": float("inf")}, "finite"),
        ("line.crossed", {**SAMPLES[0].payload(), "class_name": "p" * 201}, "longer than 200"),
        ("heatmap.minute", {**SAMPLES[7].payload(), "cells": [[1, 2, 3]]}, "pair"),
        ("custom.", {}, "unknown event type 'custom.'"),
        ("node.offline", {}, None),
    ],
    ids=["bad-reason", "infinite", "long-text", "bad-cell", "empty-custom", "health-unchecked"],
)
def test_bad_payloads_name_the_field(
    type_name: str, payload: dict[str, object], message: str | None
) -> None:
    if message is None:
        check_event(type_name, payload, max_bytes=1024)
        return
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_event(type_name, payload, max_bytes=1024)


def test_an_optional_field_may_be_left_out() -> None:
    payload = ZoneExited("z", 1, 0, "p", 1.0, 1.0, confidence=0.5).payload()
    del payload["reason"]
    check_event("zone.exited", payload, max_bytes=1024)


def test_the_size_limit_counts_utf8_bytes_of_compact_json() -> None:
    payload = {"note": "é" * 100}
    assert payload_size(payload) == len('{"note":""}') + 200
    check_event("custom.note", payload, max_bytes=211)
    with pytest.raises(ValidationError, match="212 bytes of JSON, over the limit of 211"):
        check_event("custom.note", {"note": "é" * 100 + "x"}, max_bytes=211)
