"""The words search understands: classes, kinds of event, directions, times.

Tables for ``argus.domain.search_query``; lower case, one word per key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta

__all__ = [
    "CLASS_WORDS",
    "CLOCK",
    "DATE",
    "DIRECTIONS",
    "HOUR_BUCKETS",
    "ITEM_KINDS",
    "KIND_WORDS",
    "NUMBERS",
    "PARTS",
    "STOP_WORDS",
    "UNITS",
    "WEEKDAYS",
    "WORD",
    "WRONG_WAY",
]


def _w(words: str) -> list[str]:
    return words.split()


CLASS_WORDS: Mapping[str, tuple[str, ...]] = {
    **dict.fromkeys(
        _w(
            "person people persons pedestrian pedestrians man men woman women someone "
            "somebody walker walkers human humans visitor visitors intruder intruders"
        ),
        ("person",),
    ),
    **dict.fromkeys(_w("car cars"), ("car",)),
    **dict.fromkeys(
        _w("vehicle vehicles traffic"), ("car", "truck", "bus", "motorcycle", "bicycle")
    ),
    **dict.fromkeys(_w("truck trucks lorry lorries van vans"), ("truck",)),
    **dict.fromkeys(_w("bus buses coach"), ("bus",)),
    **dict.fromkeys(_w("bicycle bicycles bike bikes cyclist cyclists biker bikers"), ("bicycle",)),
    **dict.fromkeys(_w("motorcycle motorcycles motorbike motorbikes scooter"), ("motorcycle",)),
    **dict.fromkeys(_w("dog dogs"), ("dog",)),
    **dict.fromkeys(_w("cat cats"), ("cat",)),
}
"""Class words to the detector classes they stand for."""

KIND_WORDS: Mapping[str, tuple[str, ...]] = {
    **dict.fromkeys(
        _w("crossing crossings crossed cross crosses passing passed"), ("line.crossed",)
    ),
    **dict.fromkeys(
        _w("loitering loiter loitered loiters lingering lingered hanging"), ("zone.loitering",)
    ),
    **dict.fromkeys(
        _w("entering entered enter enters entry entries arriving arrived"), ("zone.entered",)
    ),
    **dict.fromkeys(
        _w("leaving left leave leaves exit exits exited exiting departing"), ("zone.exited",)
    ),
    **dict.fromkeys(_w("dwell dwelling stayed staying stay"), ("zone.exited",)),
    **dict.fromkeys(_w("running ran run runs runner runners"), ("behaviour.running",)),
    **dict.fromkeys(_w("crowd crowds crowding crowded"), ("zone.crowding",)),
}
"""Event-kind words to event types."""

WRONG_WAY = ("line.wrong_way",)
DIRECTIONS: Mapping[str, str] = {
    "inbound": "in",
    "incoming": "in",
    "inward": "in",
    "outbound": "out",
    "outgoing": "out",
    "outward": "out",
}
ITEM_KINDS: Mapping[str, str] = {
    "alert": "alert",
    "alerts": "alert",
    "alarm": "alert",
    "alarms": "alert",
    "incident": "incident",
    "incidents": "incident",
}
STOP_WORDS = frozenset(
    _w(
        "a an the at on in of by near to from for with and or show me find all any some "
        "were was is are that who which what when where there their line lines zone zones "
        "camera cameras event events please list get than over into through around"
    )
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PARTS: Mapping[str, tuple[int, int]] = {
    "night": (18, 30),
    "morning": (6, 12),
    "afternoon": (12, 18),
    "evening": (18, 24),
}
HOUR_BUCKETS: Mapping[str, tuple[int, int]] = {
    "night": (22, 6),
    "morning": (6, 12),
    "afternoon": (12, 18),
    "evening": (18, 22),
}
UNITS: Mapping[str, timedelta] = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(days=7),
}
WORD = re.compile(r"[a-z0-9][a-z0-9:\-]*")
CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?(am|pm)?$")
DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
NUMBERS: Mapping[str, int] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "ten": 10,
    "twelve": 12,
}
