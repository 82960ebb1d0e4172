"""Rules checked against the scene, dry runs over stored events, and severity previews.

All over the in-memory store with a fixed clock: the events are stored with
their own timestamps, so the count window, the cooldown and the schedule act
on them exactly as the live engine would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest

from argus.adapters.db.memory import MemoryDatabase
from argus.domain.actor import Actor
from argus.domain.alerts import RiskPolicy
from argus.domain.cameras import Camera, Line, Zone
from argus.domain.errors import ValidationError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.schedule import Schedule
from argus.services.alert_rules import NewRule, RuleChanges, RuleService
from argus.services.risk_policy import RiskPolicyService
from argus.services.rule_dry_run import MAX_SHOWN, RuleTrial
from argus.services.rule_scene import check_rule_scene

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday, midday UTC
ANN = Actor(principal=None, name="ann")


@dataclass
class Kit:
    db: MemoryDatabase
    rules: RuleService
    trial: RuleTrial


async def _camera(db: MemoryDatabase, camera_id: str) -> None:
    await db.cameras.add(
        Camera(
            id=camera_id,
            name=f"Camera {camera_id}",
            stream_url="rtsp://127.0.0.1/x",
            created_at=NOW,
            updated_at=NOW,
        )
    )


@pytest.fixture
async def kit() -> Kit:
    db = MemoryDatabase()
    await _camera(db, "gate")
    await _camera(db, "bare")
    await db.lines.add(Line(id="l1", camera_id="gate", name="kerb", start=(0, 0), end=(9, 9)))
    polygon = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0))
    await db.zones.add(
        Zone(id="z1", camera_id="gate", name="vault", polygon=polygon, criticality=1.0)
    )
    policies = RiskPolicyService(db, lambda: NOW, defaults=RiskPolicy())
    return Kit(db, RuleService(db, lambda: NOW, 60.0), RuleTrial(db, policies, lambda: NOW))


# --- the scene check ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("camera_id", "line", "zone", "refused"),
    [
        ("gate", "kerb", None, None),
        ("gate", None, "vault", None),
        ("gate", "door", None, "camera 'Camera gate' has no line 'door' (its lines: 'kerb')"),
        ("gate", None, "hall", "camera 'Camera gate' has no zone 'hall' (its zones: 'vault')"),
        ("bare", "kerb", None, None),  # no lines yet: a rule may come before its line
        ("unregistered", "door", None, None),  # a source the control plane holds no scene of
        (None, "kerb", None, None),  # a rule of every camera: some camera has it
        (None, "door", None, "no camera has a line 'door'"),
        (None, None, "hall", "no camera has a zone 'hall'"),
    ],
    ids=[
        "line-ok",
        "zone-ok",
        "unknown-line",
        "unknown-zone",
        "no-lines-yet",
        "unregistered-camera",
        "any-camera-ok",
        "any-camera-unknown-line",
        "any-camera-unknown-zone",
    ],
)
async def test_a_rules_line_or_zone_is_checked_against_its_camera(
    kit: Kit, camera_id: str | None, line: str | None, zone: str | None, refused: str | None
) -> None:
    if refused is None:
        await check_rule_scene(kit.db, camera_id, line, zone)
        return
    with pytest.raises(ValidationError) as caught:
        await check_rule_scene(kit.db, camera_id, line, zone)
    assert str(caught.value).startswith(refused)


async def test_create_and_update_refuse_a_missing_zone(kit: Kit) -> None:
    with pytest.raises(ValidationError, match="no zone 'hal'"):
        await kit.rules.create(ANN, NewRule(name="typo", camera_id="gate", zone="hal"))
    rule = await kit.rules.create(ANN, NewRule(name="vault", camera_id="gate", zone="vault"))
    with pytest.raises(ValidationError, match="no zone 'hall'"):
        await kit.rules.update(ANN, rule.id, RuleChanges(zone="hall"))
    # Changes that leave the camera, line and zone alone are not checked again.
    await kit.db.zones.delete("z1")
    changed = await kit.rules.update(ANN, rule.id, RuleChanges(weight=0.9))
    assert (changed.zone, changed.weight) == ("vault", 0.9)


# --- dry runs -----------------------------------------------------------------------------


async def _crossings(
    db: MemoryDatabase, seconds_ago: list[float], *, track: int | None = None, line: str = "kerb"
) -> None:
    for n, ago in enumerate(seconds_ago):
        at = NOW - timedelta(seconds=ago)
        payload = {
            "line": line,
            "direction": "in",
            "class_name": "person",
            "track_id": n if track is None else track,
            "confidence": 0.9,
        }
        event = Envelope(new_event_id(at), "line.crossed", at, EventSource("e", "gate"), payload)
        assert await db.events.add(event)


async def test_a_dry_run_fires_like_the_engine_would(kit: Kit) -> None:
    await _crossings(kit.db, [3000, 2000, 1000, 10])
    await _crossings(kit.db, [500], line="other")  # not the rule's line
    await _crossings(kit.db, [7200 + 60])  # older than the hour replayed
    rule = NewRule(name="kerb", camera_id="gate", event_types=("line.crossed",), line="kerb")
    run = await kit.trial.dry_run(ANN, rule, 1.0)
    assert (run.scanned, run.matched, run.fired_total) == (5, 4, 4)
    assert (run.since, run.until, run.truncated) == (NOW - timedelta(hours=1), NOW, False)
    stamps = [f.envelope.timestamp for f in run.fired]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    # Repeats are the draft's own earlier firings within the repeat window (an hour).
    repeats = [c.value for f in run.fired for c in f.risk.components if c.name == "repeat"]
    assert repeats == [0.6, 0.4, 0.2, 0.0]
    assert sum(run.by_severity.values()) == 4


async def test_a_dry_run_keeps_count_window_and_cooldown(kit: Kit) -> None:
    await _crossings(kit.db, [900, 890, 880, 870, 860, 100], track=7)
    windowed = NewRule(name="three", camera_id="gate", count=3, window_seconds=60)
    run = await kit.trial.dry_run(ANN, windowed, 1.0)
    assert (run.matched, run.fired_total, run.held_back) == (6, 1, 5)
    assert run.fired[0].window_count == 3
    cooled = NewRule(name="cool", camera_id="gate", cooldown_seconds=300)
    run = await kit.trial.dry_run(ANN, cooled, 1.0)
    assert (run.fired_total, run.held_back) == (2, 4)  # the track is silenced for 5 min


async def test_a_dry_run_keeps_the_schedule(kit: Kit) -> None:
    await _crossings(kit.db, [3000, 60])  # 11:10 and 11:59 UTC
    schedule = Schedule(start=time(11, 30), end=time(13, 0), timezone="UTC")
    run = await kit.trial.dry_run(ANN, NewRule(name="s", schedule=schedule), 1.0)
    assert (run.matched, run.outside_schedule, run.fired_total) == (2, 1, 1)


async def test_a_dry_run_of_a_disabled_draft_still_shows_what_it_would_do(kit: Kit) -> None:
    await _crossings(kit.db, [60])
    run = await kit.trial.dry_run(ANN, NewRule(name="off", enabled=False), 1.0)
    assert run.fired_total == 1


async def test_a_dry_run_lists_the_newest_firings_and_counts_all(kit: Kit) -> None:
    await _crossings(kit.db, [float(s) for s in range(1, MAX_SHOWN + 11)])
    run = await kit.trial.dry_run(ANN, NewRule(name="all"), 1.0)
    assert (run.fired_total, len(run.fired)) == (MAX_SHOWN + 10, MAX_SHOWN)
    assert run.fired[0].envelope.timestamp == NOW - timedelta(seconds=1)


@pytest.mark.parametrize("hours", [0.0, -1.0, 24.5], ids=["zero", "negative", "over-a-day"])
async def test_a_dry_run_refuses_a_bad_period(kit: Kit, hours: float) -> None:
    with pytest.raises(ValidationError, match="hours"):
        await kit.trial.dry_run(ANN, NewRule(name="x"), hours)


# --- severity previews --------------------------------------------------------------------


async def test_the_preview_counts_the_zones_criticality(kit: Kit) -> None:
    """The issue's case: a weight 0.8 rule is medium by day; a critical zone makes it high."""
    plain = await kit.trial.preview(ANN, NewRule(name="w", camera_id="gate", weight=0.8))
    critical = await kit.trial.preview(
        ANN, NewRule(name="w", camera_id="gate", zone="vault", weight=0.8)
    )
    assert critical.zone_criticality == 1.0
    labels = [(s.night, s.repeating) for s in plain.scenarios]
    assert labels == [(False, False), (False, True), (True, False), (True, True)]
    for before, after in zip(plain.scenarios, critical.scenarios, strict=True):
        assert after.risk.score > before.risk.score
    day = plain.scenarios[0]
    assert day.risk.severity == "medium"
    assert day.local_time.hour == 12
    assert plain.scenarios[2].local_time.hour == 22  # the night starts at 22:00
    assert plain.scenarios[3].risk.score > plain.scenarios[2].risk.score  # repeats add risk


async def test_the_preview_keeps_the_rules_severity_bounds(kit: Kit) -> None:
    preview = await kit.trial.preview(
        ANN, NewRule(name="floor", weight=0.0, severity_floor="high"), confidence=0.0
    )
    assert preview.camera_id in {"gate", "bare"}  # the first listed, for every camera
    assert {s.risk.severity for s in preview.scenarios} == {"high"}


async def test_the_preview_picks_a_camera_that_has_the_rules_zone(kit: Kit) -> None:
    await _camera(kit.db, "yard")
    polygon = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0))
    await kit.db.zones.add(
        Zone(id="z2", camera_id="yard", name="pond", polygon=polygon, criticality=0.2)
    )
    preview = await kit.trial.preview(ANN, NewRule(name="pond", zone="pond"))
    assert (preview.camera_id, preview.zone_criticality) == ("yard", 0.2)
