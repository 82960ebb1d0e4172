"""The retention policy: defaults, bounds, partial documents, and a sweep's report."""

from __future__ import annotations

import math

import pytest

from argus.domain.errors import ValidationError
from argus.domain.retention import RETENTION_KINDS, RetentionPolicy, SweepReport


def test_defaults_name_every_kind() -> None:
    policy = RetentionPolicy()
    assert policy.to_dict() == {
        "events": 90.0,
        "alerts": 365.0,
        "incidents": 730.0,
        "evidence": 30.0,
        "audit": 2555.0,
        "heatmap": 90.0,
        "health": 30.0,
        "face_decisions": 90.0,
        "notifications": 90.0,
    }
    assert tuple(policy.to_dict()) == RETENTION_KINDS
    assert all(isinstance(policy.days(kind), float) for kind in RETENTION_KINDS)


@pytest.mark.parametrize(
    "days",
    [
        pytest.param(0, id="zero"),
        pytest.param(0.01, id="under-an-hour"),
        pytest.param(36_501, id="over-100-years"),
        pytest.param(math.nan, id="nan"),
        pytest.param(math.inf, id="inf"),
        pytest.param(True, id="bool"),
        pytest.param("30", id="text"),
    ],
)
def test_bad_days_are_refused(days: object) -> None:
    with pytest.raises(ValidationError, match="events"):
        RetentionPolicy(events=days)  # type: ignore[arg-type]


@pytest.mark.parametrize("days", [1 / 24, 1, 7.5, 36_500])
def test_days_within_bounds_are_kept_as_floats(days: float) -> None:
    assert RetentionPolicy(events=days).events == float(days)
    assert RetentionPolicy(audit=max(days, 30)).audit == float(max(days, 30))


def test_a_partial_document_changes_only_what_it_names() -> None:
    defaults = RetentionPolicy(evidence=14)
    policy = RetentionPolicy.from_dict({"events": 7}, defaults=defaults)
    assert (policy.events, policy.evidence, policy.alerts) == (7.0, 14.0, 365.0)
    assert RetentionPolicy.from_dict(None, defaults=defaults) == defaults
    assert RetentionPolicy.from_dict(policy.to_dict()) == policy
    with pytest.raises(ValidationError, match="unknown retention kind"):
        policy.merged({"eventz": 3})
    with pytest.raises(ValidationError):
        policy.merged({"events": -1})


def test_a_sweep_report_names_every_kind_and_its_total() -> None:
    report = SweepReport(deleted={"events": 5, "audit": 2}, held_incidents=1, kept={"alerts": 3})
    assert report.deleted["alerts"] == 0
    assert report.total == 7
    assert report.to_dict() == {
        "deleted": {kind: {"events": 5, "audit": 2}.get(kind, 0) for kind in RETENTION_KINDS},
        "total": 7,
        "held_incidents": 1,
        "kept": {"alerts": 3},
        "errors": {},
    }
