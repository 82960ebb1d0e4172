"""Events the control plane derives from edge nodes' health reports.

``derive_events`` compares a node's previous report with its current one under
``HealthLimits`` and returns the condition changes, each as a ``DerivedEvent``
(type, camera, payload): a camera that went offline or came back, a camera
whose analysed frame rate collapsed or recovered, the node's disk running low
or recovering, its outbox backing up or draining, its clock drifting or
agreeing again. Only changes are reported, so a condition that lasts raises
one event; with no previous report (a new node, or a server that lost it)
conditions that hold are reported and nothing is cleared.

Node-level events name ``node:<node_id>`` as their camera (``node_camera_id``).
``derived_event_id`` makes the id of such an event deterministic (the report's
time, then a hash of what it says), so a replayed report or a second server
deriving the same fact produces the same id, and the event store keeps it once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from argus.domain.edge import CameraHealth, NodeHealth
from argus.domain.errors import ValidationError
from argus.domain.event_ids import derived_event_id
from argus.domain.events import Envelope, EventSource

__all__ = [
    "CAMERA_DOWN_STATES",
    "DerivedEvent",
    "HealthLimits",
    "derive_events",
    "derived_envelope",
    "derived_event_id",
    "node_camera_id",
]

CAMERA_DOWN_STATES = frozenset({"offline", "error"})
"""Camera states that count as a lost stream (``starting`` and ``disabled`` do not)."""


@dataclass(frozen=True, slots=True)
class HealthLimits:
    """Thresholds that turn health figures into conditions.

    Attributes:
        disk_low_bytes: Free bytes below which the disk is low.
        disk_low_ratio: Free share of the disk below which it is low.
        outbox_backlog_items: Outbox items beyond which the outbox backs up.
        outbox_backlog_age_s: Age of the oldest outbox item beyond which it backs up.
        fps_low_ratio: Share of its configured analysis rate (``detect_fps``) below
            which a live camera's analysed frame rate has collapsed.
        max_clock_skew_s: Clock offset beyond which the node's clock is skewed.
    """

    disk_low_bytes: int = 1 << 30
    disk_low_ratio: float = 0.05
    outbox_backlog_items: int = 10_000
    outbox_backlog_age_s: float = 300.0
    fps_low_ratio: float = 0.5
    max_clock_skew_s: float = 5.0

    def __post_init__(self) -> None:
        numbers = (
            self.disk_low_bytes,
            self.disk_low_ratio,
            self.outbox_backlog_items,
            self.outbox_backlog_age_s,
            self.fps_low_ratio,
            self.max_clock_skew_s,
        )
        if any(not math.isfinite(n) or n < 0 for n in numbers):
            raise ValidationError("health limits must be finite and non-negative")


@dataclass(frozen=True, slots=True)
class DerivedEvent:
    """One condition change of a node or a camera.

    Attributes:
        type: The event type (``camera.offline``, ``node.disk_low``...).
        camera_id: The camera, or ``node:<node_id>`` for the node itself.
        payload: What was measured (JSON-ready).
    """

    type: str
    camera_id: str
    payload: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "payload", MappingProxyType(dict(self.payload)))


def node_camera_id(node_id: str) -> str:
    """The camera id node-level events carry: ``node:<node_id>``."""
    return f"node:{node_id}"


def derived_envelope(report: NodeHealth, event: DerivedEvent) -> Envelope:
    """``event`` as stored: dated at ``report``, its id derived from the report and the fact."""
    return Envelope(
        event_id=derived_event_id(
            report.at, report.node_id, event.type, event.camera_id, report.report_id
        ),
        type=event.type,
        timestamp=report.at,
        source=EventSource(report.node_id, event.camera_id),
        payload=event.payload,
    )


def _disk_low(report: NodeHealth, limits: HealthLimits) -> bool:
    free, total = report.disk_free_bytes, report.disk_total_bytes
    return free < limits.disk_low_bytes or (total > 0 and free / total < limits.disk_low_ratio)


def _backlog(report: NodeHealth, limits: HealthLimits) -> bool:
    age = report.outbox_oldest_age_s
    return report.outbox_items > limits.outbox_backlog_items or (
        age is not None and age > limits.outbox_backlog_age_s
    )


def _skewed(report: NodeHealth, limits: HealthLimits) -> bool:
    offset = report.clock_offset_s
    return offset is not None and abs(offset) > limits.max_clock_skew_s


def _camera_down(camera: CameraHealth) -> bool:
    return camera.state in CAMERA_DOWN_STATES


def _fps_low(camera: CameraHealth, expected: float | None, limits: HealthLimits) -> bool:
    return (
        expected is not None
        and expected > 0
        and camera.state == "online"
        and camera.fps_analysed < limits.fps_low_ratio * expected
    )


def _change(
    was: bool | None,
    now: bool,
    raised: str,
    cleared: str,
    *,
    camera_id: str,
    payload: dict[str, object],
) -> list[DerivedEvent]:
    """The event of a condition's change (``was`` None: unknown before, raise only)."""
    if now and not was:
        return [DerivedEvent(raised, camera_id, payload)]
    if was and not now:
        return [DerivedEvent(cleared, camera_id, payload)]
    return []


