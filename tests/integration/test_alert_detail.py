"""An alert's detail: its overlay (line, box, path) and undoing a dismissal, over a memory store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from argus.adapters.db.memory import MemoryDatabase
from argus.domain.actor import Actor
from argus.domain.alerts import InvalidTransitionError
from argus.domain.alerts.lifecycle import DISMISSAL_UNDO_WINDOW
from argus.domain.cameras import Camera, Line, Zone
from argus.domain.event_payloads import LineCrossed, TracksMinute
from argus.domain.events import Envelope, EventSource
from argus.services.alert_rules import NewRule
from argus.services.alerts import AlertService

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 12, 6, 12, 0, 30, tzinfo=UTC)
ANN = Actor(principal=None, name="ann")
CAMERA = "cam-1"
SOURCE = EventSource("node-1", CAMERA)


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Published:
    types: list[str] = field(default_factory=list)

    async def __call__(self, subject: str, envelope: Envelope) -> None:
        self.types.append(envelope.type)


@dataclass
class World:
    alerts: AlertService
    db: MemoryDatabase
    clock: Clock
    published: Published


@pytest.fixture
async def world() -> World:
    db, clock, published = MemoryDatabase(), Clock(), Published()
    await db.cameras.add(Camera(id=CAMERA, name="Gate", stream_url="rtsp://cam/1"))
    await db.lines.add(Line("l1", CAMERA, "kerb", (100.0, 50.0), (100.0, 300.0), in_label="east"))
    await db.zones.add(Zone("z1", CAMERA, "yard", ((0.0, 0.0), (50.0, 0.0), (50.0, 50.0))))
    alerts = AlertService(db, published, clock=clock)
    rule = NewRule(name="kerb", camera_id=CAMERA, event_types=("line.crossed",), line="kerb")
    await alerts.rules.create(ANN, rule)
    return World(alerts, db, clock, published)


def crossing(track_id: int | None = 7) -> Envelope:
    event = LineCrossed(
        line="kerb",
        track_id=track_id if track_id is not None else 0,
        class_id=0,
        class_name="person",
        direction="in",
        timestamp=30.0,
        confidence=0.9,
    )
    return Envelope.wrap(event, SOURCE, T0)


def trajectory_log(track_id: int = 7) -> Envelope:
    """The minute's log: the track at 29.8 s and 30.2 s, crossing x = 100."""
    log = TracksMinute(
        frame_width=640,
        frame_height=360,
        run=1,
        part=0,
        dropped=0,
        classes=("person",),
        tracks=((track_id, 0, 298, 90, 200, 100, 302, 110, 200, 100),),
    )
    return Envelope.wrap(log, SOURCE, T0.replace(second=0))


async def raised(world: World, envelope: Envelope) -> str:
    [alert] = await world.alerts.on_event(envelope)
    return alert.id


async def test_the_overlay_has_the_events_line_and_the_objects_box_and_path(world: World) -> None:
    alert_id = await raised(world, crossing())
    await world.db.events.add(trajectory_log())
    overlay = await world.alerts.overlays.of(ANN, alert_id)
    [line] = overlay.shapes
    assert (line.kind, line.name, line.points, line.in_label) == (
        "line",
        "kerb",
        ((100.0, 50.0), (100.0, 300.0)),
        "east",
    )
    assert (overlay.frame_width, overlay.frame_height) == (640, 360)
    assert overlay.box is not None
    x1, y1, x2, y2 = overlay.box.xyxy
    assert (x1 + x2) / 2 == pytest.approx(100.0, abs=0.1)
    assert (y1, y2) == (100.0, 200.0)
    assert [(p.x, p.y) for p in overlay.path] == [(90.0, 200.0), (110.0, 200.0)]
    assert "width" in overlay.note


async def test_a_fresh_alert_says_its_box_follows_and_a_late_one_that_it_has_none(
    world: World,
) -> None:
    alert_id = await raised(world, crossing())
    overlay = await world.alerts.overlays.of(ANN, alert_id)
    assert overlay.box is None
    assert overlay.frame_width is None
    assert "follows" in overlay.note
    assert [s.name for s in overlay.shapes] == ["kerb"]
    world.clock.now = T0 + timedelta(minutes=5)
    later = await world.alerts.overlays.of(ANN, alert_id)
    assert "no samples" in later.note


async def test_a_removed_line_is_named_as_missing(world: World) -> None:
    alert_id = await raised(world, crossing())
    await world.db.lines.delete("l1")
    overlay = await world.alerts.overlays.of(ANN, alert_id)
    assert overlay.shapes == ()
    assert "no longer on the camera" in overlay.note


async def test_a_dismissal_is_undone_back_to_acknowledged_and_audited(world: World) -> None:
    alert_id = await raised(world, crossing())
    await world.alerts.acknowledge(ANN, alert_id)
    await world.alerts.dismiss(ANN, alert_id, "a cat")
    world.clock.now = T0 + DISMISSAL_UNDO_WINDOW - timedelta(seconds=1)
    undone = await world.alerts.undo_dismissal(ANN, alert_id, "it was a person")
    assert undone.state == "acknowledged"
    assert (undone.history[-1].from_state, undone.history[-1].note) == (
        "false_positive",
        "it was a person",
    )
    assert world.published.types[-1] in {"alert.updated", "alert_group.updated"}
    records = await world.db.audit.records(target=f"alert:{alert_id}")
    assert [r.entry.action for r in records][-1] == "alert.undo_dismiss"
    group = await world.db.alert_groups.get(str(undone.group_id))
    assert group.open_count == 1
    # It can be decided again: confirmed this time.
    confirmed, incident = await world.alerts.confirm(ANN, alert_id)
    assert confirmed.incident_id == incident.id


async def test_a_dismissal_is_final_after_the_window(world: World) -> None:
    alert_id = await raised(world, crossing())
    await world.alerts.acknowledge(ANN, alert_id)
    await world.alerts.dismiss(ANN, alert_id, "a cat")
    world.clock.now = T0 + DISMISSAL_UNDO_WINDOW + timedelta(seconds=1)
    with pytest.raises(InvalidTransitionError, match="final"):
        await world.alerts.undo_dismissal(ANN, alert_id)
    assert (await world.alerts.get_alert(alert_id)).state == "false_positive"


async def test_only_a_dismissed_alert_can_be_undone(world: World) -> None:
    alert_id = await raised(world, crossing())
    with pytest.raises(InvalidTransitionError, match="not dismissed"):
        await world.alerts.undo_dismissal(ANN, alert_id)
    assert (await world.alerts.get_alert(alert_id)).state == "notified"
