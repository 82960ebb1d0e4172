"""Factories of edge node health reports for the control plane's tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from argus.domain.edge import CameraHealth, NodeHealth
from argus.domain.events import new_event_id

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def camera_health(camera_id: str = "cam-1", **changes: Any) -> CameraHealth:
    """A live camera analysed at 5 fps from a 25 fps stream."""
    base: dict[str, Any] = {
        "camera_id": camera_id,
        "state": "online",
        "fps_in": 25.0,
        "fps_analysed": 5.0,
        "decode_errors": 0,
        "reconnects": 0,
        "last_frame_age_s": 0.04,
        "tamper": "ok",
        "tamper_score": 0.05,
    }
    return CameraHealth(**{**base, **changes})


def node_health(node_id: str = "node-1", at: datetime = NOON, **changes: Any) -> NodeHealth:
    """A healthy report of ``node_id`` made at ``at`` (a fresh report id)."""
    base: dict[str, Any] = {
        "report_id": new_event_id(at),
        "node_id": node_id,
        "at": at,
        "state": "online",
        "cpu_percent": 20.0,
        "memory_percent": 30.0,
        "disk_free_bytes": 50 * 2**30,
        "disk_total_bytes": 100 * 2**30,
        "temperature_c": 50.0,
        "outbox_items": 0,
        "outbox_bytes": 0,
        "outbox_oldest_age_s": None,
        "outbox_dropped": {},
        "quarantined": 0,
        "clock_offset_s": 0.1,
        "versions": {"argus": "test"},
        "cameras": (camera_health(),),
    }
    return NodeHealth(**{**base, **changes})
