"""``AlertService`` on the in-memory store: raising, lifecycle, escalation, incidents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from argus.adapters.db.alerts_memory import MemoryAlertRepository
from argus.adapters.db.alerts_sql import SqlAlertRepository
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.db.sql import SqlDatabase
from argus.domain.actor import Actor
from argus.domain.alerts import EscalationPolicy, InvalidTransitionError
from argus.domain.cameras import Camera, Zone
from argus.domain.errors import ConflictError, NotFoundError, ValidationError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.rules import Schedule
from argus.ports.alerts import AlertFilter
from argus.ports.repositories import Database
from argus.services.alert_rules import NewRule, RuleChanges
from argus.services.alerts import ALERTS_SUBJECT, AlertService
from argus.services.incidents import IncidentChanges, NewIncident

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ANN = Actor(principal=None, name="ann")
SUPERVISOR = Actor(principal=None, name="supervisor")


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Published:
    messages: list[tuple[str, Envelope]] = field(default_factory=list)

    async def __call__(self, subject: str, envelope: Envelope) -> None:
        self.messages.append((subject, envelope))

    def types(self) -> list[str]:
        return [envelope.type for _, envelope in self.messages]


@dataclass
class Kit:
    db: MemoryDatabase
    clock: Clock
    published: Published
    service: AlertService


@pytest.fixture
async def kit() -> Kit:
    db = MemoryDatabase()
    camera = Camera(
        id="cam", name="gate", stream_url="rtsp://127.0.0.1/x", created_at=T0, updated_at=T0
    )
    await db.cameras.add(camera)
    await db.zones.add(
        Zone(
            id="z1",
            camera_id="cam",
            name="vault",
            polygon=((0, 0), (1, 0), (1, 1)),
            criticality=1.0,
        )
    )
    clock, published = Clock(), Published()
    policy = EscalationPolicy(
        ack_deadlines={"high": 60.0, "medium": 300.0, "low": 900.0},
        repeat_seconds={"high": 60.0, "medium": 300.0, "low": 900.0},
        max_escalations=2,
    )
    service = AlertService(db, published, node_id="n1", escalation=policy, clock=clock)
    return Kit(db, clock, published, service)


def loitering(at: datetime = T0, dwell: float = 120.0) -> Envelope:
    payload = {
        "zone": "vault",
        "track_id": 3,
        "class_name": "person",
        "confidence": 0.95,
        "dwell_seconds": dwell,
    }
    return Envelope(new_event_id(at), "zone.loitering", at, EventSource("edge", "cam"), payload)


async def test_an_event_raises_one_notified_alert_even_when_redelivered(kit: Kit) -> None:
    await kit.service.rules.create(ANN, NewRule(name="vault", zone="vault", weight=1.0))
    event = loitering()
    [alert] = await kit.service.on_event(event)
    assert alert.state == "notified"
    assert alert.severity == "high"
    assert alert.ack_deadline == T0 + timedelta(seconds=60)
    assert {c.name: c.value for c in alert.risk.components}["zone"] == 1.0  # the zone's criticality
    assert kit.published.types() == ["alert.created", "alert_group.updated"]
    assert kit.published.messages[0][1].payload["state"] == "notified"
    assert kit.published.messages[1][1].payload["id"] == alert.group_id
    assert all(subject == ALERTS_SUBJECT for subject, _ in kit.published.messages)
    assert await kit.service.on_event(event) == []  # redelivered: nothing new
    assert (await kit.service.list_alerts()).total == 1


async def test_rules_that_do_not_match_raise_nothing(kit: Kit) -> None:
    await kit.service.rules.create(
        ANN, NewRule(name="vault", zone="vault", min_dwell_seconds=300.0)
    )
    assert await kit.service.on_event(loitering(dwell=10.0)) == []


async def test_repeat_activity_raises_the_risk(kit: Kit) -> None:
    await kit.service.rules.create(ANN, NewRule(name="vault", zone="vault", weight=0.3))
    [first] = await kit.service.on_event(loitering())
    kit.clock.now = T0 + timedelta(seconds=5)
    [second] = await kit.service.on_event(loitering(T0 + timedelta(seconds=5)))
    assert second.risk.score > first.risk.score


async def test_acknowledge_confirm_creates_an_incident(kit: Kit) -> None:
    await kit.service.rules.create(ANN, NewRule(name="vault", zone="vault"))
    [alert] = await kit.service.on_event(loitering())
    with pytest.raises(InvalidTransitionError):
        await kit.service.confirm(ANN, alert.id)  # not acknowledged yet
    assert (await kit.service.incidents.list()).total == 0
    acked = await kit.service.acknowledge(ANN, alert.id, "looking")
    assert acked.ack_deadline is None
    confirmed, incident = await kit.service.confirm(ANN, alert.id, "real", title="Vault")
    assert confirmed.state == "confirmed"
    assert confirmed.incident_id == incident.id
    assert incident.alert_ids == (alert.id,)
    assert incident.evidence == (f"event:{alert.event_id}",)
    assert incident.confirmed_by == "ann"
    working = await kit.service.incidents.set_status(ANN, incident.id, "in_progress")
    noted = await kit.service.incidents.add_note(ANN, working.id, "police on site")
    assert [n.text for n in noted.notes] == ["police on site"]
    with pytest.raises(InvalidTransitionError):
        await kit.service.incidents.set_status(ANN, incident.id, "in_progress")


async def test_an_untitled_incident_is_named_after_the_rule_and_the_cameras_name(
    kit: Kit,
) -> None:
    await kit.service.rules.create(ANN, NewRule(name="vault", zone="vault"))
    [first, second] = [
        (await kit.service.on_event(loitering(T0 + timedelta(seconds=s))))[0] for s in (0, 1)
    ]
    for alert in (first, second):
        await kit.service.acknowledge(ANN, alert.id)
    _, named = await kit.service.confirm(ANN, first.id)
    assert named.title == "vault on gate"  # the camera's name, not its id
    await kit.db.cameras.delete("cam")  # gone meanwhile: its id is all there is
    _, unnamed = await kit.service.confirm(ANN, second.id)
    assert unnamed.title == "vault on camera cam"


async def test_dismissed_alerts_are_kept_as_feedback(kit: Kit) -> None:
    await kit.service.rules.create(ANN, NewRule(name="vault", zone="vault"))
    [alert] = await kit.service.on_event(loitering())
    await kit.service.acknowledge(ANN, alert.id)
    closed = await kit.service.dismiss(ANN, alert.id, "cleaner")
    assert closed.state == "false_positive"
    feedback = await kit.service.list_alerts(AlertFilter(states=("false_positive",)))
    assert [a.id for a in feedback.items] == [alert.id]
    assert feedback.items[0].history[-1].note == "cleaner"


async def test_escalation_survives_a_new_service_and_happens_once(kit: Kit) -> None:
    await kit.service.rules.create(ANN, NewRule(name="vault", zone="vault", weight=1.0))
    [alert] = await kit.service.on_event(loitering())
    kit.clock.now = T0 + timedelta(seconds=59)
    assert await kit.service.escalate_due() == []
    # A second server on the same store (or this one after a restart) sees the same timer.
    other = AlertService(
        kit.db, kit.published, node_id="n2", escalation=kit.service.escalation, clock=kit.clock
    )
    kit.clock.now = T0 + timedelta(seconds=60)
    first = await other.escalate_due()
    again = await kit.service.escalate_due()
    assert [a.id for a in first] == [alert.id]
    assert again == []
    kit.clock.now = T0 + timedelta(seconds=120)
    [second] = await kit.service.escalate_due()
    assert second.escalation_level == 2
    assert second.ack_deadline is None
    kit.clock.now = T0 + timedelta(days=1)
    assert await kit.service.escalate_due() == []
    assert kit.published.types().count("alert.escalated") == 2
    acked = await kit.service.acknowledge(SUPERVISOR, alert.id)
    assert acked.state == "acknowledged"


async def test_a_failing_publisher_never_loses_the_alert(kit: Kit) -> None:
    async def broken(subject: str, envelope: Envelope) -> None:
        raise ConnectionError("broker down")

    service = AlertService(kit.db, broken, clock=kit.clock)
    await service.rules.create(ANN, NewRule(name="vault", zone="vault"))
    [alert] = await service.on_event(loitering())
    assert (await kit.db.alerts.get(alert.id)).state == "notified"
    assert service.publish_failures == 2  # the alert and its group


async def test_rule_updates_and_validation(kit: Kit) -> None:
    rule = await kit.service.rules.create(ANN, NewRule(name="vault", zone="vault"))
    schedule = Schedule.from_dict(
        {"days": [0], "start": "09:00", "end": "17:00", "timezone": "UTC"}
    )
    changed = await kit.service.rules.update(
        ANN, rule.id, RuleChanges(enabled=False, schedule=schedule)
    )
    assert not changed.enabled
    assert changed.schedule is not None
    assert changed.schedule.days == frozenset({0})
    assert changed.created_at == rule.created_at
    assert await kit.service.on_event(loitering()) == []  # disabled
    with pytest.raises(TypeError, match="colour"):  # a rule has no such field
        NewRule(name="x", colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        await kit.service.rules.update(ANN, rule.id, RuleChanges(direction="in"))  # no line
    await kit.service.rules.delete(ANN, rule.id)
    with pytest.raises(NotFoundError):
        await kit.service.rules.get(ANN, rule.id)


async def test_incidents_link_only_existing_alerts(kit: Kit) -> None:
    with pytest.raises(ValidationError, match="no alert"):
        await kit.service.incidents.create(ANN, NewIncident(title="x", alert_ids=("missing",)))
    incident = await kit.service.incidents.create(
        ANN, NewIncident(title="fence", evidence=("clip:1",))
    )
    updated = await kit.service.incidents.update(
        ANN, incident.id, IncidentChanges(description="cut wire")
    )
    assert updated.version == incident.version + 1
    await kit.service.incidents.delete(ANN, incident.id)
    with pytest.raises(NotFoundError):
        await kit.service.incidents.get(ANN, incident.id)


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh store with the camera and zone of ``kit``."""
    if request.param == "memory":
        db: Database = MemoryDatabase()
    else:
        db = await SqlDatabase.open(f"sqlite:///{tmp_path / 'argus.db'}", secret_key=b"k" * 32)
    camera = Camera(
        id="cam", name="gate", stream_url="rtsp://127.0.0.1/x", created_at=T0, updated_at=T0
    )
    await db.cameras.add(camera)
    await db.zones.add(
        Zone(id="z1", camera_id="cam", name="vault", polygon=((0, 0), (1, 0), (1, 1)))
    )
    try:
        yield db
    finally:
        await db.close()


