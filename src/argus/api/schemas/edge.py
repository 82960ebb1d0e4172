"""Schemas of ``/api/v1/edge`` (what nodes send and receive) and ``/api/v1/nodes``.

The edge wire types are the domain's (``argus.domain.edge``): a request body is
read by these schemas for its shape, then checked field by field by the
domain's ``from_dict`` (a 422 names the field); a reply is the domain value's
``to_dict``. Event, health and evidence bodies inside a sync batch are plain
JSON objects here: each is checked on its own, so one bad item is rejected
alone instead of failing the batch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from argus.api.schemas.common import StrictModel, Text
from argus.domain.edge import (
    EdgeConfig,
    EdgeNode,
    NodeHealth,
    NodeRegistration,
    RegistrationReply,
    SyncBatch,
    SyncReply,
)
from argus.domain.event_types import EventType

__all__ = [
    "EdgeConfigPublic",
    "EventTypeList",
    "EventTypePublic",
    "NodeDetail",
    "NodeHealthPublic",
    "NodeList",
    "NodePublic",
    "NodeRegistrationCreate",
    "RegistrationReplyPublic",
    "SyncBatchCreate",
    "SyncReplyPublic",
]


class NodeRegistrationCreate(StrictModel):
    """``POST /api/v1/edge/register``: who the node is."""

    node_id: Text = Field(
        min_length=1, max_length=64, description="[a-z0-9][a-z0-9._-]{0,63}, lower case."
    )
    version: Text = Field(min_length=1, max_length=64, description="The node's Argus version.")
    models: list[Text] = Field(default_factory=list, max_length=64, description="yolov7-tiny@1")
    capabilities: list[Text] = Field(
        default_factory=list, max_length=64, description="tamper, evidence, rtsp..."
    )
    hostname: Text = Field(default="", max_length=255)

    def to_domain(self) -> NodeRegistration:
        """The domain value (``ValidationError``, a 422, when a field is not valid)."""
        return NodeRegistration.from_dict(self.model_dump())


class RegistrationReplyPublic(BaseModel):
    """The node's evidence key and health interval."""

    node_id: str
    evidence_key: str = Field(description="Base64 of 32 bytes; the same at every registration.")
    health_interval_s: float
    server_time: datetime

    @classmethod
    def of(cls, reply: RegistrationReply) -> RegistrationReplyPublic:
        """The public form of a reply."""
        return cls.model_validate(reply.to_dict())


class EdgeCameraPublic(BaseModel):
    """One camera as its node runs it."""

    camera: dict[str, Any] = Field(description="The camera, credentials in clear.")
    lines: list[dict[str, Any]]
    zones: list[dict[str, Any]]
    evidence_types: list[str] = Field(description="Event types the node captures evidence for.")


class EdgeConfigPublic(BaseModel):
    """``GET /api/v1/edge/config``: everything a node runs, with its revision."""

    node_id: str
    revision: str = Field(description="SHA-256 hex of the configuration's canonical JSON.")
    cameras: list[EdgeCameraPublic]
    health_interval_s: float
    pre_roll_s: float
    post_roll_s: float
    server_time: datetime

    @classmethod
    def of(cls, config: EdgeConfig) -> EdgeConfigPublic:
        """The public form of a configuration."""
        return cls.model_validate(config.to_dict())


class OutboxItemCreate(StrictModel):
    """One item of a sync batch."""

    id: Text = Field(min_length=1, max_length=64, description="Event, report or evidence id.")
    kind: Literal["event", "health", "evidence"]
    body: dict[str, Any] = Field(description="The envelope, health report or sealed evidence.")


class SyncBatchCreate(StrictModel):
    """``POST /api/v1/edge/sync``: the oldest items of a node's outbox."""

    node_id: Text = Field(min_length=1, max_length=64)
    sent_at: Text = Field(min_length=1, max_length=64, description="ISO 8601 (node clock).")
    items: list[OutboxItemCreate] = Field(max_length=500)

    def to_domain(self) -> SyncBatch:
        """The domain value (``ValidationError``, a 422, when the batch's frame is not valid)."""
        return SyncBatch.from_dict(self.model_dump())


