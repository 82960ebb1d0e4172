"""Health of an edge node and its cameras, and the node as the control plane stores it.

A node reports ``NodeHealth`` every health interval (the body of a ``health``
outbox item); the control plane keeps the reports as a time series and the
latest one on the ``EdgeNode`` row. All names here are importable from
``argus.domain.edge`` too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal, get_args

from argus.domain.checks import aware_utc, finite, text, unit_interval
from argus.domain.codec import (
    choice,
    iso_z,
    iso_z_or_none,
    object_list,
    parse_time,
    require_keys,
)
from argus.domain.edge_values import (
    check_node_id,
    count,
    int_map,
    non_negative,
    optional_non_negative,
    str_map,
    text_tuple,
)
from argus.domain.errors import ValidationError
from argus.domain.event_ids import check_event_id

__all__ = [
    "MAX_CLOCK_OFFSET_S",
    "MAX_REPORT_CAMERAS",
    "NODE_STATES",
    "TAMPER_STATES",
    "CameraHealth",
    "EdgeNode",
    "NodeHealth",
    "NodeState",
    "TamperState",
]

NodeState = Literal["online", "buffering", "syncing", "offline"]
"""A node's link state; ``offline`` is only ever the server's view (no reports)."""

TamperState = Literal[
    "ok", "learning", "covered", "blurred", "moved", "frozen", "black", "white", "noise"
]
"""A camera's tamper state: ``ok``, ``learning`` (no baseline yet) or the tamper seen."""

NODE_STATES: tuple[NodeState, ...] = get_args(NodeState)
TAMPER_STATES: tuple[TamperState, ...] = get_args(TamperState)
MAX_REPORT_CAMERAS = 512
"""Most cameras one health report may carry."""
MAX_CLOCK_OFFSET_S = 100 * 365.25 * 86_400
"""Largest clock offset a report may state (a century: a node booted at 1970 is fine)."""

_CAMERA_FIELDS = (
    "camera_id",
    "state",
    "fps_in",
    "fps_analysed",
    "decode_errors",
    "reconnects",
    "last_frame_age_s",
    "tamper",
    "tamper_score",
)
_CAMERA_GRANT_FIELDS = ("target_fps", "granted_fps", "saturated")
"""What the shared inference scheduler grants the camera (added after the first nodes shipped)."""
_NODE_FIELDS = (
    "report_id",
    "node_id",
    "at",
    "state",
    "cpu_percent",
    "memory_percent",
    "disk_free_bytes",
    "disk_total_bytes",
    "temperature_c",
    "outbox_items",
    "outbox_bytes",
    "outbox_oldest_age_s",
    "outbox_dropped",
    "quarantined",
    "clock_offset_s",
    "versions",
    "cameras",
)
_CAMERA_KEYS = frozenset((*_CAMERA_FIELDS, *_CAMERA_GRANT_FIELDS))
_CAMERA_KEYS_BEFORE_GRANTS = frozenset(_CAMERA_FIELDS)
"""What a node older than the grant fields sends (and what reports stored then hold)."""
_NODE_KEYS = frozenset(_NODE_FIELDS)


