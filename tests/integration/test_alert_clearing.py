"""Clearing alerts: a clearing event closes the open alerts of the condition it ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from argus.adapters.db.memory import MemoryDatabase
from argus.domain.actor import Actor
from argus.domain.alerts import ALERT_TRANSITIONS, CLEARABLE_ALERT_STATES, OPEN_ALERT_STATES
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.services.alert_rules import NewRule
from argus.services.alerts import AlertService

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ANN = Actor(principal=None, name="ann")


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Published:
    types: list[str] = field(default_factory=list)
    payloads: list[dict[str, object]] = field(default_factory=list)

    async def __call__(self, subject: str, envelope: Envelope) -> None:
        self.types.append(envelope.type)
        self.payloads.append(dict(envelope.payload))


def node_event(kind: str, at: datetime, node: str = "node-1") -> Envelope:
    return Envelope(
        event_id=new_event_id(at),
        type=kind,
        timestamp=at,
        source=EventSource(node, f"node:{node}"),
        payload={"node_id": node},
    )


@pytest.fixture
async def service() -> tuple[AlertService, MemoryDatabase, Clock, Published]:
    db, clock, published = MemoryDatabase(), Clock(), Published()
    alerts = AlertService(db, published, clock=clock)
    await alerts.rules.create(ANN, NewRule(name="node down", event_types=("node.offline",)))
    return alerts, db, clock, published


def test_cleared_is_terminal_and_reachable_from_every_clearable_state() -> None:
    assert ALERT_TRANSITIONS["cleared"] == frozenset()
    assert "cleared" not in OPEN_ALERT_STATES
    for state, targets in ALERT_TRANSITIONS.items():
        assert ("cleared" in targets) == (state in CLEARABLE_ALERT_STATES)
    assert {"new", "notified", "escalated", "acknowledged"} == CLEARABLE_ALERT_STATES


async def test_node_online_clears_the_open_node_offline_alert(
    service: tuple[AlertService, MemoryDatabase, Clock, Published],
) -> None:
    alerts, db, clock, published = service
    [raised] = await alerts.on_event(node_event("node.offline", T0))
    [other] = await alerts.on_event(node_event("node.offline", T0, node="node-2"))
    clock.now = T0 + timedelta(seconds=90)
    online = node_event("node.online", clock.now)
    [cleared] = await alerts.clear_by(online)
    assert cleared.id == raised.id
    assert cleared.state == "cleared"
    assert cleared.ack_deadline is None  # escalation stops
    step = cleared.history[-1]
    assert (step.to_state, step.actor) == ("cleared", "system")
    assert online.event_id in step.note
    assert "node.online" in step.note
    assert (await db.alerts.get(other.id)).state == "notified"  # another node: untouched
    assert published.types[-2:] == ["alert.updated", "alert_group.updated"]  # its group closes
    assert published.payloads[-1]["state"] == "closed"
    clock.now += timedelta(hours=1)
    assert [a.id for a in await alerts.escalate_due()] == [other.id]
    assert (await db.alerts.get(raised.id)).state == "cleared"
    page = await db.audit.list()
    records = [r.entry for r in page.items if r.entry.action == "alert.clear"]
    assert [r.target for r in records] == [f"alert:{raised.id}"]
    assert records[0].actor == "system"
    assert await alerts.clear_by(online) == []  # a replay clears nothing twice


async def test_an_acknowledged_alert_is_cleared_but_a_closed_one_is_not(
    service: tuple[AlertService, MemoryDatabase, Clock, Published],
) -> None:
    alerts, db, clock, _ = service
    [acked] = await alerts.on_event(node_event("node.offline", T0))
    await alerts.acknowledge(ANN, acked.id)
    [closed] = await alerts.on_event(node_event("node.offline", T0 + timedelta(seconds=1)))
    await alerts.acknowledge(ANN, closed.id)
    await alerts.dismiss(ANN, closed.id)
    clock.now = T0 + timedelta(seconds=5)
    [cleared] = await alerts.clear_by(node_event("node.online", clock.now))
    assert cleared.id == acked.id
    assert (await db.alerts.get(closed.id)).state == "false_positive"


async def test_events_that_clear_nothing_and_later_alerts_are_left_alone(
    service: tuple[AlertService, MemoryDatabase, Clock, Published],
) -> None:
    alerts, _, _, _ = service
    [later] = await alerts.on_event(node_event("node.offline", T0 + timedelta(minutes=5)))
    assert await alerts.clear_by(node_event("node.offline", T0)) == []
    # A clearing event older than the alert's event ends an earlier condition, not this one.
    assert await alerts.clear_by(node_event("node.online", T0)) == []
    assert later.state == "notified"
