"""Questions in words split into filters: a table of queries, one clock and zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from argus.domain.event_text import day_part, describe_alert, describe_event, describe_incident
from argus.domain.search_query import SearchVocabulary, parse_query

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 7 December 2026, 09:30 UTC = 10:30 in Berlin.
NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
VOCAB = SearchVocabulary(
    cameras={"north gate": "cam-n", "street demo": "demo", "demo": "demo"},
    zones=frozenset({"square", "street", "loading bay"}),
    lines=frozenset({"kerb", "middle"}),
    line_labels={"eastbound": ("kerb", "in"), "westbound": ("kerb", "out")},
)


def _at(day: int, hour: int) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=BERLIN)


CASES: list[tuple[str, dict[str, object], str]] = [
    (
        "person loitering at the north gate last night",
        {
            "since": _at(6, 18),
            "until": _at(7, 6),
            "camera_ids": ("cam-n",),
            "classes": ("person",),
            "types": ("zone.loitering",),
        },
        "",
    ),
    (
        "cars crossing the kerb line on Sunday",
        {
            "since": _at(6, 0),
            "until": _at(7, 0),
            "lines": ("kerb",),
            "classes": ("car",),
            "types": ("line.crossed",),
        },
        "",
    ),
    ("people this morning", {"since": _at(7, 6), "until": _at(7, 12)}, ""),
    ("yesterday", {"since": _at(6, 0), "until": _at(7, 0)}, ""),
    ("today", {"since": _at(7, 0), "until": _at(8, 0)}, ""),
    ("saturday afternoon", {"since": _at(5, 12), "until": _at(5, 18)}, ""),
    ("monday", {"since": _at(7, 0), "until": _at(8, 0)}, ""),
    ("last week", {"since": NOW - timedelta(days=7), "until": NOW}, ""),
    ("past 3 hours", {"since": NOW - timedelta(hours=3), "until": NOW}, ""),
    ("last two days", {"since": NOW - timedelta(days=2), "until": NOW}, ""),
    ("2026-12-01", {"since": _at(1, 0), "until": _at(2, 0)}, ""),
    ("at night", {"hours": (22, 6)}, ""),
    ("in the evening", {"hours": (18, 22)}, ""),
    ("after 22:00", {"hours": (22, 24)}, ""),
    ("before 8am", {"hours": (0, 8)}, ""),
    ("between 2pm and 4pm", {"hours": (14, 16)}, ""),
    ("at 3pm", {"hours": (15, 16)}, ""),
    (
        "red van eastbound",
        {"classes": ("truck",), "lines": ("kerb",), "directions": ("in",)},
        "red",
    ),
    ("vehicles outbound", {"directions": ("out",)}, ""),
    ("someone in the loading bay", {"zones": ("loading bay",), "classes": ("person",)}, ""),
    ("wrong way cyclists", {"types": ("line.wrong_way",), "classes": ("bicycle",)}, ""),
    ("dismissed alerts at demo", {"kinds": ("alert",), "camera_ids": ("demo",)}, "dismissed"),
    ("incidents with a blue jacket", {"kinds": ("incident",)}, "blue jacket"),
    ("group running", {"types": ("behaviour.running",)}, "group"),
    ("nothing known here", {}, "nothing known here"),
]


@pytest.mark.parametrize(("query", "expected", "text"), CASES, ids=[c[0] for c in CASES])
def test_parse_query(query: str, expected: dict[str, object], text: str) -> None:
    parsed = parse_query(query, VOCAB, now=NOW, tz=BERLIN)
    for name, value in expected.items():
        assert getattr(parsed.filters, name) == value, name
    assert parsed.text == text
    if expected:
        assert parsed.understood


def test_vehicle_means_every_road_class() -> None:
    parsed = parse_query("vehicles", VOCAB, now=NOW, tz=BERLIN)
    assert set(parsed.filters.classes) == {"car", "truck", "bus", "motorcycle", "bicycle"}


def test_understood_names_the_words() -> None:
    parsed = parse_query("person at the north gate last night", VOCAB, now=NOW, tz=BERLIN)
    assert [(u.field, u.words) for u in parsed.understood] == [
        ("class", "person"),
        ("camera", "north gate"),
        ("time", "last night"),
    ]


def test_the_clock_decides_relative_days() -> None:
    later = parse_query("yesterday", VOCAB, now=NOW + timedelta(days=3), tz=BERLIN)
    assert later.filters.since == _at(9, 0)


DESCRIBE: list[tuple[str, dict[str, object], int, str]] = [
    (
        "line.crossed",
        {"line": "kerb", "class_name": "car", "direction": "in"},
        19,
        "car crossing line kerb eastbound at camera Street demo in the evening",
    ),
    (
        "line.crossed",
        {"line": "middle", "class_name": "person", "direction": "out"},
        3,
        "person crossing line middle going out at camera Street demo at night",
    ),
    (
        "zone.exited",
        {"zone": "street", "class_name": "person", "dwell_seconds": 42.0},
        8,
        "person leaving zone street for under a minute at camera Street demo in the morning",
    ),
    (
        "zone.loitering",
        {"zone": "square", "class_name": "person", "dwell_seconds": 16.0, "colour": "red"},
        13,
        "red person loitering in zone square for a long time at camera Street demo"
        " in the afternoon",
    ),
    (
        "camera.offline",
        {},
        23,
        "object camera offline at camera Street demo at night",
    ),
]


@pytest.mark.parametrize(
    ("event_type", "payload", "hour", "expected"), DESCRIBE, ids=[d[3][:40] for d in DESCRIBE]
)
def test_describe_event(
    event_type: str, payload: dict[str, object], hour: int, expected: str
) -> None:
    labels = {("kerb", "in"): "eastbound"}
    text = describe_event(
        event_type, payload, camera="Street demo", local_hour=hour, direction_labels=labels
    )
    assert text == expected


@pytest.mark.parametrize(
    ("hour", "part"),
    [
        (0, "at night"),
        (6, "in the morning"),
        (12, "in the afternoon"),
        (18, "in the evening"),
        (22, "at night"),
    ],
)
def test_day_part(hour: int, part: str) -> None:
    assert day_part(hour) == part


def test_alert_and_incident_descriptions() -> None:
    assert describe_alert("Loiter", "person loitering", state="false_positive") == (
        "alert Loiter dismissed as false alarm: person loitering"
    )
    assert describe_incident("Break-in", "window smashed", camera="Yard") == (
        "incident Break-in: window smashed at camera Yard"
    )
