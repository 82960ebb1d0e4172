"""``AlertService`` on the in-memory store: raising, lifecycle, escalation, incidents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from argus.adapters.db.memory import MemoryDatabase
from argus.domain.alerts import EscalationPolicy, InvalidTransitionError
from argus.domain.cameras import Camera, Zone
from argus.domain.errors import NotFoundError, ValidationError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.ports.alerts import AlertFilter
from argus.services.alerts import ALERTS_SUBJECT, AlertService

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


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
    await kit.service.create_rule({"name": "vault", "zone": "vault", "weight": 1.0})
    event = loitering()
    [alert] = await kit.service.on_event(event)
    assert alert.state == "notified"
    assert alert.severity == "high"
    assert alert.ack_deadline == T0 + timedelta(seconds=60)
    assert {c.name: c.value for c in alert.risk.components}["zone"] == 1.0  # the zone's criticality
    assert kit.published.types() == ["alert.created"]
    assert kit.published.messages[0][1].payload["state"] == "notified"
    assert all(subject == ALERTS_SUBJECT for subject, _ in kit.published.messages)
    assert await kit.service.on_event(event) == []  # redelivered: nothing new
    assert (await kit.service.list_alerts()).total == 1


async def test_rules_that_do_not_match_raise_nothing(kit: Kit) -> None:
    await kit.service.create_rule({"name": "vault", "zone": "vault", "min_dwell_seconds": 300.0})
    assert await kit.service.on_event(loitering(dwell=10.0)) == []


async def test_repeat_activity_raises_the_risk(kit: Kit) -> None:
    await kit.service.create_rule({"name": "vault", "zone": "vault", "weight": 0.3})
    [first] = await kit.service.on_event(loitering())
    kit.clock.now = T0 + timedelta(seconds=5)
    [second] = await kit.service.on_event(loitering(T0 + timedelta(seconds=5)))
    assert second.risk.score > first.risk.score


async def test_acknowledge_confirm_creates_an_incident(kit: Kit) -> None:
    await kit.service.create_rule({"name": "vault", "zone": "vault"})
    [alert] = await kit.service.on_event(loitering())
    with pytest.raises(InvalidTransitionError):
        await kit.service.confirm(alert.id, "ann")  # not acknowledged yet
    assert (await kit.service.list_incidents()).total == 0
    acked = await kit.service.acknowledge(alert.id, "ann", "looking")
    assert acked.ack_deadline is None
    confirmed, incident = await kit.service.confirm(alert.id, "ann", "real", title="Vault")
    assert confirmed.state == "confirmed"
    assert confirmed.incident_id == incident.id
    assert incident.alert_ids == (alert.id,)
    assert incident.evidence == (f"event:{alert.event_id}",)
    assert incident.confirmed_by == "ann"
    working = await kit.service.set_incident_status(incident.id, "in_progress", "ann")
    noted = await kit.service.add_incident_note(working.id, "ann", "police on site")
    assert [n.text for n in noted.notes] == ["police on site"]
    with pytest.raises(InvalidTransitionError):
        await kit.service.set_incident_status(incident.id, "in_progress", "ann")


async def test_dismissed_alerts_are_kept_as_feedback(kit: Kit) -> None:
    await kit.service.create_rule({"name": "vault", "zone": "vault"})
    [alert] = await kit.service.on_event(loitering())
    await kit.service.acknowledge(alert.id, "ann")
    closed = await kit.service.dismiss(alert.id, "ann", "cleaner")
    assert closed.state == "false_positive"
    feedback = await kit.service.list_alerts(AlertFilter(states=("false_positive",)))
    assert [a.id for a in feedback.items] == [alert.id]
    assert feedback.items[0].history[-1].note == "cleaner"


async def test_escalation_survives_a_new_service_and_happens_once(kit: Kit) -> None:
    await kit.service.create_rule({"name": "vault", "zone": "vault", "weight": 1.0})
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
    acked = await kit.service.acknowledge(alert.id, "supervisor")
    assert acked.state == "acknowledged"


async def test_a_failing_publisher_never_loses_the_alert(kit: Kit) -> None:
    async def broken(subject: str, envelope: Envelope) -> None:
        raise ConnectionError("broker down")

    service = AlertService(kit.db, broken, clock=kit.clock)
    await service.create_rule({"name": "vault", "zone": "vault"})
    [alert] = await service.on_event(loitering())
    assert (await kit.db.alerts.get(alert.id)).state == "notified"
    assert service.publish_failures == 1


async def test_rule_updates_and_validation(kit: Kit) -> None:
    rule = await kit.service.create_rule({"name": "vault", "zone": "vault"})
    changed = await kit.service.update_rule(
        rule.id,
        {
            "enabled": False,
            "schedule": {"days": [0], "start": "09:00", "end": "17:00", "timezone": "UTC"},
        },
    )
    assert not changed.enabled
    assert changed.schedule is not None
    assert changed.schedule.days == frozenset({0})
    assert changed.created_at == rule.created_at
    assert await kit.service.on_event(loitering()) == []  # disabled
    with pytest.raises(ValidationError, match="unknown rule fields"):
        await kit.service.create_rule({"name": "x", "colour": "red"})
    with pytest.raises(ValidationError):
        await kit.service.update_rule(rule.id, {"direction": "in"})  # no line
    await kit.service.delete_rule(rule.id)
    with pytest.raises(NotFoundError):
        await kit.service.get_rule(rule.id)


async def test_incidents_link_only_existing_alerts(kit: Kit) -> None:
    with pytest.raises(ValidationError, match="no alert"):
        await kit.service.create_incident({"title": "x", "alert_ids": ["missing"]}, "ann")
    incident = await kit.service.create_incident({"title": "fence", "evidence": ["clip:1"]}, "ann")
    updated = await kit.service.update_incident(incident.id, {"description": "cut wire"})
    assert updated.version == incident.version + 1
    await kit.service.delete_incident(incident.id)
    with pytest.raises(NotFoundError):
        await kit.service.get_incident(incident.id)
