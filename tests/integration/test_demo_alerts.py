"""The demo's alert path by day and at night: the severities the README promises.

The demo camera's line, zone and rules (``argus serve --demo``) on the
in-memory store, the risk policy built from the settings exactly as ``argus
serve`` builds it, and a clock set inside and outside the night hours. Nothing
here reads the wall clock, so the result is the same at any hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.pipelines.scene import demo_camera
from argus.bootstrap.demo import add_demo_scene
from argus.bootstrap.policies import risk_policy
from argus.config import Settings
from argus.domain.alerts import Alert
from argus.domain.events import (
    Crowding,
    DomainEvent,
    Envelope,
    EventSource,
    LineCrossed,
    ZoneEntered,
)
from argus.services.alerts import AlertService

pytestmark = pytest.mark.anyio

DAY = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
"""Noon UTC: outside the default night hours (22:00-06:00 UTC)."""
NIGHT = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
"""01:00 UTC: inside them."""
DEMO_CONFIDENCES = (0.5, 0.75, 1.0)
"""Detection scores of objects the demo's detector is sure of (its threshold is 0.3)."""


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


async def _ignore(subject: str, envelope: Envelope) -> None:
    return None


async def demo_service(settings: Settings, clock: Clock) -> AlertService:
    """The demo camera, its line, zone and rules, and the alert service ``argus serve`` builds."""
    db = MemoryDatabase()
    camera, lines, zones = demo_camera(Path("bikes.mp4"))
    await add_demo_scene(db, camera, lines, zones)
    return AlertService(db, _ignore, risk=risk_policy(settings), clock=clock)


async def raise_one(service: AlertService, clock: Clock, event: DomainEvent) -> Alert:
    """Deliver one demo event stamped with the clock's time; its single alert."""
    envelope = Envelope.wrap(event, EventSource("argus", "demo"), clock.now)
    alerts = await service.on_event(envelope)
    assert len(alerts) == 1, alerts
    clock.now += timedelta(seconds=90)  # past the one-minute cooldowns of the demo rules
    return alerts[0]


def kerb(track: int, confidence: float) -> LineCrossed:
    return LineCrossed("kerb", track, 2, "car", "in", float(track), confidence=confidence)


def person_in_street(track: int, confidence: float) -> ZoneEntered:
    return ZoneEntered("street", track, 0, "person", float(track), confidence=confidence)


def crowded_street(second: float) -> Crowding:
    return Crowding("street", second, occupancy=3, threshold=3)


@pytest.mark.parametrize("confidence", DEMO_CONFIDENCES)
async def test_by_day_kerb_is_low_person_high_crowding_medium(
    tmp_path: Path, confidence: float
) -> None:
    clock = Clock(DAY)
    service = await demo_service(Settings(data_dir=tmp_path), clock)
    first = await raise_one(service, clock, kerb(1, confidence))
    assert first.severity == "low", first.risk
    assert (await raise_one(service, clock, person_in_street(2, confidence))).severity == "high"
    assert (await raise_one(service, clock, crowded_street(3.0))).severity == "medium"
    assert clock.now < DAY.replace(hour=22)  # still day


@pytest.mark.parametrize("confidence", DEMO_CONFIDENCES)
async def test_by_day_repeated_kerb_crossings_turn_medium(
    tmp_path: Path, confidence: float
) -> None:
    """The README's caveat: repeats within an hour lift kerb alerts, medium by the fifth."""
    clock = Clock(DAY)
    service = await demo_service(Settings(data_dir=tmp_path), clock)
    severities = [(await raise_one(service, clock, kerb(n, confidence))).severity for n in range(7)]
    assert severities[0] == "low"
    assert set(severities[4:]) == {"medium"}


@pytest.mark.parametrize("confidence", DEMO_CONFIDENCES)
async def test_at_night_kerb_is_medium_person_high_crowding_medium(
    tmp_path: Path, confidence: float
) -> None:
    clock = Clock(NIGHT)
    service = await demo_service(Settings(data_dir=tmp_path), clock)
    first = await raise_one(service, clock, kerb(1, confidence))
    assert first.severity == "medium", first.risk
    names = {part.name: part for part in first.risk.components}
    assert names["time_of_day"].value == 1.0
    assert (await raise_one(service, clock, person_in_street(2, confidence))).severity == "high"
    assert (await raise_one(service, clock, crowded_street(3.0))).severity == "medium"


async def test_night_hours_follow_the_settings(tmp_path: Path) -> None:
    """No night hours (equal start and end): 01:00 counts as day, the kerb alert stays low."""
    clock = Clock(NIGHT)
    settings = Settings(data_dir=tmp_path, risk_night_start=0, risk_night_end=0)
    service = await demo_service(settings, clock)
    assert (await raise_one(service, clock, kerb(1, 0.75))).severity == "low"


async def test_night_hours_are_local_to_the_risk_time_zone(tmp_path: Path) -> None:
    """21:30 UTC in December is 22:30 in Berlin: night there, not in UTC."""
    evening = DAY.replace(hour=21, minute=30)
    local = Settings(data_dir=tmp_path, risk_timezone="Europe/Berlin")
    clock = Clock(evening)
    assert (await raise_one(await demo_service(local, clock), clock, kerb(1, 0.75))).severity == (
        "medium"
    )
    clock = Clock(evening)
    utc = Settings(data_dir=tmp_path)
    assert (await raise_one(await demo_service(utc, clock), clock, kerb(1, 0.75))).severity == (
        "low"
    )


def test_an_unknown_risk_time_zone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        Settings(data_dir=tmp_path, risk_timezone="Mars/Olympus")