async def test_a_confirmation_that_conflicts_keeps_neither_incident_nor_link(
    store: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The incident and the alert's change commit together: a conflict on the alert (another
    server changed it meanwhile) leaves no incident, no dangling link and no audit record."""
    published = Published()
    service = AlertService(store, published, clock=Clock())
    await service.rules.create(ANN, NewRule(name="vault", zone="vault"))
    [alert] = await service.on_event(loitering())
    acked = await service.acknowledge(ANN, alert.id)

    async def changed_meanwhile(self: object, alert: object) -> None:
        raise ConflictError("alert changed meanwhile")

    repository = SqlAlertRepository if isinstance(store, SqlDatabase) else MemoryAlertRepository
    monkeypatch.setattr(repository, "update", changed_meanwhile)
    with pytest.raises(ConflictError):
        await service.confirm(ANN, alert.id, "real")
    monkeypatch.undo()
    assert (await store.incidents.list()).total == 0
    stored = await store.alerts.get(alert.id)
    assert stored == acked
    assert stored.incident_id is None
    actions = [r.entry.action for r in await store.audit.records()]
    assert actions == ["rule.create", "alert.acknowledge"]
    # nothing announced for the confirmation
    assert published.types() == ["alert.created", "alert_group.updated", "alert.updated"]
