"""Alert storms: groups, repeats, snoozes, maintenance windows, group steps.

The domain values (``domain.alerts.groups``, ``domain.alerts.suppression``) on
their own, then ``AlertService`` raising alerts on the in-memory store with a
fake clock. The risk policy comes through ``risk_source`` and weighs only the
rule, so a rule's weight sets its alerts' severity.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from argus.adapters.db.memory import MemoryDatabase
from argus.api.schemas.live_server import AlertGroupUpdatedMessage, server_message
from argus.domain.actor import Actor
from argus.domain.alerts import Alert, InvalidTransitionError, RiskPolicy
from argus.domain.alerts.groups import AlertGroup, group_key, new_group, subject_of
from argus.domain.alerts.suppression import MaintenanceWindow, Snooze, suppression_reason
from argus.domain.cameras import Camera
from argus.domain.errors import ValidationError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.schedule import Schedule
from argus.ports.alert_groups import GroupFilter
from argus.services.alert_rules import NewRule, RuleChanges
from argus.services.alerts import AlertService
from argus.services.live import AlertUpdate
from argus.services.suppression import NewSnooze, NewWindow
from tests.integration.test_alerts_contract import _alert

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ANN = Actor(principal=None, name="ann")


# --- the domain --------------------------------------------------------------------------------


def test_subject_and_key_name_the_zone_or_line() -> None:
    assert subject_of({"zone": "vault", "line": "kerb"}) == "vault"
    assert subject_of({"line": "kerb"}) == "kerb"
    assert subject_of({"zone": 3}) == ""
    assert group_key("r", "c", "vault") == "r|c|vault"


def _group(**changes: object) -> AlertGroup:
    group = AlertGroup(
        id="g",
        key="r|c|",
        rule_id="r",
        rule_name="rule",
        camera_id="c",
        subject="",
        first_seen=T0,
        last_seen=T0,
        count=1,
        open_count=1,
        latest_alert_id="a1",
        first_alert_id="a1",
        max_severity="medium",
        notified_severity="medium",
    )
    return replace(group, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("notified", "severity", "repeat"),
    [
        ("medium", "low", True),
        ("medium", "medium", True),
        ("medium", "high", False),
        (None, "low", False),
    ],
    ids=["lower", "same", "higher", "never-notified"],
)
def test_a_joining_alert_repeats_only_what_was_notified(
    notified: str | None, severity: str, repeat: bool
) -> None:
    assert _group(notified_severity=notified).is_repeat(severity) is repeat  # type: ignore[arg-type]


def test_a_group_takes_alerts_within_its_window_while_open() -> None:
    group = _group()
    window = timedelta(minutes=10)
    assert group.takes(T0 + window, window)
    assert not group.takes(T0 + window + timedelta(seconds=1), window)
    assert not group.with_open(0).takes(T0, window)


def test_a_group_round_trips_and_refuses_bad_counts() -> None:
    group = _group()
    assert AlertGroup.from_dict(group.to_dict()) == group
    with pytest.raises(ValidationError):
        _group(open_count=2)
    with pytest.raises(ValidationError):
        _group(last_seen=T0 - timedelta(seconds=1))
    with pytest.raises(ValidationError):
        AlertGroup.from_dict({"id": "g"})


def test_suppression_names_the_window_first_then_the_snooze() -> None:
    snooze = Snooze("s", "r", None, T0 + timedelta(hours=1), "noisy", "ann", T0)
    window = MaintenanceWindow("w", "roof works", ("c",), T0, T0 + timedelta(hours=1), "", "a", T0)
    at = T0 + timedelta(minutes=5)
    both = suppression_reason("r", "Kerb", "c", at, snoozes=[snooze], windows=[window])
    assert both == "maintenance: roof works"
    only = suppression_reason("r", "Kerb", "d", at, snoozes=[snooze], windows=[window])
    assert only == "snoozed: rule Kerb until 2026-11-23T13:00:00Z"
    later = T0 + timedelta(hours=1)
    assert suppression_reason("r", "Kerb", "c", later, snoozes=[snooze], windows=[window]) is None
    with pytest.raises(ValidationError):
        Snooze("s", None, None, T0 + timedelta(hours=1), "", "ann", T0)
    with pytest.raises(ValidationError):
        MaintenanceWindow("w", "x", (), T0, T0, "", "a", T0)
    assert Snooze.from_dict(snooze.to_dict()) == snooze
    assert MaintenanceWindow.from_dict(window.to_dict()) == window


# --- the service -------------------------------------------------------------------------------


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Published:
    envelopes: list[Envelope] = field(default_factory=list)

    async def __call__(self, subject: str, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def types(self) -> list[str]:
        return [e.type for e in self.envelopes]


@dataclass
class Kit:
    db: MemoryDatabase
    clock: Clock
    published: Published
    service: AlertService


@pytest.fixture
async def kit() -> Kit:
    db, clock, published = MemoryDatabase(), Clock(), Published()
    for camera_id in ("cam", "other"):
        camera = Camera(
            id=camera_id,
            name=camera_id,
            stream_url="rtsp://127.0.0.1/x",
            created_at=T0,
            updated_at=T0,
        )
        await db.cameras.add(camera)

    async def policy() -> RiskPolicy:
        return RiskPolicy(weights={"rule": 1.0})

    service = AlertService(db, published, clock=clock, risk_source=policy)
    return Kit(db, clock, published, service)


def crossing(at: datetime, camera: str = "cam", line: str = "kerb") -> Envelope:
    payload = {"line": line, "direction": "in", "track_id": 1, "class_name": "person"}
    return Envelope(new_event_id(at), "line.crossed", at, EventSource("edge", camera), payload)


async def _raise(kit: Kit, seconds: float, camera: str = "cam") -> list[Alert]:
    kit.clock.now = T0 + timedelta(seconds=seconds)
    return list(await kit.service.on_event(crossing(kit.clock.now, camera)))


async def test_a_storm_makes_one_group_and_one_waiting_alert(kit: Kit) -> None:
    await kit.service.rules.create(ANN, NewRule(name="kerb", line="kerb", weight=0.5))
    for n in range(5):
        await _raise(kit, n * 60)
    page = await kit.db.alerts.list()
    alerts = sorted(page.items, key=lambda a: a.created_at)
    first, repeats = alerts[0], alerts[1:]
    assert first.severity == "medium"  # the policy weighs only the rule
    assert not first.repeat
    assert first.ack_deadline is not None
    assert all(a.repeat and a.ack_deadline is None for a in repeats)
    assert {a.group_id for a in alerts} == {first.group_id}
    group = await kit.db.alert_groups.get(first.group_id or "")
    assert (group.count, group.open_count, group.state) == (5, 5, "open")
    assert (group.first_alert_id, group.latest_alert_id) == (first.id, alerts[-1].id)
    assert (group.first_seen, group.last_seen) == (T0, T0 + timedelta(minutes=4))
    assert kit.published.types() == ["alert.created", "alert_group.updated"] * 5
    assert kit.published.envelopes[-1].payload["count"] == 5
    kit.clock.now = T0 + timedelta(hours=2)
    assert [a.id for a in await kit.service.escalate_due()] == [first.id]  # repeats never


async def test_past_the_window_a_new_group_opens(kit: Kit) -> None:
    await kit.service.rules.create(ANN, NewRule(name="kerb", line="kerb", weight=0.5))
    await _raise(kit, 0)
    await _raise(kit, 601)  # 10 min 1 s after the last alert
    await _raise(kit, 602, camera="other")  # another camera: another key
    groups = await kit.db.alert_groups.list()
    assert groups.total == 3
    assert all(g.count == 1 for g in groups.items)
    assert not any(a.repeat for a in (await kit.db.alerts.list()).items)


async def test_a_more_severe_repeat_is_notified_and_escalates(kit: Kit) -> None:
    rule = await kit.service.rules.create(ANN, NewRule(name="kerb", line="kerb", weight=0.1))
    [low] = await _raise(kit, 0)
    await kit.service.rules.update(ANN, rule.id, RuleChanges(weight=0.9))
    [high] = await _raise(kit, 30)
    [again] = await _raise(kit, 60)
    assert [a.severity for a in (low, high, again)] == ["low", "high", "high"]
    assert not high.repeat
    assert high.ack_deadline is not None
    assert again.repeat
    assert again.ack_deadline is None
    group = await kit.db.alert_groups.get(high.group_id or "")
    assert (group.max_severity, group.notified_severity, group.count) == ("high", "high", 3)


async def test_a_snoozed_rule_stores_suppressed_alerts_then_notifies_again(kit: Kit) -> None:
    rule = await kit.service.rules.create(ANN, NewRule(name="kerb", line="kerb", weight=0.5))
    until = T0 + timedelta(minutes=5)
    snooze = await kit.service.suppression.snooze(ANN, NewSnooze(until=until, rule_id=rule.id))
    [quiet] = await _raise(kit, 60)
    assert quiet.suppressed == "snoozed: rule kerb until 2026-11-23T12:05:00Z"
    assert quiet.ack_deadline is None
    assert not quiet.repeat
    [after] = await _raise(kit, 360)  # the snooze ended; the same group (within the window)
    assert after.suppressed is None
    assert not after.repeat
    assert after.ack_deadline is not None
    assert after.group_id == quiet.group_id
    snoozes = await kit.service.suppression.list_snoozes(active=False)
    assert snoozes.items == (snooze,)
    assert (await kit.service.suppression.list_snoozes()).total == 0  # ended
    actions = [r.entry.action for r in await kit.db.audit.records()]
    assert "snooze.create" in actions


async def test_a_maintenance_window_suppresses_its_cameras_only(kit: Kit) -> None:
    await kit.service.rules.create(ANN, NewRule(name="kerb", line="kerb", weight=0.5))
    window = NewWindow(
        name="roof works", start=T0, end=T0 + timedelta(hours=1), camera_ids=("cam",)
    )
    made = await kit.service.suppression.add_window(ANN, window)
    [inside] = await _raise(kit, 10)
    [elsewhere] = await _raise(kit, 20, camera="other")
    assert inside.suppressed == "maintenance: roof works"
    assert elsewhere.suppressed is None
    await kit.service.suppression.delete_window(ANN, made.id)
    [later] = await _raise(kit, 30)
    assert later.suppressed is None
    assert not later.repeat
    with pytest.raises(ValidationError):
        await kit.service.suppression.snooze(ANN, NewSnooze(until=T0 + timedelta(days=31)))


async def test_a_group_is_acknowledged_and_dismissed_in_one_step(kit: Kit) -> None:
    await kit.service.rules.create(ANN, NewRule(name="kerb", line="kerb", weight=0.5))
    for n in range(4):
        await _raise(kit, n)
    [group] = (await kit.db.alert_groups.list()).items
    kit.published.envelopes.clear()
    with pytest.raises(InvalidTransitionError):
        await kit.service.groups.dismiss(ANN, group.id, "nothing acknowledged yet")
    step = await kit.service.groups.acknowledge(ANN, group.id, "seen")
    assert len(step.alerts) == 4
    assert all(a.state == "acknowledged" and a.ack_deadline is None for a in step.alerts)
    assert kit.published.types() == ["alert.updated"] * 4 + ["alert_group.updated"]
    with pytest.raises(InvalidTransitionError):
        await kit.service.groups.acknowledge(ANN, group.id)
    with pytest.raises(ValidationError):
        await kit.service.groups.dismiss(ANN, group.id, "  ")
    dismissed = await kit.service.groups.dismiss(ANN, group.id, "a delivery van")
    assert (dismissed.group.state, dismissed.group.open_count) == ("closed", 0)
    assert {a.state for a in (await kit.db.alerts.list()).items} == {"false_positive"}
    actions = [r.entry.action for r in await kit.db.audit.records()]
    assert actions.count("alert_group.acknowledge") == 1
    assert actions.count("alert_group.dismiss") == 1
    [fresh] = await _raise(kit, 10)  # the closed group takes no more alerts
    assert fresh.group_id != group.id
    assert not fresh.repeat
    closed = await kit.service.groups.list(GroupFilter(state="closed"))
    assert [g.id for g in closed.items] == [group.id]


async def test_single_alert_steps_keep_the_group_count(kit: Kit) -> None:
    await kit.service.rules.create(ANN, NewRule(name="kerb", line="kerb", weight=0.5))
    [alert] = await _raise(kit, 0)
    await kit.service.acknowledge(ANN, alert.id)
    await kit.service.dismiss(ANN, alert.id, "wind")
    group = await kit.db.alert_groups.get(alert.group_id or "")
    assert (group.open_count, group.state) == (0, "closed")
    assert kit.published.envelopes[-1].type == "alert_group.updated"


async def test_a_redelivered_event_is_not_counted_twice(kit: Kit) -> None:
    await kit.service.rules.create(ANN, NewRule(name="kerb", line="kerb", weight=0.5))
    event = crossing(T0)
    await kit.service.on_event(event)
    assert await kit.service.on_event(event) == []
    [group] = (await kit.db.alert_groups.list()).items
    assert group.count == 1


def test_new_group_of_a_suppressed_alert_was_never_notified() -> None:
    alert = _alert(suppressed="maintenance: x", group_id="g")
    group = new_group("g", alert, "yard")
    assert group.notified_severity is None
    assert group.key == f"{alert.rule_id}|{alert.camera_id}|yard"


def test_a_group_update_goes_out_on_the_websocket_as_its_own_message() -> None:
    group = _group()
    message = server_message(AlertUpdate("alert_group.updated", "alerts", group.to_dict()))
    assert isinstance(message, AlertGroupUpdatedMessage)
    assert message.model_dump(mode="json") == {
        "type": "alert_group.updated",
        "channel": "alerts",
        "group": group.to_dict(),
    }


def test_a_recurring_window_applies_only_at_its_weekly_local_hours() -> None:
    weekly = Schedule.from_dict(
        {"days": [1], "start": "02:00", "end": "04:00", "timezone": "Europe/Berlin"}
    )
    window = MaintenanceWindow(
        "w", "backups", (), T0, T0 + timedelta(days=30), "", "admin", T0, recurrence=weekly
    )
    tuesday = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 02:30 in Berlin
    assert window.applies("cam", tuesday)
    assert not window.applies("cam", tuesday + timedelta(hours=3))  # 05:30 in Berlin
    assert not window.applies("cam", tuesday + timedelta(days=1))  # Wednesday
    assert not window.applies("cam", tuesday + timedelta(days=35))  # after its end
    assert MaintenanceWindow.from_dict(window.to_dict()) == window


async def test_a_zero_window_turns_grouping_off() -> None:
    db, clock = MemoryDatabase(), Clock()
    service = AlertService(db, Published(), clock=clock, group_window=timedelta(0))
    await service.rules.create(ANN, NewRule(name="kerb", line="kerb"))
    for n in range(3):
        clock.now = T0 + timedelta(seconds=n)
        await service.on_event(crossing(clock.now))
    alerts = (await db.alerts.list()).items
    assert len({a.group_id for a in alerts}) == 3
    assert not any(a.repeat for a in alerts)
    with pytest.raises(ValidationError):
        AlertService(db, Published(), group_window=timedelta(seconds=-1))


async def test_a_camera_scope_lists_only_its_snoozes_and_windows(kit: Kit) -> None:
    rule = await kit.service.rules.create(ANN, NewRule(name="kerb", line="kerb"))
    suppression = kit.service.suppression
    until = T0 + timedelta(hours=1)
    everywhere = await suppression.snooze(ANN, NewSnooze(until=until, rule_id=rule.id))
    mine = await suppression.snooze(ANN, NewSnooze(until=until, camera_id="cam"))
    await suppression.snooze(ANN, NewSnooze(until=until, camera_id="other"))
    seen = await suppression.list_snoozes(camera_ids=("cam",))
    assert {s.id for s in seen.items} == {everywhere.id, mine.id}
    assert seen.total == 2
    window = NewWindow(name="w", start=T0, end=until, camera_ids=("other",))
    await suppression.add_window(ANN, window)
    all_cameras = await suppression.add_window(ANN, replace(window, camera_ids=()))
    assert [w.id for w in (await suppression.list_windows(camera_ids=("cam",))).items] == [
        all_cameras.id
    ]
    assert (await suppression.list_windows()).total == 2