class ItemResultPublic(BaseModel):
    """What became of one item."""

    id: str
    status: Literal["stored", "duplicate", "rejected"]
    reason: str | None


class SyncReplyPublic(BaseModel):
    """One result per item, in the batch's order."""

    results: list[ItemResultPublic]
    server_time: datetime

    @classmethod
    def of(cls, reply: SyncReply) -> SyncReplyPublic:
        """The public form of a reply."""
        return cls.model_validate(reply.to_dict())


class CameraHealthPublic(BaseModel):
    """One camera in a node's health report."""

    camera_id: str
    state: str
    fps_in: float
    fps_analysed: float
    decode_errors: int
    reconnects: int
    last_frame_age_s: float | None
    tamper: str
    tamper_score: float
    target_fps: float | None = Field(
        default=None,
        description="Analysed fps the camera asks of the node's shared inference scheduler; "
        "null when no scheduler serves it (or the node is older than this field).",
    )
    granted_fps: float | None = Field(
        default=None,
        description="Analysed fps that scheduler grants the camera now (at most target_fps); "
        "null when no scheduler serves it.",
    )
    saturated: bool = Field(
        default=False,
        description="The grant is below the target: the node cannot analyse every camera at "
        "its rate, so this one analyses fewer frames, evenly spaced.",
    )


class NodeHealthPublic(BaseModel):
    """One health report of a node."""

    report_id: str
    node_id: str
    at: datetime
    state: str = Field(description="The node's own link state: online, buffering, syncing.")
    cpu_percent: float
    memory_percent: float
    disk_free_bytes: int
    disk_total_bytes: int
    temperature_c: float | None
    outbox_items: int
    outbox_bytes: int
    outbox_oldest_age_s: float | None
    outbox_dropped: dict[str, int]
    quarantined: int
    clock_offset_s: float | None
    versions: dict[str, str]
    cameras: list[CameraHealthPublic]

    @classmethod
    def of(cls, report: NodeHealth) -> NodeHealthPublic:
        """The public form of a report."""
        return cls.model_validate(report.to_dict())


class NodePublic(BaseModel):
    """An edge node as the control plane sees it."""

    node_id: str
    state: Literal["online", "buffering", "syncing", "offline"] = Field(
        description="offline when the server marked it so (or it never reported), else the "
        "link state of its latest report."
    )
    version: str
    models: list[str]
    capabilities: list[str]
    hostname: str
    registered_at: datetime
    last_seen_at: datetime | None
    last_report: NodeHealthPublic | None
    offline: bool
    camera_ids: list[str] = Field(description="The cameras assigned to it.")

    @classmethod
    def of(cls, node: EdgeNode, camera_ids: list[str]) -> NodePublic:
        """The public form of a node and its cameras."""
        report = node.last_report
        state = "offline" if node.offline or report is None else report.state
        return cls.model_validate({**node.to_dict(), "state": state, "camera_ids": camera_ids})


class NodeList(BaseModel):
    """Every registered node."""

    items: list[NodePublic]


class NodeDetail(NodePublic):
    """A node with its recent health reports (oldest first)."""

    history: list[NodeHealthPublic]


class EventTypePublic(BaseModel):
    """One event type of the catalogue."""

    name: str
    description: str
    origin: Literal["pipeline", "node", "health"]
    clears: str | None = Field(description="The type whose open alerts this one clears.")

    @classmethod
    def of(cls, kind: EventType) -> EventTypePublic:
        """The public form of a type."""
        return cls.model_validate(kind.to_dict())


class EventTypeList(BaseModel):
    """The catalogue, by name."""

    items: list[EventTypePublic]
