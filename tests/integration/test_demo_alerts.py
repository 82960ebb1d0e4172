"""The demo's alert path by day and at night: the severities the README promises.

The demo camera's line, zone and rules (``argus serve --demo``) on the
in-memory store, the risk policy built from the settings exactly as ``argus
serve`` builds it (``RiskPolicyService`` over the settings' defaults), and a
clock set inside and outside the night hours of the site's time zone. Nothing
here reads the wall clock or depends on the machine's zone (the site's zone
is always given), so the result is the same anywhere at any hour. The
README's demo table is parsed and compared with what the demo produces.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.pipelines.scene import demo_camera
from argus.bootstrap.demo import add_demo_scene
from argus.bootstrap.policies import risk_policy, site_defaults
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
from argus.services.risk_policy import RiskPolicyService

pytestmark = pytest.mark.anyio

BERLIN = ZoneInfo("Europe/Berlin")
DAY = datetime(2026, 12, 6, 12, 0, tzinfo=BERLIN)
"""Noon in Berlin: outside the default night hours (22:00-06:00 local time)."""
NIGHT = datetime(2026, 12, 6, 1, 0, tzinfo=BERLIN)
"""01:00 in Berlin (00:00 UTC): inside them."""
DEMO_CONFIDENCES = (0.5, 0.75, 1.0)
"""Detection scores of objects the demo's detector is sure of (its threshold is 0.3)."""
README = Path(__file__).resolve().parents[2] / "README.md"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


async def _ignore(subject: str, envelope: Envelope) -> None:
    return None


def berlin(tmp_path: Path, **changes: object) -> Settings:
    """Settings of a site in Berlin (never the machine's own zone)."""
    return Settings(data_dir=tmp_path, site_timezone="Europe/Berlin", **changes)  # type: ignore[arg-type]


async def demo_service(settings: Settings, clock: Clock) -> AlertService:
    """The demo camera, its line, zone and rules, and the alert service ``argus serve`` builds."""
    db = MemoryDatabase()
    camera, lines, zones = demo_camera(Path("bikes.mp4"))
    await add_demo_scene(db, camera, lines, zones)
    policies = RiskPolicyService(
        db, clock, defaults=risk_policy(settings), site_default=site_defaults(settings)
    )
    return AlertService(db, _ignore, risk_source=policies.current, clock=clock)


async def raise_one(service: AlertService, clock: Clock, event: DomainEvent) -> Alert:
    """Deliver one demo event stamped with the clock's time; its single alert."""
    envelope = Envelope.wrap(event, EventSource("argus", "demo"), clock.now.astimezone(UTC))
    alerts = await service.on_event(envelope)
    assert len(alerts) == 1, alerts
    clock.now += timedelta(seconds=90)  # past the one-minute cooldowns of the demo rules
    return alerts[0]


def kerb(track: int, confidence: float) -> LineCrossed:
    return LineCrossed("kerb", track, 2, "car", "in", float(track), confidence=confidence)


def person_in_street(track: int, confidence: float) -> ZoneEntered:
    return ZoneEntered("street", track, 0, "person", float(track), confidence=confidence)


def crowded_street(track: int, confidence: float) -> Crowding:
    return Crowding("street", float(track), occupancy=3, threshold=3)


def readme_table() -> dict[str, tuple[str, str]]:
    """The README's demo table: rule → (severity by day, severity at night), first words."""
    text = README.read_text(encoding="utf-8")
    start = text.index("| demo rule | by day | at night")
    rows: dict[str, tuple[str, str]] = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rule, day, night = (cell.strip() for cell in line.strip("|").split("|"))
        first = re.compile(r"^(low|medium|high)\b")
        day_match, night_match = first.match(day), first.match(night)
        assert day_match, line
        assert night_match, line
        rows[rule] = (day_match.group(1), night_match.group(1))
    return rows


EVENTS: dict[str, Callable[[int, float], DomainEvent]] = {
    "traffic crosses the kerb line": kerb,
    "a person walks into the street": person_in_street,
    "the street is crowded": crowded_street,
}


