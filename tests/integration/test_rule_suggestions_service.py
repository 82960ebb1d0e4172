"""Rule suggestions over every store: computed from stored verdicts, applied, dismissed, audited."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from argus.domain.actor import Actor
from argus.domain.alerts import Alert, Risk
from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.event_payloads import TracksMinute
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.identity import Principal
from argus.domain.rules import Rule
from argus.ports.audit import AuditFilter
from argus.services.alert_rules import RuleChanges, RuleService
from argus.services.risk_policy import RiskPolicyService
from argus.services.rule_suggestions import RuleSuggestions
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store

ADMIN = Actor(
    Principal("user", "u-admin", "root", frozenset({"view", "operate", "configure", "admin"}))
)
ELSEWHERE = Actor(
    Principal("user", "u-other", "eve", frozenset({"view", "admin"}), cameras=frozenset({"x"}))
)
NOW = T0 + timedelta(days=10)
CAMERA = "cam-s"


def _clock() -> datetime:
    return NOW


async def _history(store: Store, rule: Rule) -> None:
    """Ten days of a rule's reviewed crossings: false positives at night, weak, in one corner."""
    source = EventSource("node-1", CAMERA)
    n = 0
    for day in range(8):
        # Two false positives a night, 02:10 and 03:20 UTC, low confidence, top right.
        # One confirmed alert a day at 14:00, confident, bottom left.
        for hour, minute, fp in ((2, 10, True), (3, 20, True), (14, 0, False)):
            n += 1
            at = T0 + timedelta(days=day - 9, hours=hour - 12, minutes=minute, seconds=30)
            payload = {
                "line": "gate",
                "track_id": n,
                "class_id": 0,
                "class_name": "person",
                "direction": "in",
                "timestamp": 1.0,
                "confidence": 0.35 + 0.01 * day if fp else 0.8,
            }
            event = Envelope(new_event_id(at), "line.crossed", at, source, payload)
            x, y = (560 + day, 60 + day) if fp else (100, 420)
            log = TracksMinute(640, 480, 1, 0, 0, ("person",), ((n, 0, 300, x, y, 90),))
            await store.db.events.add(Envelope.wrap(log, source, at.replace(second=0)))
            await store.db.events.add(event)
            alert = Alert(
                id=f"al-{n:03d}",
                rule_id=rule.id,
                rule_name=rule.name,
                camera_id=CAMERA,
                event_id=event.event_id,
                event_type=event.type,
                event_time=at,
                risk=Risk(0.5, ()),
                created_at=at,
                updated_at=at,
                state="false_positive" if fp else "confirmed",
                class_name="person",
                track_id=n,
            )
            await store.db.alerts.add(alert)


async def _service(store: Store) -> tuple[RuleSuggestions, RuleService, Rule]:
    rules = RuleService(store.db, _clock, 0.0)
    rule = Rule(id="rule-1", name="Gate", created_at=T0, updated_at=T0, camera_id=CAMERA)
    await store.db.rules.add(rule)
    await _history(store, rule)
    return (
        RuleSuggestions(store.db, rules, RiskPolicyService(store.db, _clock), clock=_clock),
        (rules),
        rule,
    )


async def test_refresh_apply_and_dismiss(store: Store) -> None:
    suggestions, _, rule = await _service(store)
    found = {s.suggestion.kind: s for s in await suggestions.refresh(ADMIN)}
    assert set(found) == {"threshold", "schedule", "exclusion_zone"}
    threshold = found["threshold"].suggestion
    assert threshold.change == {"min_confidence": 0.43}
    assert (threshold.effect.false_positives, threshold.effect.false_positive_total) == (16, 16)
    assert (threshold.effect.confirmed_lost, threshold.effect.confirmed_total) == (0, 8)
    zone = found["exclusion_zone"].suggestion
    assert zone.effect.false_positives == 16
    assert all(x > 0.8 and y < 0.2 for x, y in zone.change["polygon"])  # type: ignore[attr-defined]

    applied = await suggestions.apply(ADMIN, threshold.id)
    assert (applied.state, applied.decided_by) == ("applied", "user:root")
    assert (await store.db.rules.get(rule.id)).min_confidence == 0.43
    with pytest.raises(ConflictError):
        await suggestions.apply(ADMIN, threshold.id)
    await suggestions.apply(ADMIN, zone.id)
    polygon = tuple(tuple(p) for p in zone.change["polygon"])  # type: ignore[attr-defined]
    assert (await store.db.rules.get(rule.id)).exclude_areas == (polygon,)
    with pytest.raises(ConflictError):
        await suggestions.apply(ADMIN, zone.id)

    schedule = found["schedule"].suggestion
    dismissed = await suggestions.dismiss(ADMIN, schedule.id, "we patrol at night")
    assert dismissed.state == "dismissed"
    again = {s.suggestion.id: s.state for s in await suggestions.refresh(ADMIN)}
    assert again.get(schedule.id) == "dismissed"
    assert threshold.id not in again  # the rule now has the threshold: nothing left to raise

    actions = [
        r.entry.action for r in (await store.db.audit.list(where=AuditFilter(), limit=20)).items
    ]
    for action in ("suggestion.refresh", "rule.update", "suggestion.apply", "suggestion.dismiss"):
        assert action in actions
    listed = await suggestions.listing(ADMIN, "dismissed")
    assert [s.suggestion.id for s in listed] == [schedule.id]


