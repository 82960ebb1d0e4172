"""Rule suggestions from verdicts: each kind found, its effect counted, and its limits kept."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from argus.domain.errors import ValidationError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.rule_suggestions import (
    RuleSuggestion,
    SuggestionLimits,
    Verdict,
    suggest,
)
from argus.domain.rules import Rule, Schedule

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, midday UTC


def _rule(**fields: object) -> Rule:
    return Rule(id="r1", name="Gate", created_at=T0, updated_at=T0, camera_id="cam", **fields)  # type: ignore[arg-type]


def _v(
    i: int,
    fp: bool,
    *,
    hour: int = 12,
    conf: float | None = 0.9,
    pos: tuple[float, float] | None = None,
) -> Verdict:
    at = T0.replace(hour=hour) + timedelta(days=i % 7, minutes=i % 50)
    return Verdict(f"a{i}", fp, at, conf, pos)


def _kinds(found: tuple[RuleSuggestion, ...]) -> dict[str, RuleSuggestion]:
    return {s.kind: s for s in found}


def test_low_confidence_false_positives_raise_the_threshold() -> None:
    verdicts = [_v(i, True, conf=0.3 + i * 0.02) for i in range(6)]  # 0.30 .. 0.40
    verdicts += [_v(10 + i, False, conf=0.7 + i * 0.05) for i in range(5)]
    found = _kinds(suggest(_rule(classes=("person",)), verdicts))
    threshold = found["threshold"]
    assert threshold.change == {"min_confidence": 0.41}
    assert threshold.effect.false_positives == 6
    assert threshold.effect.confirmed_lost == 0
    assert threshold.applicable
    assert "person" in threshold.summary


def test_threshold_stops_before_losing_too_many_confirmed_alerts() -> None:
    # Confirmed alerts at 0.5 sit among the false positives: a threshold above
    # 0.5 would lose them all, so it stops at 0.41 (the 0.30-0.40 ones).
    verdicts = [_v(i, True, conf=0.3 + i * 0.02) for i in range(6)]
    verdicts += [_v(20 + i, True, conf=0.6) for i in range(3)]
    verdicts += [_v(40 + i, False, conf=0.5) for i in range(4)]
    threshold = _kinds(suggest(_rule(), verdicts))["threshold"]
    assert threshold.change == {"min_confidence": 0.41}
    assert (threshold.effect.false_positives, threshold.effect.confirmed_lost) == (6, 0)


def test_a_threshold_counts_events_without_confidence_as_held_back() -> None:
    verdicts = [_v(i, True, conf=0.2) for i in range(4)] + [_v(9, False, conf=None)]
    verdicts += [_v(10 + i, False, conf=0.9) for i in range(20)]
    threshold = _kinds(suggest(_rule(), verdicts))["threshold"]
    # One of 21 confirmed lost is within the 10 % allowance (2).
    assert threshold.effect.confirmed_lost == 1


def test_night_false_positives_give_a_schedule_active_outside_them() -> None:
    verdicts = [_v(i, True, hour=2 + i % 3) for i in range(9)]  # 02:00-04:59
    verdicts += [_v(20 + i, False, hour=10 + i % 8) for i in range(8)]
    schedule = _kinds(suggest(_rule(), verdicts))["schedule"]
    parsed = Schedule.from_dict(schedule.change["schedule"])
    assert (parsed.start, parsed.end) == (time(5), time(2))
    assert schedule.effect.false_positives == 9
    assert schedule.effect.confirmed_lost == 0
    for v in verdicts:
        assert parsed.active(v.at) == (not v.false_positive)


def test_schedules_are_judged_in_the_site_time_zone() -> None:
    # 02:00 in Berlin (winter) is 01:00 UTC.
    verdicts = [_v(i, True, hour=1) for i in range(5)] + [_v(9, False, hour=12)]
    schedule = _kinds(suggest(_rule(), verdicts, timezone="Europe/Berlin"))["schedule"]
    assert schedule.change["schedule"] == {
        "days": [0, 1, 2, 3, 4, 5, 6],
        "start": "03:00",
        "end": "02:00",
        "timezone": "Europe/Berlin",
    }


def test_a_rule_with_a_schedule_gets_no_schedule_suggestion() -> None:
    verdicts = [_v(i, True, hour=2) for i in range(9)]
    rule = _rule(schedule=Schedule(start=time(0), end=time(6)))
    assert "schedule" not in _kinds(suggest(rule, verdicts))


def test_clustered_positions_give_an_applicable_exclusion_zone() -> None:
    verdicts = [_v(i, True, pos=(0.80 + 0.01 * (i % 5), 0.10 + 0.01 * i)) for i in range(8)]
    verdicts += [_v(20 + i, False, pos=(0.2 + 0.05 * i, 0.7)) for i in range(6)]
    zone = _kinds(suggest(_rule(), verdicts))["exclusion_zone"]
    polygon = zone.change["polygon"]
    assert polygon == [[0.78, 0.08], [0.86, 0.08], [0.86, 0.19], [0.78, 0.19]]
    assert zone.effect.false_positives == 8
    assert zone.effect.confirmed_lost == 0
    assert zone.applicable


def test_an_exclusion_zone_effect_is_what_the_rule_with_the_area_holds_back() -> None:
    verdicts = [_v(i, True, pos=(0.80 + 0.01 * (i % 5), 0.10 + 0.01 * i)) for i in range(8)]
    verdicts += [_v(20 + i, False, pos=(0.2 + 0.05 * i, 0.7)) for i in range(6)]
    verdicts += [_v(40, True), _v(41, False)]  # no known position: never held back
    zone = _kinds(suggest(_rule(), verdicts))["exclusion_zone"]
    applied = _rule(exclude_areas=[zone.change["polygon"]])
    held = [
        v
        for v in verdicts
        if not applied.matches(
            Envelope(
                new_event_id(v.at),
                "zone.entered",
                v.at,
                EventSource("node", "cam"),
                {} if v.position is None else {"point": list(v.position)},
            )
        )
    ]
    assert sum(v.false_positive for v in held) == zone.effect.false_positives == 8
    assert sum(not v.false_positive for v in held) == zone.effect.confirmed_lost == 0


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        pytest.param([], set(), id="no-verdicts"),
        pytest.param([_v(i, False, conf=0.2) for i in range(5)], set(), id="only-confirmed"),
        pytest.param([_v(i, True, conf=0.3) for i in range(2)], set(), id="too-few-fps"),
        pytest.param(
            [_v(i, True, conf=0.3, hour=3) for i in range(3)]
            + [_v(9 + i, False, conf=0.3, hour=3) for i in range(3)],
            set(),
            id="fps-and-confirmed-inseparable",
        ),
        pytest.param(
            [_v(i, True, conf=0.3 + 0.1 * (i % 6), hour=i % 24) for i in range(48)]
            + [_v(60 + i, False, conf=0.35 + 0.1 * (i % 6), hour=i % 24) for i in range(48)],
            set(),
            id="spread-evenly",
        ),
    ],
)
def test_no_suggestion_without_a_clear_pattern(verdicts: list[Verdict], expected: set[str]) -> None:
    assert set(_kinds(suggest(_rule(), verdicts))) == expected


def test_ids_are_stable_and_differ_by_change() -> None:
    verdicts = [_v(i, True, conf=0.3) for i in range(5)] + [_v(9, False, conf=0.9)]
    first, second = suggest(_rule(), verdicts), suggest(_rule(), verdicts)
    assert [s.id for s in first] == [s.id for s in second]
    other = suggest(_rule(), [*verdicts, *(_v(30 + i, True, conf=0.5) for i in range(5))])
    assert _kinds(other)["threshold"].id != _kinds(first)["threshold"].id


def test_a_higher_current_threshold_is_never_lowered() -> None:
    verdicts = [_v(i, True, conf=0.6) for i in range(5)] + [_v(9, False, conf=0.95)]
    threshold = _kinds(suggest(_rule(min_confidence=0.55), verdicts))["threshold"]
    assert threshold.change == {"min_confidence": 0.61}
    assert "threshold" not in _kinds(suggest(_rule(min_confidence=0.7), verdicts))


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"min_false_positives": 0}, id="min-fp"),
        pytest.param({"max_quiet_hours": 24}, id="quiet-hours"),
        pytest.param({"grid": 1}, id="grid"),
        pytest.param({"max_true_loss": 1.5}, id="loss"),
    ],
)
def test_limits_are_checked(fields: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        SuggestionLimits(**fields)  # type: ignore[arg-type]


def test_verdict_values_are_checked() -> None:
    with pytest.raises(ValidationError):
        Verdict("a", True, T0, 1.5)
    with pytest.raises(ValidationError):
        Verdict("a", True, T0, None, (0.5, 2.0))
