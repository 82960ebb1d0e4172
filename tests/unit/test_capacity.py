"""Capacity management: assignment, queue, rejection, promotion, scale-down, persistence."""

from __future__ import annotations

import json

import pytest

from argus.domain.capacity import (
    Assigned,
    CapacityLimits,
    CapacityManager,
    Queued,
    Rejected,
)
from argus.domain.errors import ValidationError

LIMITS = CapacityLimits(max_clients_per_pipeline=2, max_pipelines=2, max_queue=2, idle_seconds=30)

ADMISSIONS = [
    ("first-starts-pipeline", 1, Assigned(0)),
    ("fills-pipeline", 2, Assigned(0)),
    ("second-pipeline", 3, Assigned(1)),
    ("fills-second", 4, Assigned(1)),
    ("queued-first", 5, Queued(1)),
    ("queued-second", 6, Queued(2)),
    ("system-full", 7, Rejected("system full")),
]


@pytest.mark.parametrize(
    ("count", "expected"), [c[1:] for c in ADMISSIONS], ids=[c[0] for c in ADMISSIONS]
)
def test_admission(count: int, expected: object) -> None:
    manager = CapacityManager(LIMITS)
    results = [manager.admit(f"c{i}") for i in range(count)]
    assert results[-1] == expected


def test_admit_is_idempotent() -> None:
    manager = CapacityManager(LIMITS)
    assert manager.admit("a") == manager.admit("a") == Assigned(0)
    assert manager.pipelines() == {0: ("a",)}


def test_release_promotes_and_renumbers() -> None:
    manager = CapacityManager(LIMITS)
    for i in range(6):
        manager.admit(f"c{i}")
    release = manager.release("c2", now=10.0)
    assert release.promoted == (("c4", 1),)
    assert release.positions == {"c5": 1}
    assert manager.status("c4") == Assigned(1)
    assert manager.status("c5") == Queued(1)


def test_leaving_the_queue_renumbers() -> None:
    manager = CapacityManager(LIMITS)
    for i in range(6):
        manager.admit(f"c{i}")
    release = manager.release("c4", now=1.0)
    assert release.promoted == ()
    assert release.positions == {"c5": 1}


def test_packs_into_busiest_pipeline() -> None:
    manager = CapacityManager(CapacityLimits(max_clients_per_pipeline=3, max_pipelines=2))
    for name in ("a", "b", "c", "d"):
        manager.admit(name)
    manager.release("a", now=0.0)  # pipeline 0: b, c; pipeline 1: d
    assert manager.admit("e") == Assigned(0)
    assert manager.admit("f") == Assigned(1)


@pytest.mark.parametrize(
    ("idle_for", "removed"), [(29.0, ()), (30.0, (0,))], ids=["too-soon", "after-timeout"]
)
def test_idle_pipelines_scale_down(idle_for: float, removed: tuple[int, ...]) -> None:
    manager = CapacityManager(LIMITS)
    manager.admit("a")
    manager.release("a", now=100.0)
    assert manager.scale_down(100.0 + idle_for) == removed


def test_busy_pipeline_never_scales_down() -> None:
    manager = CapacityManager(LIMITS)
    manager.admit("a")
    assert manager.scale_down(1e9) == ()


def test_reused_pipeline_is_not_idle() -> None:
    manager = CapacityManager(LIMITS)
    manager.admit("a")
    manager.release("a", now=0.0)
    manager.admit("b")
    assert manager.scale_down(100.0) == ()


@pytest.mark.parametrize("reason", ["blocked", "paused"])
def test_refused_clients(reason: str) -> None:
    manager = CapacityManager(LIMITS)
    manager.admit("a")
    manager.refuse("a", reason)
    assert manager.admit("a") == Rejected(f"client is {reason}")
    assert manager.pipelines() == {0: ()}
    manager.allow("a")
    assert manager.admit("a") == Assigned(0)


def test_state_round_trips_through_json() -> None:
    manager = CapacityManager(LIMITS)
    for i in range(5):
        manager.admit(f"c{i}")
    manager.refuse("x", "blocked")
    manager.release("c0", now=3.0)
    data = json.loads(json.dumps(manager.to_dict()))
    again = CapacityManager.from_dict(data)
    assert again.to_dict() == manager.to_dict()
    assert again.admit("c9") == manager.admit("c9")


def test_bad_state_and_limits() -> None:
    with pytest.raises(ValidationError):
        CapacityManager.from_dict({"limits": {}})
    with pytest.raises(ValidationError):
        CapacityLimits(max_pipelines=0)