@dataclass(frozen=True, slots=True)
class CameraHealth:
    """One camera's health as its node saw it at report time.

    Attributes:
        camera_id: The camera.
        state: Its pipeline state (``CameraState`` of ``argus.ports.pipelines``).
        fps_in: Frames per second decoded from the stream.
        fps_analysed: Frames per second run through detection.
        decode_errors: Corrupt frames since the pipeline started.
        reconnects: Stream reconnects since the pipeline started.
        last_frame_age_s: Seconds since the last frame; ``None`` before the first.
        tamper: The tamper state.
        tamper_score: How far the view is from its baseline, in [0, 1].
        target_fps: The analysed fps the camera asks of the node's shared inference
            scheduler; ``None`` when no scheduler serves it (or the node is older).
        granted_fps: The analysed fps that scheduler grants it now; ``None`` likewise.
        saturated: The grant is below the target: the node cannot analyse every
            camera at its rate, so this one analyses fewer frames.
    """

    camera_id: str
    state: str
    fps_in: float
    fps_analysed: float
    decode_errors: int
    reconnects: int
    last_frame_age_s: float | None
    tamper: TamperState
    tamper_score: float
    target_fps: float | None = None
    granted_fps: float | None = None
    saturated: bool = False

    KEYS: ClassVar[frozenset[str]] = _CAMERA_KEYS
    """The keys ``to_dict`` writes; ``from_dict`` also reads ``KEYS_BEFORE_GRANTS``."""
    KEYS_BEFORE_GRANTS: ClassVar[frozenset[str]] = _CAMERA_KEYS_BEFORE_GRANTS

    def __post_init__(self) -> None:
        text(self.camera_id, "camera_id", 64)
        text(self.state, "state", 32)
        object.__setattr__(self, "fps_in", non_negative(self.fps_in, "fps_in", 1000.0))
        object.__setattr__(
            self, "fps_analysed", non_negative(self.fps_analysed, "fps_analysed", 1000.0)
        )
        count(self.decode_errors, "decode_errors")
        count(self.reconnects, "reconnects")
        object.__setattr__(
            self,
            "last_frame_age_s",
            optional_non_negative(self.last_frame_age_s, "last_frame_age_s"),
        )
        choice(self.tamper, TAMPER_STATES, "tamper state")
        object.__setattr__(self, "tamper_score", unit_interval(self.tamper_score, "tamper_score"))
        object.__setattr__(self, "target_fps", _optional_fps(self.target_fps, "target_fps"))
        object.__setattr__(self, "granted_fps", _optional_fps(self.granted_fps, "granted_fps"))
        _flag(self.saturated, "saturated")

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form (always with the grant fields)."""
        return {key: getattr(self, key) for key in (*_CAMERA_FIELDS, *_CAMERA_GRANT_FIELDS)}

    @classmethod
    def from_dict(cls, data: object) -> CameraHealth:
        """Parse the form ``to_dict`` makes, or that of a node older than the grant fields.

        The keys must be exactly ``KEYS`` or exactly ``KEYS_BEFORE_GRANTS`` (the
        grant fields all present or all absent); absent, they take their defaults.

        Raises:
            ValidationError: Anything else.
        """
        older = isinstance(data, Mapping) and set(data) == _CAMERA_KEYS_BEFORE_GRANTS
        d = require_keys(
            data, _CAMERA_KEYS_BEFORE_GRANTS if older else _CAMERA_KEYS, "camera health"
        )
        return cls(
            camera_id=text(d["camera_id"], "camera_id", 64),
            state=text(d["state"], "state", 32),
            fps_in=finite(d["fps_in"], "fps_in"),
            fps_analysed=finite(d["fps_analysed"], "fps_analysed"),
            decode_errors=count(d["decode_errors"], "decode_errors"),
            reconnects=count(d["reconnects"], "reconnects"),
            last_frame_age_s=optional_non_negative(d["last_frame_age_s"], "last_frame_age_s"),
            tamper=choice(d["tamper"], TAMPER_STATES, "tamper state"),
            tamper_score=finite(d["tamper_score"], "tamper_score"),
            target_fps=_optional_fps(d.get("target_fps"), "target_fps"),
            granted_fps=_optional_fps(d.get("granted_fps"), "granted_fps"),
            saturated=_flag(d.get("saturated", False), "saturated"),
        )


def _flag(value: object, where: str) -> bool:
    """``value`` if it is a bool (JSON ``true``/``false``), else ``ValidationError``."""
    if not isinstance(value, bool):
        raise ValidationError(f"{where} must be a bool, got {value!r}")
    return value


def _optional_fps(value: object, where: str) -> float | None:
    """``None``, or an fps in ``[0, 1000]`` (the bound of ``fps_in``)."""
    return None if value is None else non_negative(value, where, 1000.0)


@dataclass(frozen=True, slots=True)
class NodeHealth:
    """One health report of an edge node (the body of a ``health`` outbox item).

    Attributes:
        report_id: A ULID (``new_event_id(at)``), the idempotency key.
        node_id: The reporting node.
        at: When the node made the report (node clock, UTC).
        state: The node's own link state.
        cpu_percent: System-wide CPU use, in [0, 100].
        memory_percent: System memory use, in [0, 100].
        disk_free_bytes: Free bytes on the data directory's disk.
        disk_total_bytes: Size of that disk.
        temperature_c: The hottest sensor, where one is readable.
        outbox_items: Items waiting in the outbox.
        outbox_bytes: Their size.
        outbox_oldest_age_s: Age of the oldest waiting item; ``None`` when empty.
        outbox_dropped: Items dropped by the overflow policy, per kind (cumulative).
        quarantined: Items the server rejected (cumulative).
        clock_offset_s: Server time minus node time, estimated from replies.
        versions: Component versions (``argus``, models, ...).
        cameras: The health of each camera the node runs.
    """

    report_id: str
    node_id: str
    at: datetime
    state: NodeState
    cpu_percent: float
    memory_percent: float
    disk_free_bytes: int
    disk_total_bytes: int
    temperature_c: float | None
    outbox_items: int
    outbox_bytes: int
    outbox_oldest_age_s: float | None
    outbox_dropped: Mapping[str, int]
    quarantined: int
    clock_offset_s: float | None
    versions: Mapping[str, str]
    cameras: tuple[CameraHealth, ...]

    KEYS: ClassVar[frozenset[str]] = _NODE_KEYS

    def __post_init__(self) -> None:
        check_event_id(self.report_id)
        check_node_id(self.node_id)
        object.__setattr__(self, "at", aware_utc(self.at, "at"))
        choice(self.state, NODE_STATES, "node state")
        for name in ("cpu_percent", "memory_percent"):
            object.__setattr__(self, name, non_negative(getattr(self, name), name, 100.0))
        for name in ("disk_free_bytes", "disk_total_bytes", "outbox_items", "outbox_bytes"):
            count(getattr(self, name), name)
        count(self.quarantined, "quarantined")
        if self.temperature_c is not None:
            object.__setattr__(self, "temperature_c", finite(self.temperature_c, "temperature_c"))
        object.__setattr__(
            self,
            "outbox_oldest_age_s",
            optional_non_negative(self.outbox_oldest_age_s, "outbox_oldest_age_s"),
        )
        if self.clock_offset_s is not None:
            offset = finite(self.clock_offset_s, "clock_offset_s")
            if abs(offset) > MAX_CLOCK_OFFSET_S:
                raise ValidationError(
                    f"clock_offset_s must be within +-{MAX_CLOCK_OFFSET_S:.0f} s, got {offset}"
                )
            object.__setattr__(self, "clock_offset_s", offset)
        object.__setattr__(self, "outbox_dropped", int_map(self.outbox_dropped, "outbox_dropped"))
        object.__setattr__(self, "versions", str_map(self.versions, "versions"))
        if not isinstance(self.cameras, tuple | list) or len(self.cameras) > MAX_REPORT_CAMERAS:
            raise ValidationError(f"cameras must be a list of at most {MAX_REPORT_CAMERAS}")
        if not all(isinstance(c, CameraHealth) for c in self.cameras):
            raise ValidationError("cameras must hold CameraHealth values")
        object.__setattr__(self, "cameras", tuple(self.cameras))

    def camera(self, camera_id: str) -> CameraHealth | None:
        """The health of ``camera_id`` in this report, or ``None``."""
        return next((c for c in self.cameras if c.camera_id == camera_id), None)

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form; ``at`` is ISO 8601 with ``Z``."""
        out: dict[str, object] = {key: getattr(self, key) for key in _NODE_FIELDS}
        out["at"] = iso_z(self.at)
        out["outbox_dropped"] = dict(self.outbox_dropped)
        out["versions"] = dict(self.versions)
        out["cameras"] = [c.to_dict() for c in self.cameras]
        return out

    @classmethod
    def from_dict(cls, data: object) -> NodeHealth:
        """Parse the form ``to_dict`` makes (exact keys).

        Raises:
            ValidationError: Anything else.
        """
        d = require_keys(data, _NODE_KEYS, "node health")
        temperature, offset = d["temperature_c"], d["clock_offset_s"]
        return cls(
            report_id=check_event_id(d["report_id"]),
            node_id=check_node_id(d["node_id"]),
            at=parse_time(d["at"], "at"),
            state=choice(d["state"], NODE_STATES, "node state"),
            cpu_percent=finite(d["cpu_percent"], "cpu_percent"),
            memory_percent=finite(d["memory_percent"], "memory_percent"),
            disk_free_bytes=count(d["disk_free_bytes"], "disk_free_bytes"),
            disk_total_bytes=count(d["disk_total_bytes"], "disk_total_bytes"),
            temperature_c=None if temperature is None else finite(temperature, "temperature_c"),
            outbox_items=count(d["outbox_items"], "outbox_items"),
            outbox_bytes=count(d["outbox_bytes"], "outbox_bytes"),
            outbox_oldest_age_s=optional_non_negative(
                d["outbox_oldest_age_s"], "outbox_oldest_age_s"
            ),
            outbox_dropped=int_map(d["outbox_dropped"], "outbox_dropped"),
            quarantined=count(d["quarantined"], "quarantined"),
            clock_offset_s=None if offset is None else finite(offset, "clock_offset_s"),
            versions=str_map(d["versions"], "versions"),
            cameras=tuple(CameraHealth.from_dict(c) for c in object_list(d["cameras"], "cameras")),
        )


