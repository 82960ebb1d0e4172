"""The alerting repositories' contract: rules, alerts, incidents on every store.

The same cases run against the in-memory store, SQLite (a temporary file) and
PostgreSQL (a fresh schema per test), through the ``store`` fixture of the
repository contract (``test_repositories_contract``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from argus.adapters.db import migrate
from argus.domain.alerts import (
    Alert,
    AlertState,
    Incident,
    IncidentNote,
    Risk,
    RiskComponent,
    Severity,
    Transition,
)
from argus.domain.cameras import new_id
from argus.domain.errors import ConflictError, NotFoundError, StorageError, ValidationError
from argus.domain.events import new_event_id
from argus.domain.rules import Rule, Schedule
from argus.ports.alerts import AlertFilter, AlertRepository, IncidentRepository, RuleRepository
from argus.ports.repositories import Database
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

# The parametrised store (memory, SQLite, PostgreSQL) and the anyio backend, shared as is.
store = contract.store

SCORES: dict[Severity, float] = {"low": 0.1, "medium": 0.5, "high": 0.9}


def _rule(n: int = 0, **changes: Any) -> Rule:
    rule = Rule(
        id=f"rule-{n:03d}",
        name=f"Loitering at gate {n}",
        created_at=T0 + timedelta(seconds=n),
        updated_at=T0 + timedelta(seconds=n),
        camera_id="cam-1",
        event_types=("zone.loitering", "zone.exited"),
        classes=("person",),
        zone="yard",
        min_dwell_seconds=30.5,
        min_occupancy=2,
        min_confidence=0.6,
        count=3,
        window_seconds=120.0,
        schedule=Schedule(
            days=frozenset({0, 1, 2, 3, 4}),
            start=time(22, 0),
            end=time(6, 30),
            timezone="Europe/Berlin",
        ),
        cooldown_seconds=90.0,
        cooldown_scope="camera",
        weight=0.75,
        description="After hours, near the fence.",
    )
    return replace(rule, **changes)


def _risk(severity: Severity = "medium") -> Risk:
    score = SCORES[severity]
    return Risk(
        score,
        (
            RiskComponent("rule", score, 0.35, "rule 'gate' weight 0.5"),
            RiskComponent("confidence", 0.8125, 0.15, "detection confidence 0.81"),
            RiskComponent("dwell", 0.0, 0.15, "no dwell"),
        ),
    )


def _alert(
    offset_s: float = 0.0,
    *,
    rule_id: str = "rule-000",
    camera_id: str = "cam-1",
    severity: Severity = "medium",
    **changes: Any,
) -> Alert:
    when = T0 + timedelta(seconds=offset_s)
    alert = Alert(
        id=new_id(),
        rule_id=rule_id,
        rule_name="Loitering at gate",
        camera_id=camera_id,
        event_id=new_event_id(when),
        event_type="zone.loitering",
        event_time=when - timedelta(milliseconds=250),
        class_name="person",
        track_id=42,
        risk=_risk(severity),
        created_at=when,
        updated_at=when,
    )
    return replace(alert, **changes)


def _waiting(offset_s: float, deadline_s: float | None, state: AlertState = "notified") -> Alert:
    """An alert in ``state`` whose acknowledgement is due ``deadline_s`` after T0."""
    deadline = None if deadline_s is None else T0 + timedelta(seconds=deadline_s)
    return _alert(offset_s, state=state, ack_deadline=deadline, version=2)


def _incident(n: int = 0, **changes: Any) -> Incident:
    when = T0 + timedelta(minutes=n)
    incident = Incident(
        id=f"inc-{n:03d}",
        title=f"Intruder at gate {n}",
        created_at=when,
        updated_at=when,
        camera_id="cam-1",
        confirmed_by="operator-1",
        description="Confirmed from the night shift's alert.",
        alert_ids=("A1", "A2"),
        evidence=("clip://cam-1/2026-03-01T12:00:00Z", "snapshot-77"),
        notes=(IncidentNote("operator-1", "Called the guard.", when + timedelta(seconds=5)),),
    )
    return replace(incident, **changes)


# --- schema ----------------------------------------------------------------------------------


async def test_migration_creates_the_alerting_tables(store: Store) -> None:
    db = store.sql
    assert await migrate.current_revision(db.engine) == migrate.head_revision()
    async with db.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
    assert {"rules", "alerts", "incidents"} <= tables


async def test_the_store_implements_the_alerting_ports(store: Store) -> None:
    assert isinstance(store.db.rules, RuleRepository)
    assert isinstance(store.db.alerts, AlertRepository)
    assert isinstance(store.db.incidents, IncidentRepository)


# --- rules -----------------------------------------------------------------------------------


async def test_rule_crud_round_trips_every_field(store: Store) -> None:
    repo = store.db.rules
    rule = _rule(1)
    await repo.add(rule)
    assert await repo.get(rule.id) == rule
    changed = replace(
        rule,
        name="Line crossing",
        camera_id=None,
        event_types=("line.crossed",),
        classes=(),
        zone=None,
        line="gate",
        direction="out",
        min_dwell_seconds=None,
        min_occupancy=None,
        min_confidence=None,
        count=None,
        window_seconds=None,
        schedule=None,
        cooldown_seconds=0.0,
        cooldown_scope="track",
        weight=1.0,
        enabled=False,
        description="",
        updated_at=T0 + timedelta(hours=1),
    )
    await repo.update(changed)
    assert await repo.get(rule.id) == changed
    await repo.delete(rule.id)
    with pytest.raises(NotFoundError):
        await repo.get(rule.id)


@pytest.mark.parametrize("operation", ["get", "update", "delete"], ids=["get", "update", "delete"])
async def test_unknown_rule_is_not_found(store: Store, operation: str) -> None:
    repo, rule = store.db.rules, _rule()
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "get": lambda: repo.get(rule.id),
        "update": lambda: repo.update(rule),
        "delete": lambda: repo.delete(rule.id),
    }
    with pytest.raises(NotFoundError):
        await calls[operation]()


async def test_adding_a_rule_twice_is_a_conflict(store: Store) -> None:
    rule = _rule()
    await store.db.rules.add(rule)
    with pytest.raises(ConflictError):
        await store.db.rules.add(replace(rule, name="other"))
    assert await store.db.rules.get(rule.id) == rule


async def test_rules_page_in_creation_order_with_filters(store: Store) -> None:
    cameras = ["cam-1", "cam-2", None]
    rules = [_rule(n, camera_id=cameras[n % 3], enabled=n % 4 != 0) for n in range(8)]
    for rule in reversed(rules):
        await store.db.rules.add(rule)
    repo = store.db.rules
    pages = [await repo.list(limit=3, offset=offset) for offset in (0, 3, 6, 9)]
    assert [p.total for p in pages] == [8, 8, 8, 8]
    assert [r for p in pages for r in p.items] == rules
    cam1 = await repo.list(camera_id="cam-1")
    assert cam1.items == tuple(r for r in rules if r.camera_id in ("cam-1", None))
    assert cam1.total == len(cam1.items)
    enabled = await repo.list(enabled=True, camera_id="cam-2", limit=2, offset=1)
    expected = [r for r in rules if r.enabled and r.camera_id in ("cam-2", None)]
    assert enabled.items == tuple(expected[1:3])
    assert enabled.total == len(expected)
    assert (await repo.list(enabled=False)).total == 2


# --- alerts ----------------------------------------------------------------------------------


async def test_alert_round_trips_every_field(store: Store) -> None:
    repo = store.db.alerts
    raised = _alert(3.5)
    notified = raised.transition(
        "notified", T0 + timedelta(seconds=4), "system", ack_deadline=T0 + timedelta(minutes=5)
    )
    alert = notified.transition(
        "escalated",
        T0 + timedelta(minutes=5, microseconds=123456),
        "system",
        "not acknowledged: escalation 1 of 3",
        escalation_level=1,
        ack_deadline=T0 + timedelta(minutes=7),
        incident_id="inc-9",
    )
    assert await repo.add(alert) is True
    stored = await repo.get(alert.id)
    assert stored == alert
    assert stored.risk.components == alert.risk.components
    assert stored.history == alert.history
    assert await repo.find(alert.rule_id, alert.event_id) == alert
    assert await repo.find(alert.rule_id, new_event_id()) is None
    bare = _alert(9, class_name=None, track_id=None)
    assert await repo.add(bare) is True
    assert await repo.get(bare.id) == bare


async def test_a_rule_alerts_once_per_event(store: Store) -> None:
    repo = store.db.alerts
    alert = _alert()
    assert await repo.add(alert) is True
    redelivered = replace(alert, id=new_id(), risk=_risk("high"))
    assert await repo.add(redelivered) is False
    assert await repo.add(alert) is False  # the same alert again: still a duplicate
    with pytest.raises(NotFoundError):
        await repo.get(redelivered.id)
    other_rule = replace(alert, id=new_id(), rule_id="rule-001")
    assert await repo.add(other_rule) is True
    page = await repo.list()
    assert page.total == 2
    assert await repo.get(alert.id) == alert


async def test_a_taken_alert_id_is_a_conflict(store: Store) -> None:
    alert = _alert()
    await store.db.alerts.add(alert)
    with pytest.raises(ConflictError):
        await store.db.alerts.add(replace(alert, event_id=new_event_id()))
    assert (await store.db.alerts.list()).items == (alert,)


async def test_alert_updates_are_optimistic(store: Store) -> None:
    repo = store.db.alerts
    alert = _alert()
    await repo.add(alert)
    read = await repo.get(alert.id)
    at = T0 + timedelta(seconds=10)
    first = read.transition("notified", at, "server-a", ack_deadline=at + timedelta(minutes=1))
    second = read.transition("escalated", at, "server-b", escalation_level=1)
    await repo.update(first)
    with pytest.raises(ConflictError):
        await repo.update(second)
    assert await repo.get(alert.id) == first
    with pytest.raises(ConflictError):  # skipping a version is stale too
        await repo.update(replace(first, version=first.version + 2))
    with pytest.raises(ConflictError):  # so is writing the stored version again
        await repo.update(first)
    acknowledged = first.transition("acknowledged", at, "operator-1", ack_deadline=None)
    await repo.update(acknowledged)
    assert await repo.get(alert.id) == acknowledged


async def test_updating_an_unknown_alert_is_not_found(store: Store) -> None:
    alert = _alert()
    with pytest.raises(NotFoundError):
        await store.db.alerts.update(replace(alert, version=2))
    with pytest.raises(NotFoundError):
        await store.db.alerts.get(alert.id)


async def test_an_update_cannot_take_another_alerts_event(store: Store) -> None:
    repo = store.db.alerts
    first, second = _alert(1), _alert(2)
    await repo.add(first)
    await repo.add(second)
    with pytest.raises(ConflictError):
        await repo.update(replace(second, event_id=first.event_id, version=2))
    assert await repo.get(second.id) == second


def _mixed_alerts() -> list[Alert]:
    """Ten alerts over two cameras, two rules, three states and all severities; some tie."""
    states: list[AlertState] = ["new", "notified", "acknowledged"]
    severities: list[Severity] = ["low", "medium", "high"]
    return [
        _alert(
            float(n // 2 * 10),  # pairs share created_at: the id breaks the tie
            rule_id=f"rule-00{n % 2}",
            camera_id=f"cam-{n % 3 % 2 + 1}",
            severity=severities[n % 3],
            state=states[n % 3],
        )
        for n in range(10)
    ]


def _newest_first(alerts: list[Alert]) -> list[Alert]:
    return sorted(alerts, key=lambda a: (a.created_at, a.id), reverse=True)


@pytest.mark.parametrize(
    "where",
    [
        AlertFilter(),
        AlertFilter(camera_id="cam-2"),
        AlertFilter(rule_id="rule-001"),
        AlertFilter(states=("new", "acknowledged")),
        AlertFilter(severities=("high",)),
        AlertFilter(since=T0 + timedelta(seconds=10), until=T0 + timedelta(seconds=30)),
        AlertFilter(camera_id="cam-1", rule_id="rule-000", states=("new", "notified")),
        AlertFilter(camera_id="cam-9"),
    ],
    ids=["all", "camera", "rule", "states", "severity", "time-range", "combined", "none"],
)
async def test_alerts_list_newest_first_with_filters(store: Store, where: AlertFilter) -> None:
    alerts = _mixed_alerts()
    for alert in alerts:
        assert await store.db.alerts.add(alert)

    def wanted(a: Alert) -> bool:
        return (
            (where.camera_id is None or a.camera_id == where.camera_id)
            and (where.rule_id is None or a.rule_id == where.rule_id)
            and (where.states is None or a.state in where.states)
            and (where.severities is None or a.severity in where.severities)
            and (where.since is None or a.created_at >= where.since)
            and (where.until is None or a.created_at < where.until)
        )

    expected = _newest_first([a for a in alerts if wanted(a)])
    pages = [await store.db.alerts.list(where, limit=3, offset=o) for o in (0, 3, 6, 9, 12)]
    assert [a for p in pages for a in p.items] == expected
    assert {p.total for p in pages} == {len(expected)}


async def test_due_alerts_oldest_deadline_first(store: Store) -> None:
    now = T0 + timedelta(minutes=10)
    alerts = {
        "late": _waiting(0, 300),
        "escalated": _waiting(1, 120, "escalated"),
        "new-with-deadline": _waiting(2, 500, "new"),
        "exactly-now": _waiting(3, 600),
        "future": _waiting(4, 601),
        "acknowledged": _waiting(5, 60, "acknowledged"),
        "confirmed": _waiting(6, 60, "confirmed"),
        "no-deadline": _waiting(7, None),
    }
    for alert in alerts.values():
        await store.db.alerts.add(alert)
    due = await store.db.alerts.due(now)
    names = {alert.id: name for name, alert in alerts.items()}
    assert [names[a.id] for a in due] == ["escalated", "late", "new-with-deadline", "exactly-now"]
    assert due[0] == alerts["escalated"]
    assert [names[a.id] for a in await store.db.alerts.due(now, limit=2)] == [
        "escalated",
        "late",
    ]
    assert await store.db.alerts.due(T0) == ()


async def test_count_since_counts_one_rule_on_one_camera(store: Store) -> None:
    alerts = _mixed_alerts()
    for alert in alerts:
        await store.db.alerts.add(alert)
    since = T0 + timedelta(seconds=20)
    expected = sum(
        1
        for a in alerts
        if a.rule_id == "rule-000" and a.camera_id == "cam-1" and a.created_at >= since
    )
    assert expected > 0
    assert await store.db.alerts.count_since("rule-000", "cam-1", since) == expected
    assert await store.db.alerts.count_since("rule-000", "cam-1", T0) == sum(
        1 for a in alerts if a.rule_id == "rule-000" and a.camera_id == "cam-1"
    )
    assert await store.db.alerts.count_since("rule-000", "cam-9", T0) == 0
    assert await store.db.alerts.count_since("rule-000", "cam-1", T0 + timedelta(days=1)) == 0


async def test_timers_survive_reopening_the_store(store: Store) -> None:
    db = store.sql
    waiting = _waiting(0, 60)
    await db.alerts.add(waiting)
    await db.close()
    reopened = await store.reopen()
    try:
        assert await reopened.alerts.due(T0 + timedelta(minutes=1)) == (waiting,)
        assert await reopened.alerts.due(T0 + timedelta(seconds=59)) == ()
    finally:
        await reopened.close()


async def test_an_unreadable_stored_alert_is_a_storage_error(store: Store) -> None:
    db = store.sql
    alert = _alert()
    await db.alerts.add(alert)
    async with db.engine.begin() as connection:
        await connection.execute(
            sa.text("UPDATE alerts SET body = :body WHERE id = :id"),
            {"body": '{"id": "x"}', "id": alert.id},
        )
    with pytest.raises(StorageError, match="unreadable"):
        await db.alerts.get(alert.id)


# --- incidents -------------------------------------------------------------------------------


async def test_incident_crud_round_trips_every_field(store: Store) -> None:
    repo = store.db.incidents
    incident = _incident(1)
    await repo.add(incident)
    assert await repo.get(incident.id) == incident
    at = T0 + timedelta(hours=1)
    working = incident.with_status("in_progress", at, "operator-2", "on it")
    noted = working.changed(
        at + timedelta(minutes=1),
        notes=(*working.notes, IncidentNote("operator-2", "Guard on site.", at)),
        evidence=(*working.evidence, "clip-2"),
    )
    await repo.update(working)
    await repo.update(noted)
    stored = await repo.get(incident.id)
    assert stored == noted
    assert stored.history == (Transition("open", "in_progress", at, "operator-2", "on it"),)
    await repo.delete(incident.id)
    with pytest.raises(NotFoundError):
        await repo.get(incident.id)
    with pytest.raises(NotFoundError):
        await repo.delete(incident.id)


async def test_incident_updates_are_optimistic(store: Store) -> None:
    repo = store.db.incidents
    incident = _incident()
    await repo.add(incident)
    read = await repo.get(incident.id)
    at = T0 + timedelta(hours=1)
    await repo.update(read.with_status("resolved", at, "operator-1"))
    with pytest.raises(ConflictError):
        await repo.update(read.with_status("closed", at, "operator-2"))
    assert (await repo.get(incident.id)).status == "resolved"
    with pytest.raises(NotFoundError):
        await repo.update(replace(_incident(5), version=2))
    with pytest.raises(ConflictError):
        await repo.add(replace(incident, title="again"))


async def test_incidents_list_newest_first_with_filters(store: Store) -> None:
    incidents = [
        _incident(
            n,
            camera_id=None if n == 4 else f"cam-{n % 2 + 1}",
            status="open" if n % 3 else "closed",
        )
        for n in range(7)
    ]
    incidents.append(_incident(7, created_at=incidents[6].created_at))  # a tie: id decides
    for incident in incidents:
        await store.db.incidents.add(incident)
    newest = sorted(incidents, key=lambda i: (i.created_at, i.id), reverse=True)
    repo = store.db.incidents
    pages = [await repo.list(limit=3, offset=o) for o in (0, 3, 6, 9)]
    assert [i for p in pages for i in p.items] == newest
    assert {p.total for p in pages} == {8}
    page = await repo.list(status="open", camera_id="cam-1")
    expected = [i for i in newest if i.status == "open" and i.camera_id == "cam-1"]
    assert page.items == tuple(expected)
    assert page.total == len(expected) > 0
    assert (await repo.list(status="closed")).total == 3


# --- arguments -------------------------------------------------------------------------------


NAIVE = datetime(2026, 3, 1, 12, 0)
"""A time without a zone, which no query accepts."""


@pytest.mark.parametrize(
    "call",
    [
        lambda db: db.rules.list(limit=0),
        lambda db: db.alerts.list(limit=1001),
        lambda db: db.alerts.list(offset=-1),
        lambda db: db.incidents.list(limit=0),
        lambda db: db.alerts.due(T0, limit=0),
        lambda db: db.alerts.due(NAIVE),
        lambda db: db.alerts.count_since("rule-000", "cam-1", NAIVE),
    ],
    ids=[
        "rules-limit",
        "alerts-limit",
        "alerts-offset",
        "incidents-limit",
        "due-limit",
        "due-naive",
        "count-naive",
    ],
)
async def test_bad_arguments_are_validation_errors(
    store: Store, call: Callable[[Database], Awaitable[object]]
) -> None:
    with pytest.raises(ValidationError):
        await call(store.db)


@pytest.mark.parametrize(
    "fields",
    [{"since": NAIVE}, {"until": NAIVE}, {"states": ()}, {"severities": ()}],
    ids=["naive-since", "naive-until", "no-states", "no-severities"],
)
def test_bad_alert_filters_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        AlertFilter(**fields)
