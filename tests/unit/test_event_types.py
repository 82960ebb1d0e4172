"""The event type catalogue: complete for what is emitted, consistent, and enforced on rules."""

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
from argus.domain.event_types import (
    EVENT_TYPES,
    ORIGINS,
    check_event_types,
    clearing_types,
)

PIPELINE_EVENTS = [
    LineCrossed,
    WrongWay,
    ZoneEntered,
    ZoneExited,
    Loitering,
    Crowding,
    Running,
    HeatmapMinute,
]

HEALTH_PAIRS = [
    ("camera.offline", "camera.online"),
    ("camera.fps_low", "camera.fps_recovered"),
    ("camera.tamper", "camera.tamper_cleared"),
    ("node.offline", "node.online"),
    ("node.disk_low", "node.disk_ok"),
    ("node.outbox_backlog", "node.outbox_drained"),
    ("node.clock_skew", "node.clock_ok"),
]


@pytest.mark.parametrize("event", PIPELINE_EVENTS, ids=lambda e: e.type)
def test_every_pipeline_event_is_catalogued(event: type[LineCrossed]) -> None:
    assert EVENT_TYPES[event.type].origin == "pipeline"


@pytest.mark.parametrize(("raised", "cleared_by"), HEALTH_PAIRS, ids=[p[0] for p in HEALTH_PAIRS])
def test_health_events_and_what_clears_them(raised: str, cleared_by: str) -> None:
    assert EVENT_TYPES[raised].clears is None
    assert EVENT_TYPES[cleared_by].clears == raised
    assert clearing_types(raised) == (cleared_by,)


def test_the_catalogue_is_consistent() -> None:
    for name, kind in EVENT_TYPES.items():
        assert kind.name == name
        assert kind.origin in ORIGINS
        assert kind.description
        assert kind.clears is None or kind.clears in EVENT_TYPES
        assert kind.to_dict()["name"] == name
    assert clearing_types("line.crossed") == ()


def test_check_event_types_names_the_unknown_ones() -> None:
    assert check_event_types(["camera.offline", "line.crossed"]) == (
        "camera.offline",
        "line.crossed",
    )
    assert check_event_types([]) == ()
    with pytest.raises(ValidationError) as caught:
        check_event_types(["line.crossed", "camera.exploded", "zone.bogus"])
    message = str(caught.value)
    assert "camera.exploded" in message
    assert "zone.bogus" in message
    assert "camera.offline" in message
