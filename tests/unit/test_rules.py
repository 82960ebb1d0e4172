"""Alert rules: conditions, schedules, count windows and cooldowns."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from argus.domain.errors import ValidationError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.rules import Rule, RuleEngine, Schedule

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday


def rule(**fields: object) -> Rule:
    values: dict[str, object] = {"id": "r1", "name": "rule", "created_at": T0, "updated_at": T0}
    values.update(fields)
    return Rule(**values)  # type: ignore[arg-type]


def event(
    kind: str = "line.crossed",
    at: datetime = T0,
    camera: str = "cam",
    **payload: object,
) -> Envelope:
    body: dict[str, object] = {"track_id": 1, "class_name": "person", "confidence": 0.9}
    body.update(payload)
    return Envelope(new_event_id(at), kind, at, EventSource("edge", camera), body)


def test_conditions_must_all_hold() -> None:
    r = rule(
        camera_id="cam",
        event_types=("line.crossed",),
        classes=("person",),
        line="door",
        direction="in",
        min_confidence=0.5,
    )
    assert r.matches(event(line="door", direction="in"))
    assert not r.matches(event(line="door", direction="out"))
    assert not r.matches(event(line="gate", direction="in"))
    assert not r.matches(event(line="door", direction="in", class_name="car"))
    assert not r.matches(event(line="door", direction="in", camera="other"))
    assert not r.matches(event("zone.entered", line="door", direction="in"))
    assert not r.matches(event(line="door", direction="in", confidence=0.4))


def test_thresholds_need_a_reported_value() -> None:
    r = rule(zone="lobby", min_dwell_seconds=30.0)
    assert r.matches(event("zone.loitering", zone="lobby", dwell_seconds=31.0))
    assert not r.matches(event("zone.loitering", zone="lobby", dwell_seconds=29.0))
    assert not r.matches(event("zone.entered", zone="lobby"))  # no dwell reported
    crowd = rule(zone="lobby", min_occupancy=5)
    assert crowd.matches(event("zone.crowding", zone="lobby", occupancy=5))
    assert not crowd.matches(event("zone.crowding", zone="lobby", occupancy=4))


def test_disabled_rules_never_match() -> None:
    assert not rule(enabled=False).matches(event())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"direction": "in"}, "direction needs a line"),
        ({"line": "a", "zone": "b"}, "line or a zone"),
        ({"count": 3}, "go together"),
        ({"count": 0, "window_seconds": 5.0}, "count must be"),
        ({"weight": 1.5}, "weight"),
        ({"min_confidence": -0.1}, "min_confidence"),
        ({"cooldown_scope": "zone"}, "cooldown_scope"),
        ({"name": ""}, "name"),
        ({"created_at": datetime(2026, 1, 1)}, "timezone-aware"),
    ],
)
def test_invalid_rules_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        rule(**fields)


def test_rule_round_trips_through_its_dict() -> None:
    r = rule(
        camera_id="cam",
        event_types=("zone.loitering",),
        zone="lobby",
        min_dwell_seconds=10.0,
        count=2,
        window_seconds=60.0,
        schedule=Schedule(frozenset({0, 1}), time(22), time(6), "Europe/Berlin"),
        cooldown_seconds=30.0,
        cooldown_scope="camera",
        weight=0.9,
        description="night loitering",
    )
    assert Rule.from_dict(r.to_dict()) == r


def test_schedule_in_a_time_zone_and_past_midnight() -> None:
    night = Schedule(frozenset({0}), time(22), time(6), "Europe/Berlin")  # Monday night
    # 2026-11-23 is a Monday; Berlin is UTC+1 in November.
    assert night.active(datetime(2026, 11, 23, 21, 30, tzinfo=UTC))  # Mon 22:30 local
    assert night.active(datetime(2026, 11, 24, 4, 0, tzinfo=UTC))  # Tue 05:00 local, Monday's night
    assert not night.active(datetime(2026, 11, 24, 5, 30, tzinfo=UTC))  # Tue 06:30 local
    assert not night.active(datetime(2026, 11, 24, 21, 30, tzinfo=UTC))  # Tue 22:30 local
    office = Schedule(frozenset(range(5)), time(9), time(17))
    assert office.active(T0)
    assert not office.active(T0 + timedelta(days=5))  # Saturday
    assert Schedule().active(T0 + timedelta(days=6))


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="not known"):
        Schedule(timezone="Mars/Olympus")


def test_engine_skips_events_outside_the_schedule() -> None:
    engine = RuleEngine([rule(schedule=Schedule(frozenset({0}), time(9), time(10)))])
    assert engine.evaluate(event(at=T0)) == []  # 12:00
    assert len(engine.evaluate(event(at=T0.replace(hour=9, minute=30)))) == 1


def test_count_within_a_window_fires_once_per_n_events() -> None:
    engine = RuleEngine([rule(count=3, window_seconds=10.0)])
    fired = [
        bool(engine.evaluate(event(at=T0 + timedelta(seconds=s), track_id=s)))
        for s in (0, 1, 2, 3, 4, 5)
    ]
    assert fired == [False, False, True, False, False, True]
    # Events further apart than the window never add up.
    slow = RuleEngine([rule(count=2, window_seconds=5.0)])
    assert not slow.evaluate(event(at=T0))
    assert not slow.evaluate(event(at=T0 + timedelta(seconds=6)))
    assert slow.evaluate(event(at=T0 + timedelta(seconds=7)))[0].window_count == 2


def test_cooldown_per_track_and_per_camera() -> None:
    per_track = RuleEngine([rule(cooldown_seconds=60.0)])
    assert per_track.evaluate(event(track_id=1))
    assert not per_track.evaluate(event(at=T0 + timedelta(seconds=30), track_id=1))
    assert per_track.evaluate(event(at=T0 + timedelta(seconds=30), track_id=2))
    assert per_track.evaluate(event(at=T0 + timedelta(seconds=61), track_id=1))
    per_camera = RuleEngine([rule(cooldown_seconds=60.0, cooldown_scope="camera")])
    assert per_camera.evaluate(event(track_id=1))
    assert not per_camera.evaluate(event(at=T0 + timedelta(seconds=30), track_id=2))
    assert per_camera.evaluate(event(at=T0 + timedelta(seconds=30), camera="other"))


def test_replacing_rules_keeps_state_of_unchanged_rules_only() -> None:
    original = rule(cooldown_seconds=60.0)
    engine = RuleEngine([original])
    assert engine.evaluate(event())
    engine.replace_rules([original])
    assert not engine.evaluate(event(at=T0 + timedelta(seconds=1)))
    engine.replace_rules([rule(cooldown_seconds=30.0)])  # changed: starts afresh
    assert engine.evaluate(event(at=T0 + timedelta(seconds=2)))
