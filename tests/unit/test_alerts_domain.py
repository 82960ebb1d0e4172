"""Risk scoring, the alert state machine, escalation and incidents (pure domain)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from argus.domain.alerts import (
    ALERT_STATES,
    ALERT_TRANSITIONS,
    Alert,
    AlertState,
    EscalationPolicy,
    Incident,
    InvalidTransitionError,
    RiskContext,
    RiskPolicy,
    assess_risk,
    new_alert,
    severity_of,
)
from argus.domain.errors import ConflictError, ValidationError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.rules import Match, Rule

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)


def make_rule(weight: float = 0.5) -> Rule:
    return Rule(id="r1", name="loiter", created_at=NOON, updated_at=NOON, weight=weight)


def loitering(at: datetime = NOON, **payload: object) -> Envelope:
    body: dict[str, object] = {
        "zone": "vault",
        "track_id": 7,
        "class_name": "person",
        "confidence": 0.9,
        "dwell_seconds": 120.0,
    }
    body.update(payload)
    return Envelope(new_event_id(at), "zone.loitering", at, EventSource("edge", "cam"), body)


def make_alert(weight: float = 1.0, at: datetime = NOON) -> Alert:
    match = Match(make_rule(weight), loitering(at))
    risk = assess_risk(match, RiskContext(zone_criticality=1.0), RiskPolicy())
    return new_alert("a1", match, risk, at)


@pytest.mark.parametrize(
    ("score", "severity"),
    [(0.0, "low"), (0.29, "low"), (0.3, "medium"), (0.69, "medium"), (0.7, "high"), (1.0, "high")],
)
def test_severity_bands(score: float, severity: str) -> None:
    assert severity_of(score) == severity


def test_risk_is_explained_by_its_components() -> None:
    match = Match(make_rule(1.0), loitering())
    risk = assess_risk(match, RiskContext(zone_criticality=1.0, recent_alerts=0), RiskPolicy())
    parts = {c.name: c for c in risk.components}
    assert set(parts) == {"rule", "confidence", "dwell", "zone", "time_of_day", "repeat"}
    assert parts["confidence"].value == pytest.approx(0.9)
    assert parts["dwell"].value == 1.0  # 120 s = the policy's full dwell
    assert parts["zone"].reason == "zone criticality 1"
    assert parts["time_of_day"].reason == "daytime (12:00 UTC)"
    total = sum(c.weight for c in risk.components)
    assert risk.score == pytest.approx(sum(c.contribution for c in risk.components) / total, 1e-3)
    assert risk.severity == "high"


def test_night_and_repeats_raise_risk() -> None:
    policy = RiskPolicy()
    day = assess_risk(Match(make_rule(), loitering()), RiskContext(), policy)
    night = assess_risk(Match(make_rule(), loitering(MIDNIGHT)), RiskContext(), policy)
    repeated = assess_risk(Match(make_rule(), loitering()), RiskContext(recent_alerts=5), policy)
    assert night.score > day.score
    assert repeated.score > day.score
    assert {c.name: c.value for c in repeated.components}["repeat"] == 1.0


def test_missing_confidence_and_zone_are_neutral_and_said_so() -> None:
    event = loitering()
    payload = {k: v for k, v in event.payload.items() if k != "confidence"}
    bare = dataclasses.replace(event, payload=payload)
    risk = assess_risk(Match(make_rule(), bare), RiskContext(), RiskPolicy())
    parts = {c.name: c for c in risk.components}
    assert parts["confidence"].value == 0.5
    assert "no detection confidence" in parts["confidence"].reason
    assert parts["zone"].value == 0.0
    assert parts["zone"].weight == 0.0  # not applicable: neither raises nor dilutes the score


def test_components_that_do_not_apply_do_not_dilute_the_score() -> None:
    crossing = Envelope(
        new_event_id(NOON),
        "line.crossed",
        NOON,
        EventSource("edge", "cam"),
        {"line": "door", "track_id": 1, "class_name": "person", "confidence": 0.9},
    )
    risk = assess_risk(Match(make_rule(1.0), crossing), RiskContext(), RiskPolicy())
    parts = {c.name: c for c in risk.components}
    assert parts["dwell"].weight == 0.0
    assert parts["zone"].weight == 0.0
    applied = 0.35 * 1 + 0.15 * 0.9 + 0.10 * 0.2 + 0.10 * 0  # rule, confidence, day, repeat
    assert risk.score == pytest.approx(applied / (0.35 + 0.15 + 0.10 + 0.10), abs=1e-3)
    assert risk.severity == "high"


def test_lifecycle_to_confirmation() -> None:
    alert = make_alert()
    assert alert.state == "new"
    notified = alert.transition("notified", NOON, "system")
    acked = notified.transition("acknowledged", NOON, "ann", "on it")
    confirmed = acked.transition("confirmed", NOON, "ann", incident_id="i1")
    assert confirmed.state == "confirmed"
    assert confirmed.incident_id == "i1"
    assert confirmed.version == alert.version + 3
    assert [(t.from_state, t.to_state) for t in confirmed.history] == [
        ("new", "notified"),
        ("notified", "acknowledged"),
        ("acknowledged", "confirmed"),
    ]
    assert confirmed.history[1].actor == "ann"


@pytest.mark.parametrize("start", ALERT_STATES)
def test_every_illegal_transition_is_refused(start: AlertState) -> None:
    alert = dataclasses.replace(make_alert(), state=start)
    for target in ALERT_STATES:
        if target in ALERT_TRANSITIONS[start]:
            assert alert.transition(target, NOON, "x").state == target
        else:
            with pytest.raises(InvalidTransitionError):
                alert.transition(target, NOON, "x")


def test_invalid_transition_is_a_conflict() -> None:
    assert issubclass(InvalidTransitionError, ConflictError)


def test_unacknowledged_high_alert_escalates_up_to_the_limit() -> None:
    policy = EscalationPolicy(max_escalations=2)
    alert = make_alert()
    assert alert.severity == "high"
    alert = dataclasses.replace(alert, ack_deadline=policy.deadline(alert, NOON))
    alert = alert.transition("notified", NOON, "system")
    assert alert.ack_deadline == NOON + timedelta(seconds=60)
    assert not alert.is_due(NOON + timedelta(seconds=59))
    with pytest.raises(InvalidTransitionError, match="not due"):
        policy.escalate(alert, NOON + timedelta(seconds=59))
    first_at = NOON + timedelta(seconds=60)
    first = policy.escalate(alert, first_at)
    assert (first.state, first.escalation_level) == ("escalated", 1)
    assert first.ack_deadline == first_at + timedelta(seconds=120)
    second = policy.escalate(first, first.ack_deadline)
    assert second.escalation_level == 2
    assert second.ack_deadline is None  # the limit: no further escalation
    assert not second.is_due(second.updated_at + timedelta(days=1))
    acked = second.transition("acknowledged", second.updated_at, "sup", ack_deadline=None)
    assert acked.state == "acknowledged"


def test_low_alerts_wait_longer() -> None:
    policy = EscalationPolicy()
    low = make_alert(weight=0.0)
    low = dataclasses.replace(low, risk=dataclasses.replace(low.risk, score=0.1), ack_deadline=None)
    assert policy.deadline(low, NOON) == NOON + timedelta(seconds=900)


def test_alert_round_trips_through_its_dict() -> None:
    alert = make_alert().transition("notified", NOON, "system", ack_deadline=NOON)
    assert Alert.from_dict(alert.to_dict()) == alert


def test_malformed_alert_dict_is_a_validation_error() -> None:
    data = make_alert().to_dict()
    data["state"] = "vanished"
    with pytest.raises(ValidationError):
        Alert.from_dict(data)
    del data["risk_components"]
    with pytest.raises(ValidationError):
        Alert.from_dict(data)


def test_incident_status_machine_and_round_trip() -> None:
    incident = Incident(id="i1", title="break-in", created_at=NOON, updated_at=NOON)
    working = incident.with_status("in_progress", NOON, "ann")
    resolved = working.with_status("resolved", NOON, "ann", "police called")
    closed = resolved.with_status("closed", NOON, "sup")
    with pytest.raises(InvalidTransitionError):
        closed.with_status("open", NOON, "ann")
    noted = closed.changed(NOON, evidence=("event:1",), alert_ids=("a1",))
    assert noted.version == 5
    assert Incident.from_dict(noted.to_dict()) == noted


def test_incident_refuses_duplicate_links() -> None:
    with pytest.raises(ValidationError, match="duplicates"):
        Incident(id="i1", title="t", created_at=NOON, updated_at=NOON, alert_ids=("a", "a"))