def event_of(row: str) -> Callable[[int, float], DomainEvent]:
    return next(make for prefix, make in EVENTS.items() if row.startswith(prefix))


def test_the_readme_table_names_every_demo_rule() -> None:
    rows = readme_table()
    assert len(rows) == len(EVENTS)
    assert {event_of(row) for row in rows} == set(EVENTS.values())


@pytest.mark.parametrize("confidence", DEMO_CONFIDENCES)
@pytest.mark.parametrize(("when", "column"), [(DAY, 0), (NIGHT, 1)], ids=["day", "night"])
async def test_the_demo_produces_the_readme_table(
    tmp_path: Path, confidence: float, when: datetime, column: int
) -> None:
    for row, severities in readme_table().items():
        clock = Clock(when)
        service = await demo_service(berlin(tmp_path), clock)
        alert = await raise_one(service, clock, event_of(row)(1, confidence))
        assert alert.severity == severities[column], (row, alert.risk)


@pytest.mark.parametrize("confidence", DEMO_CONFIDENCES)
@pytest.mark.parametrize("when", [DAY, NIGHT], ids=["day", "night"])
async def test_kerb_alerts_stay_low_however_often_they_repeat(
    tmp_path: Path, confidence: float, when: datetime
) -> None:
    """The severity ceiling holds the kerb rule low; the alert says why."""
    clock = Clock(when)
    service = await demo_service(berlin(tmp_path), clock)
    alerts = [await raise_one(service, clock, kerb(n, confidence)) for n in range(7)]
    assert {alert.severity for alert in alerts} == {"low"}
    assert all(alert.risk.score < 0.3 for alert in alerts)
    last = {part.name: part for part in alerts[-1].risk.components}
    assert last["repeat"].value == 1.0  # repeats count in full ...
    assert last["bounds"].weight == 0.0  # ... but the ceiling holds the score
    assert last["bounds"].value >= 0.3
    assert "held at" in last["bounds"].reason


async def test_night_is_judged_in_the_site_time_zone(tmp_path: Path) -> None:
    """21:30 UTC in December is 22:30 in Berlin: night there, not in UTC."""
    evening = datetime(2026, 12, 6, 21, 30, tzinfo=UTC)
    for zone, night in (("Europe/Berlin", True), ("UTC", False)):
        clock = Clock(evening)
        settings = Settings(data_dir=tmp_path, site_timezone=zone)
        alert = await raise_one(await demo_service(settings, clock), clock, kerb(1, 0.75))
        time_of_day = {part.name: part for part in alert.risk.components}["time_of_day"]
        assert time_of_day.value == (1.0 if night else 0.2), zone
        assert zone in time_of_day.reason


async def test_a_fixed_risk_time_zone_wins_over_the_site(tmp_path: Path) -> None:
    clock = Clock(NIGHT)  # 01:00 in Berlin is 19:00 the day before in New York
    settings = berlin(tmp_path, risk_timezone="America/New_York")
    alert = await raise_one(await demo_service(settings, clock), clock, kerb(1, 0.75))
    assert {part.name: part for part in alert.risk.components}["time_of_day"].value == 0.2


async def test_night_hours_follow_the_settings(tmp_path: Path) -> None:
    """No night hours (equal start and end): 01:00 counts as day."""
    clock = Clock(NIGHT)
    settings = berlin(tmp_path, risk_night_start=0, risk_night_end=0)
    alert = await raise_one(await demo_service(settings, clock), clock, kerb(1, 0.75))
    assert {part.name: part for part in alert.risk.components}["time_of_day"].value == 0.2


@pytest.mark.parametrize("field", ["risk_timezone", "site_timezone"])
def test_an_unknown_time_zone_is_refused(tmp_path: Path, field: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        Settings(data_dir=tmp_path, **{field: "Mars/Olympus"})  # type: ignore[arg-type]
