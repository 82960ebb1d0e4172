"""The wire types between an edge node and the control plane (``argus edge``).

A node talks to the control plane's HTTP API only:

* ``POST /api/v1/edge/register``: ``NodeRegistration`` -> ``RegistrationReply``;
* ``GET /api/v1/edge/config``: -> ``EdgeConfig`` (its cameras, lines, zones);
* ``POST /api/v1/edge/sync``: ``SyncBatch`` -> ``SyncReply``.

Every type is a frozen, validated value with ``to_dict()`` (JSON-ready, times
ISO 8601 with ``Z``) and ``from_dict(data)`` that raises ``ValidationError`` on
anything but that form. The configuration, the health report and stored node, the
evidence and the sync items live in ``edge_config``, ``node_health``,
``edge_evidence`` and ``edge_items`` of ``argus.domain``; every name is
importable from here.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from argus.domain.checks import aware_utc, finite, text
from argus.domain.codec import iso_z, parse_time, require_keys
from argus.domain.edge_config import (
    MAX_CONFIG_CAMERAS,
    EdgeCamera,
    EdgeConfig,
    config_revision,
)
from argus.domain.edge_evidence import (
    EVIDENCE_KINDS,
    MAX_EVIDENCE_EVENTS,
    EdgeEvidence,
    EvidenceKind,
    SealedBlob,
)
from argus.domain.edge_items import (
    ITEM_KINDS,
    ITEM_STATUSES,
    MAX_BATCH_ITEMS,
    ItemKind,
    ItemResult,
    ItemStatus,
    OutboxItem,
    SyncBatch,
    SyncReply,
)
from argus.domain.edge_values import NODE_ID_PATTERN, check_node_id, interval, text_tuple
from argus.domain.errors import ValidationError
from argus.domain.node_health import (
    MAX_REPORT_CAMERAS,
    NODE_STATES,
    TAMPER_STATES,
    CameraHealth,
    EdgeNode,
    NodeHealth,
    NodeState,
    TamperState,
)

__all__ = [
    "EVIDENCE_KEY_SIZE",
    "EVIDENCE_KINDS",
    "ITEM_KINDS",
    "ITEM_STATUSES",
    "MAX_BATCH_ITEMS",
    "MAX_CONFIG_CAMERAS",
    "MAX_EVIDENCE_EVENTS",
    "MAX_REPORT_CAMERAS",
    "NODE_ID_PATTERN",
    "NODE_STATES",
    "TAMPER_STATES",
    "CameraHealth",
    "EdgeCamera",
    "EdgeConfig",
    "EdgeEvidence",
    "EdgeNode",
    "EvidenceKind",
    "ItemKind",
    "ItemResult",
    "ItemStatus",
    "NodeHealth",
    "NodeRegistration",
    "NodeState",
    "OutboxItem",
    "RegistrationReply",
    "SealedBlob",
    "SyncBatch",
    "SyncReply",
    "TamperState",
    "check_node_id",
    "config_revision",
]

EVIDENCE_KEY_SIZE = 32
"""Bytes of a node's evidence key (AES-256)."""
_MAX_NAMES = 64


@dataclass(frozen=True, slots=True)
class NodeRegistration:
    """``POST /api/v1/edge/register`` body.

    Attributes:
        node_id: The node id (``[a-z0-9][a-z0-9._-]{0,63}``).
        version: The node's Argus version.
        models: Model packs it has, e.g. ``"yolov7-tiny@1"``.
        capabilities: What it can do, e.g. ``"tamper"``, ``"evidence"``, ``"rtsp"``.
        hostname: Its host name, may be empty.
    """

    node_id: str
    version: str
    models: tuple[str, ...]
    capabilities: tuple[str, ...]
    hostname: str = ""

    _KEYS: ClassVar[frozenset[str]] = frozenset(
        {"node_id", "version", "models", "capabilities", "hostname"}
    )

    def __post_init__(self) -> None:
        check_node_id(self.node_id)
        text(self.version, "version", 64)
        object.__setattr__(self, "models", text_tuple(self.models, "models", _MAX_NAMES))
        object.__setattr__(
            self, "capabilities", text_tuple(self.capabilities, "capabilities", _MAX_NAMES, 64)
        )
        text(self.hostname, "hostname", 255, empty=True)

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {
            "node_id": self.node_id,
            "version": self.version,
            "models": list(self.models),
            "capabilities": list(self.capabilities),
            "hostname": self.hostname,
        }

    @classmethod
    def from_dict(cls, data: object) -> NodeRegistration:
        """Parse the form ``to_dict`` makes (exact keys).

        Raises:
            ValidationError: Anything else.
        """
        d = require_keys(data, cls._KEYS, "registration")
        return cls(
            node_id=check_node_id(d["node_id"]),
            version=text(d["version"], "version", 64),
            models=text_tuple(d["models"], "models", _MAX_NAMES),
            capabilities=text_tuple(d["capabilities"], "capabilities", _MAX_NAMES, 64),
            hostname=text(d["hostname"], "hostname", 255, empty=True),
        )


@dataclass(frozen=True, slots=True)
class RegistrationReply:
    """``POST /api/v1/edge/register`` reply.

    Attributes:
        node_id: The registered node.
        evidence_key: Base64 of the node's 32-byte evidence key (made at its
            first registration, the same every time).
        health_interval_s: Seconds between health reports.
        server_time: The control plane's clock (UTC).
    """

    node_id: str
    evidence_key: str
    health_interval_s: float
    server_time: datetime

    _KEYS: ClassVar[frozenset[str]] = frozenset(
        {"node_id", "evidence_key", "health_interval_s", "server_time"}
    )

    def __post_init__(self) -> None:
        check_node_id(self.node_id)
        self.key_bytes()
        object.__setattr__(
            self, "health_interval_s", interval(self.health_interval_s, "health_interval_s", True)
        )
        object.__setattr__(self, "server_time", aware_utc(self.server_time, "server_time"))

    def key_bytes(self) -> bytes:
        """The evidence key, decoded (32 bytes).

        Raises:
            ValidationError: ``evidence_key`` is not base64 of 32 bytes.
        """
        if not isinstance(self.evidence_key, str):
            raise ValidationError("evidence_key must be base64 of 32 bytes")
        try:
            key = base64.b64decode(self.evidence_key, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationError("evidence_key must be base64 of 32 bytes") from exc
        if len(key) != EVIDENCE_KEY_SIZE:
            raise ValidationError("evidence_key must be base64 of 32 bytes")
        return key

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {
            "node_id": self.node_id,
            "evidence_key": self.evidence_key,
            "health_interval_s": self.health_interval_s,
            "server_time": iso_z(self.server_time),
        }

    @classmethod
    def from_dict(cls, data: object) -> RegistrationReply:
        """Parse the form ``to_dict`` makes (exact keys).

        Raises:
            ValidationError: Anything else.
        """
        d = require_keys(data, cls._KEYS, "registration reply")
        return cls(
            node_id=check_node_id(d["node_id"]),
            evidence_key=text(d["evidence_key"], "evidence_key", 64),
            health_interval_s=finite(d["health_interval_s"], "health_interval_s"),
            server_time=parse_time(d["server_time"], "server_time"),
        )
