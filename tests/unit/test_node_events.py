"""``derive_events``: condition changes between two health reports of an edge node."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from argus.domain.edge import NodeHealth
from argus.domain.errors import ValidationError
from argus.domain.event_ids import check_event_id, event_id_time
from argus.domain.event_types import EVENT_TYPES
from argus.domain.node_events import (
    HealthLimits,
    derive_events,
    derived_event_id,
    node_camera_id,
)
from tests.node_support import NOON, camera_health, node_health

LIMITS = HealthLimits(
    disk_low_bytes=2**30,
    disk_low_ratio=0.05,
    outbox_backlog_items=100,
    outbox_backlog_age_s=60.0,
    fps_low_ratio=0.5,
    max_clock_skew_s=5.0,
)
EXPECTED = {"cam-1": 5.0}


def types(previous: NodeHealth | None, current: NodeHealth) -> list[tuple[str, str]]:
    return [(e.type, e.camera_id) for e in derive_events(previous, current, LIMITS, EXPECTED)]


NODE = node_camera_id("node-1")
BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("disk bytes", {"disk_free_bytes": 2**29}, "node.disk_low", "node.disk_ok"),
    (
        "disk ratio",
        {"disk_free_bytes": 2 * 2**30, "disk_total_bytes": 100 * 2**30},
        "node.disk_low",
        "node.disk_ok",
    ),
    ("outbox items", {"outbox_items": 101}, "node.outbox_backlog", "node.outbox_drained"),
    ("outbox age", {"outbox_oldest_age_s": 61.0}, "node.outbox_backlog", "node.outbox_drained"),
    ("clock ahead", {"clock_offset_s": 5.5}, "node.clock_skew", "node.clock_ok"),
    ("clock behind", {"clock_offset_s": -30.0}, "node.clock_skew", "node.clock_ok"),
]


@pytest.mark.parametrize(
    ("change", "raised", "cleared"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_a_node_condition_is_raised_once_and_cleared_once(
    change: dict[str, Any], raised: str, cleared: str
) -> None:
    healthy, sick = node_health(), node_health(**change)
    assert types(healthy, sick) == [(raised, NODE)]
    assert types(sick, node_health(**change)) == []  # it lasts: nothing new
    assert types(sick, healthy) == [(cleared, NODE)]
    assert EVENT_TYPES[cleared].clears == raised


def test_no_previous_report_raises_what_holds_and_clears_nothing() -> None:
    assert types(None, node_health()) == []
    sick = node_health(disk_free_bytes=0, cameras=(camera_health(state="offline"),))
    assert types(None, sick) == [("node.disk_low", NODE), ("camera.offline", "cam-1")]


@pytest.mark.parametrize("state", ["offline", "error"])
def test_a_lost_stream_is_camera_offline_until_it_is_back(state: str) -> None:
    live, lost = node_health(), node_health(cameras=(camera_health(state=state),))
    assert types(live, lost) == [("camera.offline", "cam-1")]
    assert types(lost, live) == [("camera.online", "cam-1")]


@pytest.mark.parametrize("state", ["starting", "disabled"])
def test_starting_and_disabled_cameras_are_not_offline(state: str) -> None:
    assert types(node_health(), node_health(cameras=(camera_health(state=state),))) == []


def test_fps_collapse_is_judged_against_the_configured_rate() -> None:
    normal = node_health()  # 5 of 25 fps analysed: the configured 5 fps
    slow = node_health(cameras=(camera_health(fps_analysed=2.0),))
    assert types(normal, slow) == [("camera.fps_low", "cam-1")]
    assert types(slow, normal) == [("camera.fps_recovered", "cam-1")]
    # A camera with no configured rate (unknown here) is never fps_low.
    other = node_health(cameras=(camera_health("cam-9", fps_analysed=0.0),))
    assert types(node_health(cameras=(camera_health("cam-9"),)), other) == []


def test_a_saturated_camera_below_its_rate_is_still_fps_low() -> None:
    # The grant is in the report (and in the camera's status); the event kind is unchanged.
    camera = camera_health(fps_analysed=2.0, target_fps=5.0, granted_fps=2.0, saturated=True)
    saturated = node_health(cameras=(camera,))
    assert types(node_health(), saturated) == [("camera.fps_low", "cam-1")]
    # Its payload says the box, not the stream, lowered the rate.
    (event,) = derive_events(node_health(), saturated, LIMITS, EXPECTED)
    assert (event.payload["saturated"], event.payload["granted_fps"]) == (True, 2.0)


def test_a_camera_new_in_the_report_is_like_a_first_report() -> None:
    before = node_health(cameras=())
    after = node_health(cameras=(camera_health(state="offline"),))
    assert types(before, after) == [("camera.offline", "cam-1")]
    assert types(before, node_health()) == []


def test_payload_names_the_node_report_and_figures() -> None:
    report = node_health(outbox_items=500, outbox_oldest_age_s=120.0)
    (event,) = derive_events(node_health(), report, LIMITS)
    assert event.payload["node_id"] == "node-1"
    assert event.payload["report_id"] == report.report_id
    assert event.payload["outbox_items"] == 500
    with pytest.raises(TypeError):
        event.payload["x"] = 1  # type: ignore[index]


def test_derived_ids_are_deterministic_ulids_of_the_time() -> None:
    one = derived_event_id(NOON, "node-1", "node.offline", "a")
    assert one == derived_event_id(NOON, "node-1", "node.offline", "a")
    assert one != derived_event_id(NOON, "node-1", "node.offline", "b")
    assert check_event_id(one) == one
    assert event_id_time(one) == NOON
    later = derived_event_id(NOON + timedelta(milliseconds=1), "x")
    assert later > one


def test_limits_refuse_negative_or_infinite_values() -> None:
    with pytest.raises(ValidationError):
        HealthLimits(fps_low_ratio=-1.0)
    with pytest.raises(ValidationError):
        HealthLimits(max_clock_skew_s=float("inf"))
    with pytest.raises(ValidationError):
        derived_event_id(NOON.replace(tzinfo=None))