@dataclass(frozen=True, slots=True)
class EdgeNode:
    """An edge node as the control plane stores it.

    Attributes:
        node_id: The node id (``[a-z0-9][a-z0-9._-]{0,63}``).
        key_id: The API key the node id is bound to (the first that registered it).
        version: The node's Argus version at its last registration.
        models: Model packs it has (``"yolov7-tiny@1"``).
        capabilities: What it can do (``"tamper"``, ``"evidence"``, ``"rtsp"``).
        hostname: Its host name, may be empty.
        registered_at: First registration (UTC).
        evidence_key: 32 random bytes the node seals evidence with (never in ``repr``
            or ``to_dict``; encrypted at rest by the SQL store).
        last_seen_at: Its last health report was received (UTC); ``None`` before one.
        last_report: Its last health report.
        offline: The server's view: no report for three health intervals.
    """

    node_id: str
    key_id: str
    version: str
    models: tuple[str, ...]
    capabilities: tuple[str, ...]
    hostname: str
    registered_at: datetime
    evidence_key: bytes = field(repr=False)
    last_seen_at: datetime | None = None
    last_report: NodeHealth | None = None
    offline: bool = False

    def __post_init__(self) -> None:
        check_node_id(self.node_id)
        text(self.key_id, "key_id", 64)
        text(self.version, "version", 64)
        object.__setattr__(self, "models", text_tuple(self.models, "models", 64))
        object.__setattr__(
            self, "capabilities", text_tuple(self.capabilities, "capabilities", 64, 64)
        )
        text(self.hostname, "hostname", 255, empty=True)
        object.__setattr__(self, "registered_at", aware_utc(self.registered_at, "registered_at"))
        if self.last_seen_at is not None:
            object.__setattr__(self, "last_seen_at", aware_utc(self.last_seen_at, "last_seen_at"))
        if self.last_report is not None and not isinstance(self.last_report, NodeHealth):
            raise ValidationError("last_report must be a NodeHealth or None")
        if not isinstance(self.offline, bool):
            raise ValidationError("offline must be a bool")
        if not isinstance(self.evidence_key, bytes) or len(self.evidence_key) != 32:
            raise ValidationError("evidence_key must be 32 bytes")

    def to_dict(self) -> dict[str, object]:
        """Return the public JSON form (without ``evidence_key`` and ``key_id``)."""
        return {
            "node_id": self.node_id,
            "version": self.version,
            "models": list(self.models),
            "capabilities": list(self.capabilities),
            "hostname": self.hostname,
            "registered_at": iso_z(self.registered_at),
            "last_seen_at": iso_z_or_none(self.last_seen_at),
            "last_report": None if self.last_report is None else self.last_report.to_dict(),
            "offline": self.offline,
        }