async def test_a_camera_scoped_admin_sees_and_decides_only_its_cameras(store: Store) -> None:
    suggestions, _, _ = await _service(store)
    found = await suggestions.refresh(ADMIN)
    assert found
    assert await suggestions.listing(ELSEWHERE) == ()
    with pytest.raises(NotFoundError):
        await suggestions.dismiss(ELSEWHERE, found[0].suggestion.id)
    with pytest.raises(NotFoundError):
        await suggestions.apply(ADMIN, "no-such-suggestion")


async def test_a_suggestion_made_stale_by_a_rule_change_is_refused(store: Store) -> None:
    suggestions, rules, rule = await _service(store)
    found = {s.suggestion.kind: s.suggestion for s in await suggestions.refresh(ADMIN)}
    await rules.update(ADMIN, rule.id, RuleChanges(min_confidence=0.5))
    with pytest.raises(ConflictError):
        await suggestions.apply(ADMIN, found["threshold"].id)
    assert (await store.db.rules.get(rule.id)).min_confidence == 0.5  # not lowered


async def _point_history(store: Store, rule: Rule) -> None:
    """Reviewed crossings whose events carry the foot point (no trajectory log at all)."""
    source = EventSource("node-1", CAMERA)
    for n in range(12):
        fp = n % 3 != 2
        at = T0 + timedelta(days=-5, hours=n, minutes=7)
        payload = {
            "line": "gate",
            "track_id": n,
            "class_id": 0,
            "class_name": "person",
            "direction": "in",
            "timestamp": 1.0,
            "confidence": 0.8,
            "point": [0.1 + 0.005 * n, 0.9] if fp else [0.5, 0.5],
        }
        event = Envelope(new_event_id(at), "line.crossed", at, source, payload)
        await store.db.events.add(event)
        await store.db.alerts.add(
            Alert(
                id=f"pt-{n:03d}",
                rule_id=rule.id,
                rule_name=rule.name,
                camera_id=CAMERA,
                event_id=event.event_id,
                event_type=event.type,
                event_time=at,
                risk=Risk(0.5, ()),
                created_at=at,
                updated_at=at,
                state="false_positive" if fp else "confirmed",
                class_name="person",
                track_id=n,
            )
        )


async def test_an_applied_exclusion_zone_silences_events_in_it_only(store: Store) -> None:
    rules = RuleService(store.db, _clock, 0.0)
    rule = Rule(id="rule-p", name="Kerb", created_at=T0, updated_at=T0, camera_id=CAMERA)
    await store.db.rules.add(rule)
    await _point_history(store, rule)
    suggestions = RuleSuggestions(
        store.db, rules, RiskPolicyService(store.db, _clock), clock=_clock
    )
    found = {s.suggestion.kind: s.suggestion for s in await suggestions.refresh(ADMIN)}
    zone = found["exclusion_zone"]
    assert zone.applicable
    assert (zone.effect.false_positives, zone.effect.false_positive_total) == (8, 8)
    assert (zone.effect.confirmed_lost, zone.effect.confirmed_total) == (0, 4)
    assert await rules.evaluate(_crossing(at=NOW, point=[0.12, 0.9]))  # before: it fires

    await suggestions.apply(ADMIN, zone.id)
    stored = await store.db.rules.get(rule.id)
    assert len(stored.exclude_areas) == 1
    assert await rules.evaluate(_crossing(at=NOW, point=[0.12, 0.9])) == ()
    assert await rules.evaluate(_crossing(at=NOW, point=[0.5, 0.5]))
    assert await rules.evaluate(_crossing(at=NOW, point=None))  # no point: never excluded
    entries = (await store.db.audit.list(where=AuditFilter(), limit=20)).items
    applied = next(r.entry for r in entries if r.entry.action == "suggestion.apply")
    assert applied.target == f"rule:{rule.id}"


def _crossing(*, at: datetime, point: list[float] | None) -> Envelope:
    payload: dict[str, object] = {"line": "gate", "track_id": 99, "class_name": "person"}
    if point is not None:
        payload["point"] = point
    return Envelope(new_event_id(at), "line.crossed", at, EventSource("node-1", CAMERA), payload)
