"""What a node runs: its cameras (with lines and zones) and intervals, with a revision.

``GET /api/v1/edge/config`` returns an ``EdgeConfig``; its ``revision`` is the
SHA-256 of the canonical JSON of everything but the node id and server time,
so a node (and a long poll) can tell whether anything changed. Importable from
``argus.domain.edge`` too.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from argus.domain.checks import aware_utc, finite, text
from argus.domain.codec import iso_z, object_list, parse_time, require_keys
from argus.domain.edge_values import check_node_id, interval, json_object, text_tuple
from argus.domain.errors import ValidationError

__all__ = ["MAX_CONFIG_CAMERAS", "EdgeCamera", "EdgeConfig", "config_revision"]

MAX_CONFIG_CAMERAS = 512
"""Most cameras one node's configuration may hold."""
_REVISION = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class EdgeCamera:
    """One camera as a node needs it.

    Attributes:
        camera: The camera's JSON (the public camera form plus ``credentials``);
            it has at least a string ``id``.
        lines: Its counting lines (JSON objects).
        zones: Its zones (JSON objects).
        evidence_types: Event types of enabled rules that cover this camera
            (the node captures evidence for these).
    """

    camera: Mapping[str, object]
    lines: tuple[Mapping[str, object], ...] = ()
    zones: tuple[Mapping[str, object], ...] = ()
    evidence_types: tuple[str, ...] = ()

    _KEYS: ClassVar[frozenset[str]] = frozenset({"camera", "lines", "zones", "evidence_types"})

    def __post_init__(self) -> None:
        camera = json_object(self.camera, "camera")
        text(camera.get("id"), "camera.id", 64)
        object.__setattr__(self, "camera", camera)
        for name in ("lines", "zones"):
            value = getattr(self, name)
            if not isinstance(value, tuple | list) or len(value) > 1000:
                raise ValidationError(f"{name} must be a list of at most 1000 objects")
            checked = tuple(json_object(v, f"{name}[{i}]") for i, v in enumerate(value))
            object.__setattr__(self, name, checked)
        object.__setattr__(
            self, "evidence_types", text_tuple(self.evidence_types, "evidence_types", 256, 64)
        )

    @property
    def camera_id(self) -> str:
        """The camera's id."""
        return str(self.camera["id"])

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {
            "camera": dict(self.camera),
            "lines": [dict(line) for line in self.lines],
            "zones": [dict(zone) for zone in self.zones],
            "evidence_types": list(self.evidence_types),
        }

    @classmethod
    def from_dict(cls, data: object) -> EdgeCamera:
        """Parse the form ``to_dict`` makes (exact keys).

        Raises:
            ValidationError: Anything else.
        """
        d = require_keys(data, cls._KEYS, "edge camera")
        return cls(
            camera=json_object(d["camera"], "camera"),
            lines=tuple(object_list(d["lines"], "lines")),
            zones=tuple(object_list(d["zones"], "zones")),
            evidence_types=text_tuple(d["evidence_types"], "evidence_types", 256, 64),
        )


def config_revision(
    cameras: Sequence[EdgeCamera], health_interval_s: float, pre_roll_s: float, post_roll_s: float
) -> str:
    """The revision of a configuration: SHA-256 hex of its canonical JSON.

    Everything but the node id and ``server_time`` counts, in order, with keys
    sorted, so two replicas computing it for the same stored state agree.
    """
    body = {
        "cameras": [camera.to_dict() for camera in cameras],
        "health_interval_s": float(health_interval_s),
        "pre_roll_s": float(pre_roll_s),
        "post_roll_s": float(post_roll_s),
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class EdgeConfig:
    """``GET /api/v1/edge/config`` reply: everything a node runs.

    Attributes:
        node_id: The node.
        revision: ``config_revision`` of the rest (``build`` computes it).
        cameras: The cameras assigned to the node.
        health_interval_s: Seconds between health reports.
        pre_roll_s: Seconds of video before an event a clip holds.
        post_roll_s: Seconds after it.
        server_time: The control plane's clock (UTC).
    """

    node_id: str
    revision: str
    cameras: tuple[EdgeCamera, ...]
    health_interval_s: float
    pre_roll_s: float
    post_roll_s: float
    server_time: datetime

    _KEYS: ClassVar[frozenset[str]] = frozenset(
        {
            "node_id",
            "revision",
            "cameras",
            "health_interval_s",
            "pre_roll_s",
            "post_roll_s",
            "server_time",
        }
    )

    def __post_init__(self) -> None:
        check_node_id(self.node_id)
        if not isinstance(self.revision, str) or _REVISION.fullmatch(self.revision) is None:
            raise ValidationError("revision must be 64 lower-case hex digits")
        if not isinstance(self.cameras, tuple | list) or len(self.cameras) > MAX_CONFIG_CAMERAS:
            raise ValidationError(f"cameras must be a list of at most {MAX_CONFIG_CAMERAS}")
        if not all(isinstance(c, EdgeCamera) for c in self.cameras):
            raise ValidationError("cameras must hold EdgeCamera values")
        object.__setattr__(self, "cameras", tuple(self.cameras))
        object.__setattr__(
            self, "health_interval_s", interval(self.health_interval_s, "health_interval_s", True)
        )
        object.__setattr__(self, "pre_roll_s", interval(self.pre_roll_s, "pre_roll_s", False))
        object.__setattr__(self, "post_roll_s", interval(self.post_roll_s, "post_roll_s", False))
        object.__setattr__(self, "server_time", aware_utc(self.server_time, "server_time"))

    @classmethod
    def build(
        cls,
        node_id: str,
        cameras: Sequence[EdgeCamera],
        *,
        health_interval_s: float,
        pre_roll_s: float,
        post_roll_s: float,
        server_time: datetime,
    ) -> EdgeConfig:
        """The configuration with its revision computed (``config_revision``)."""
        revision = config_revision(cameras, health_interval_s, pre_roll_s, post_roll_s)
        return cls(
            node_id=node_id,
            revision=revision,
            cameras=tuple(cameras),
            health_interval_s=health_interval_s,
            pre_roll_s=pre_roll_s,
            post_roll_s=post_roll_s,
            server_time=server_time,
        )

    def camera(self, camera_id: str) -> EdgeCamera | None:
        """The camera ``camera_id`` of this configuration, or ``None``."""
        return next((c for c in self.cameras if c.camera_id == camera_id), None)

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {
            "node_id": self.node_id,
            "revision": self.revision,
            "cameras": [c.to_dict() for c in self.cameras],
            "health_interval_s": self.health_interval_s,
            "pre_roll_s": self.pre_roll_s,
            "post_roll_s": self.post_roll_s,
            "server_time": iso_z(self.server_time),
        }

    @classmethod
    def from_dict(cls, data: object) -> EdgeConfig:
        """Parse the form ``to_dict`` makes (exact keys; the revision is not recomputed).

        Raises:
            ValidationError: Anything else.
        """
        d = require_keys(data, cls._KEYS, "edge config")
        return cls(
            node_id=check_node_id(d["node_id"]),
            revision=text(d["revision"], "revision", 64),
            cameras=tuple(EdgeCamera.from_dict(c) for c in object_list(d["cameras"], "cameras")),
            health_interval_s=finite(d["health_interval_s"], "health_interval_s"),
            pre_roll_s=finite(d["pre_roll_s"], "pre_roll_s"),
            post_roll_s=finite(d["post_roll_s"], "post_roll_s"),
            server_time=parse_time(d["server_time"], "server_time"),
        )
