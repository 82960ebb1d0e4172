"""The risk policy document, local night hours, severity bounds, the site, the local zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from argus.bootstrap.policies import local_timezone
from argus.domain.alerts import Risk, RiskComponent, RiskContext, RiskPolicy, assess_risk
from argus.domain.alerts.risk import DEFAULT_WEIGHTS, bound_score
from argus.domain.errors import ValidationError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.rules import Match, Rule
from argus.domain.site import Site

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def rule(**changes: Any) -> Rule:
    return Rule(id="r1", name="Kerb", created_at=T0, updated_at=T0, weight=0.1, **changes)


def event(at: datetime, camera: str = "cam-1", **payload: object) -> Envelope:
    return Envelope(new_event_id(), "line.crossed", at, EventSource("edge", camera), payload)


# --- the document ----------------------------------------------------------------------------


def test_the_document_round_trips_and_missing_fields_keep_the_base() -> None:
    base = RiskPolicy(night_start=21, night_end=5)
    policy = RiskPolicy.from_dict({"day_value": 0.4, "timezone": "Europe/Berlin"}, base=base)
    assert (policy.night_start, policy.night_end, policy.day_value) == (21, 5, 0.4)
    assert policy.timezone == "Europe/Berlin"
    assert RiskPolicy.from_dict(policy.to_dict()) == policy
    assert policy.to_dict()["repeat_window_s"] == 3600.0


def test_missing_weights_weigh_nothing() -> None:
    policy = RiskPolicy.from_dict({"weights": {"rule": 2.0}})
    assert dict(policy.weights) == {
        name: (2.0 if name == "rule" else 0.0) for name in DEFAULT_WEIGHTS
    }


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"weights": {"luck": 1}}, "unknown risk component"),
        ({"weights": {"rule": -1}}, r"in \[0, 100\]"),
        ({"weights": {"rule": 0}}, "at least one risk weight"),
        ({"weights": [1, 2]}, "weights must be an object"),
        ({"night_start": 24}, "night_start"),
        ({"night_end": 6.5}, "night_end"),
        ({"day_value": 1.5}, "day_value"),
        ({"dwell_full_seconds": 0}, "dwell_full_seconds"),
        ({"repeat_full": 0}, "repeat_full"),
        ({"repeat_window_s": 0.5}, "repeat_window"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"timezone": "America"}, "unknown time zone"),
        ({"colour": "red"}, "unknown risk policy field"),
    ],
)
def test_an_invalid_document_is_refused(document: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        RiskPolicy.from_dict(document)


# --- local time ------------------------------------------------------------------------------


def test_the_zone_is_the_policy_s_then_the_camera_s_then_the_site_s() -> None:
    site = Site("Europe/Berlin", {"cam-ny": "America/New_York"})
    policy = RiskPolicy().with_site(site)
    assert policy.zone_of("cam-ny") == "America/New_York"
    assert policy.zone_of("cam-1") == "Europe/Berlin"
    assert policy.zone_of(None) == "Europe/Berlin"
    fixed = RiskPolicy(timezone="Asia/Tokyo").with_site(site)
    assert fixed.zone_of("cam-ny") == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("moment", "camera", "night"),
    [
        ("2026-12-07T21:30:00+00:00", "cam-1", True),  # 22:30 in Berlin
        ("2026-12-07T20:59:00+00:00", "cam-1", False),  # 21:59 in Berlin
        ("2026-12-08T04:59:00+00:00", "cam-1", True),  # 05:59 in Berlin
        ("2026-12-08T05:00:00+00:00", "cam-1", False),  # 06:00 in Berlin
        ("2026-12-07T21:30:00+00:00", "cam-ny", False),  # 16:30 in New York
        ("2026-12-08T03:30:00+00:00", "cam-ny", True),  # 22:30 in New York
        # Summer time: 21:30 UTC is 23:30 CEST, 20:30 UTC is 22:30 CEST.
        ("2026-07-07T20:30:00+00:00", "cam-1", True),
        ("2026-07-07T19:30:00+00:00", "cam-1", False),
        ("2026-07-08T03:30:00+00:00", "cam-1", True),  # 05:30 CEST
        ("2026-07-08T04:30:00+00:00", "cam-1", False),  # 06:30 CEST
    ],
)
def test_night_is_local_to_the_camera(moment: str, camera: str, night: bool) -> None:
    site = Site("Europe/Berlin", {"cam-ny": "America/New_York"})
    policy = RiskPolicy().with_site(site)
    assert policy.is_night(datetime.fromisoformat(moment), camera) is night


@pytest.mark.parametrize(
    ("start", "end", "hour", "night"),
    [(1, 5, 0, False), (1, 5, 1, True), (1, 5, 5, False), (0, 0, 3, False), (23, 1, 0, True)],
)
def test_night_hours_that_do_not_wrap_or_are_empty(
    start: int, end: int, hour: int, night: bool
) -> None:
    policy = RiskPolicy(night_start=start, night_end=end)
    assert policy.is_night(T0.replace(hour=hour)) is night


# --- severity bounds -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "floor", "ceiling", "bounded"),
    [
        (0.53, None, "low", 0.2999),
        (0.95, None, "medium", 0.6999),
        (0.1, "medium", None, 0.3),
        (0.1, "high", None, 0.7),
        (0.5, "medium", "medium", 0.5),
        (0.5, "low", "high", 0.5),
    ],
)
def test_bounds_hold_the_score_inside_the_band(
    score: float, floor: Any, ceiling: Any, bounded: float
) -> None:
    assert bound_score(score, floor, ceiling) == bounded


def test_a_floor_above_the_ceiling_is_refused() -> None:
    with pytest.raises(ValidationError, match="above the ceiling"):
        bound_score(0.5, "high", "low")


def test_bounds_are_explained_by_a_weightless_component() -> None:
    parts = (RiskComponent("rule", 1.0, 1.0, "rule"),)
    held = Risk.of(parts, ceiling="medium")
    assert (held.score, held.severity, held.ceiling) == (0.6999, "medium", "medium")
    bounds = held.components[-1]
    assert (bounds.name, bounds.value, bounds.weight) == ("bounds", 1.0, 0.0)
    assert bounds.reason == "rule allows low-medium: score 1.00 (high) held at 0.70 (medium)"
    kept = Risk.of(parts, floor="medium")
    assert kept.score == 1.0
    assert kept.components[-1].reason == "rule allows medium-high: score 1.00 (high) kept"
    assert [c.name for c in Risk.of(parts).components] == ["rule"]


def test_a_stored_bounded_risk_keeps_its_severity_without_its_bounds() -> None:
    """Stores keep the score and components only; the held score still says the severity."""
    held = Risk.of((RiskComponent("rule", 1.0, 1.0, "rule"),), ceiling="low")
    assert Risk(held.score, held.components).severity == "low"


@pytest.mark.parametrize(
    ("changes", "severity"),
    [({}, "medium"), ({"severity_ceiling": "low"}, "low"), ({"severity_floor": "high"}, "high")],
    ids=["unbounded", "ceiling", "floor"],
)
def test_assess_risk_applies_the_rule_s_bounds(changes: dict[str, Any], severity: str) -> None:
    """A busy kerb at night: medium unless the rule bounds it."""
    night = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    match = Match(rule(**changes), event(night, confidence=0.9))
    risk = assess_risk(match, RiskContext(recent_alerts=5), RiskPolicy())
    assert risk.severity == severity
    names = [c.name for c in risk.components]
    assert ("bounds" in names) is bool(changes)


def test_the_time_of_day_reason_names_the_local_time_and_zone() -> None:
    policy = RiskPolicy().with_site(Site("Europe/Berlin"))
    risk = assess_risk(Match(rule(), event(T0 + timedelta(hours=10))), RiskContext(), policy)
    reason = {c.name: c for c in risk.components}["time_of_day"].reason
    assert reason == "night (23:00 Europe/Berlin; night is 22:00-06:00)"


# --- the site --------------------------------------------------------------------------------


def test_the_site_document() -> None:
    site = Site.from_dict({"camera_timezones": {"c": "Asia/Tokyo"}}, default_timezone="UTC")
    assert site == Site("UTC", {"c": "Asia/Tokyo"})
    assert Site.from_dict(site.to_dict()) == site
    with pytest.raises(ValidationError, match="unknown site field"):
        Site.from_dict({"zone": "UTC"})
    with pytest.raises(ValidationError, match="unknown time zone"):
        Site.from_dict({"camera_timezones": {"c": "Atlantis"}})


# --- the machine's zone ----------------------------------------------------------------------


def test_the_local_zone_comes_from_tz_then_the_files(tmp_path: Path) -> None:
    timezone_file = tmp_path / "timezone"
    localtime = tmp_path / "localtime"
    zoneinfo = tmp_path / "usr" / "share" / "zoneinfo" / "America"
    zoneinfo.mkdir(parents=True)
    (zoneinfo / "Chicago").write_bytes(b"TZif")
    paths = {"timezone_file": timezone_file, "localtime": localtime}
    assert local_timezone({}, **paths) == "UTC"  # nothing to go by
    localtime.symlink_to(zoneinfo / "Chicago")
    assert local_timezone({}, **paths) == "America/Chicago"
    timezone_file.write_text("Europe/Lisbon\n")
    assert local_timezone({}, **paths) == "Europe/Lisbon"
    assert local_timezone({"TZ": ":Asia/Tokyo"}, **paths) == "Asia/Tokyo"
    assert local_timezone({"TZ": "CET-1CEST"}, **paths) == "Europe/Lisbon"  # POSIX rule: skipped
    timezone_file.write_text("garbage\n")
    assert local_timezone({}, **paths) == "America/Chicago"