def _node_events(
    previous: NodeHealth | None, current: NodeHealth, limits: HealthLimits
) -> list[DerivedEvent]:
    node = node_camera_id(current.node_id)
    base: dict[str, object] = {"node_id": current.node_id, "report_id": current.report_id}
    disk = {
        **base,
        "disk_free_bytes": current.disk_free_bytes,
        "disk_total_bytes": current.disk_total_bytes,
    }
    outbox = {
        **base,
        "outbox_items": current.outbox_items,
        "outbox_bytes": current.outbox_bytes,
        "outbox_oldest_age_s": current.outbox_oldest_age_s,
    }
    clock = {**base, "clock_offset_s": current.clock_offset_s}
    checks = (
        (_disk_low, "node.disk_low", "node.disk_ok", disk),
        (_backlog, "node.outbox_backlog", "node.outbox_drained", outbox),
        (_skewed, "node.clock_skew", "node.clock_ok", clock),
    )
    events: list[DerivedEvent] = []
    for check, raised, cleared, payload in checks:
        was = None if previous is None else check(previous, limits)
        events += _change(
            was, check(current, limits), raised, cleared, camera_id=node, payload=payload
        )
    return events


def _camera_events(
    previous: NodeHealth | None,
    current: NodeHealth,
    limits: HealthLimits,
    expected_fps: Mapping[str, float],
) -> list[DerivedEvent]:
    before = {} if previous is None else {c.camera_id: c for c in previous.cameras}
    events: list[DerivedEvent] = []
    for camera in current.cameras:
        old = before.get(camera.camera_id)
        expected = expected_fps.get(camera.camera_id)
        payload: dict[str, object] = {
            "node_id": current.node_id,
            "report_id": current.report_id,
            "state": camera.state,
            "fps_in": camera.fps_in,
            "fps_analysed": camera.fps_analysed,
            "last_frame_age_s": camera.last_frame_age_s,
            "expected_fps": expected,
            # The node's shared scheduler lowered the camera's rate: the box, not the stream.
            "saturated": camera.saturated,
            "granted_fps": camera.granted_fps,
        }
        events += _change(
            None if old is None else _camera_down(old),
            _camera_down(camera),
            "camera.offline",
            "camera.online",
            camera_id=camera.camera_id,
            payload=payload,
        )
        events += _change(
            None if old is None else _fps_low(old, expected, limits),
            _fps_low(camera, expected, limits),
            "camera.fps_low",
            "camera.fps_recovered",
            camera_id=camera.camera_id,
            payload=payload,
        )
    return events


def derive_events(
    previous: NodeHealth | None,
    current: NodeHealth,
    limits: HealthLimits,
    expected_fps: Mapping[str, float] | None = None,
) -> tuple[DerivedEvent, ...]:
    """The condition changes from ``previous`` to ``current`` (node first, then cameras).

    Args:
        previous: The node's report before this one; ``None`` when there is none.
        current: The report just received.
        limits: The thresholds.
        expected_fps: Each camera's configured analysis rate (``Camera.detect_fps``);
            a camera without one is never ``fps_low``.

    Returns:
        One event per condition that started or ended. A camera absent from
        ``previous`` is treated like a node without a previous report.
    """
    expected = expected_fps or {}
    return (
        *_node_events(previous, current, limits),
        *_camera_events(previous, current, limits, expected),
    )
