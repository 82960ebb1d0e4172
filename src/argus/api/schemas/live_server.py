"""Messages the server sends on ``/ws``, told apart by their ``type``.

One model per message type. Replies to a client message (``subscribed``,
``unsubscribed``, ``auth.ok``, ``ack.ok``, ``pong``, ``error``) echo its
``request_id``; channel messages (``alert.*``, ``tracks``, ``counts``,
``camera.status``) name their ``channel``. ``server_message`` builds the
message of a hub update (``argus.services.live``); the API sends
``model_dump(mode="json")`` of each. They are listed in the OpenAPI document's
components (see ``argus.api.schemas.websockets``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from argus.domain.live import LiveTrack
from argus.ports.pipelines import CameraState, CameraStatus
from argus.services.live import (
    AlertUpdate,
    CountsUpdate,
    LiveUpdate,
    StatusUpdate,
    TracksUpdate,
)

__all__ = [
    "AckOkMessage",
    "AlertCreatedMessage",
    "AlertEscalatedMessage",
    "AlertEvidenceMessage",
    "AlertGroupUpdatedMessage",
    "AlertUpdatedMessage",
    "AuthOkMessage",
    "CameraStatusMessage",
    "CountsMessage",
    "ErrorCode",
    "LiveErrorMessage",
    "LiveServerMessage",
    "PongMessage",
    "SubscribedMessage",
    "TrackItem",
    "TracksMessage",
    "UnsubscribedMessage",
    "WelcomeMessage",
    "server_message",
]

ErrorCode = Literal["invalid", "not_found", "conflict", "unauthorized", "forbidden", "unavailable"]
RequestId = Annotated[str | None, Field(description="The request_id of the message answered.")]
AlertBody = Annotated[
    dict[str, Any],
    Field(description="The alert as GET /api/v1/alerts/{id} returns it (AlertOut)."),
]


class _ServerMessage(BaseModel):
    # Every field is always sent, so the document lists each as required.
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)


class CameraStatusMessage(_ServerMessage):
    """A local pipeline's state changed (channel ``system``; also listed in ``welcome``)."""

    type: Literal["camera.status"] = "camera.status"
    channel: Literal["system"] = "system"
    camera_id: str
    state: CameraState
    last_error: str | None
    fps_in: float
    fps_decoded: float
    fps_detected: float
    target_fps: float | None = Field(
        description="The analysed fps the camera asks of the shared scheduler (null without one)."
    )
    granted_fps: float | None = Field(
        description="The analysed fps the scheduler grants it (null without a scheduler)."
    )
    saturated: bool = Field(
        description="The box cannot give the camera its fps: it analyses fewer frames. A "
        "message is sent when this changes, as when the state or the error does."
    )
    updated_at: str = Field(description="When the status was produced (ISO 8601, UTC).")

    @classmethod
    def of(cls, status: CameraStatus) -> CameraStatusMessage:
        """The message of ``status``."""
        return cls(
            camera_id=status.camera_id,
            state=status.state,
            last_error=status.last_error,
            fps_in=round(status.fps_in, 2),
            fps_decoded=round(status.fps_decoded, 2),
            fps_detected=round(status.fps_detected, 2),
            target_fps=status.target_fps,
            granted_fps=None if status.granted_fps is None else round(status.granted_fps, 2),
            saturated=status.saturated,
            updated_at=status.updated_at.isoformat(),
        )


class WelcomeMessage(_ServerMessage):
    """Sent once the connection is signed in."""

    type: Literal["welcome"] = "welcome"
    server: str = Field(description="The id of the server the connection landed on.")
    actor: str | None = Field(description="Who the connection is signed in as.")
    channels: str = Field(description="A regular expression of the channels one may subscribe.")
    cameras: list[CameraStatusMessage] = Field(description="The local pipelines' statuses.")


class SubscribedMessage(_ServerMessage):
    """The answer to ``subscribe``: every channel of the connection now."""

    type: Literal["subscribed"] = "subscribed"
    channels: list[str]
    request_id: RequestId = None


class UnsubscribedMessage(_ServerMessage):
    """The answer to ``unsubscribe``: every channel of the connection now."""

    type: Literal["unsubscribed"] = "unsubscribed"
    channels: list[str]
    request_id: RequestId = None


class AuthOkMessage(_ServerMessage):
    """The answer to ``auth``: the connection now runs on the new token."""

    type: Literal["auth.ok"] = "auth.ok"
    actor: str
    request_id: RequestId = None


class AckOkMessage(_ServerMessage):
    """The answer to ``ack``: the acknowledged alert."""

    type: Literal["ack.ok"] = "ack.ok"
    alert: AlertBody
    request_id: RequestId = None


class PongMessage(_ServerMessage):
    """The answer to ``ping``."""

    type: Literal["pong"] = "pong"
    request_id: RequestId = None


class LiveErrorMessage(_ServerMessage):
    """A message was refused; the connection stays open unless it was not signed in."""

    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    request_id: RequestId = None


class AlertCreatedMessage(_ServerMessage):
    """An alert was raised (channel ``alerts``)."""

    type: Literal["alert.created"] = "alert.created"
    channel: Literal["alerts", "supervisor"] = "alerts"
    alert: AlertBody


class AlertUpdatedMessage(_ServerMessage):
    """An alert changed state (channel ``alerts``)."""

    type: Literal["alert.updated"] = "alert.updated"
    channel: Literal["alerts", "supervisor"] = "alerts"
    alert: AlertBody


class AlertEscalatedMessage(_ServerMessage):
    """An alert was escalated (channels ``alerts`` and ``supervisor``)."""

    type: Literal["alert.escalated"] = "alert.escalated"
    channel: Literal["alerts", "supervisor"] = "alerts"
    alert: AlertBody


class AlertEvidenceMessage(_ServerMessage):
    """An alert's evidence was captured, or could not be (channel ``alerts``)."""

    type: Literal["alert.evidence"] = "alert.evidence"
    channel: Literal["alerts", "supervisor"] = "alerts"
    alert: AlertBody


class AlertGroupUpdatedMessage(_ServerMessage):
    """An alert group opened, grew or changed state (channel ``alerts``)."""

    type: Literal["alert_group.updated"] = "alert_group.updated"
    channel: Literal["alerts", "supervisor"] = "alerts"
    group: dict[str, Any] = Field(
        description="The group as GET /api/v1/alert-groups/{id} returns it."
    )


class TrackItem(_ServerMessage):
    """One confirmed track of a ``tracks`` message."""

    id: int
    class_name: str
    confidence: float
    box: list[float] = Field(description="[x1, y1, x2, y2] in pixels.")

    @classmethod
    def of(cls, track: LiveTrack) -> TrackItem:
        """The item of ``track``."""
        return cls(
            id=track.id, class_name=track.class_name, confidence=track.confidence, box=[*track.box]
        )


class TracksMessage(_ServerMessage):
    """A camera's tracks after one analysed frame (channel ``camera.{id}.tracks``)."""

    type: Literal["tracks"] = "tracks"
    channel: str
    camera_id: str
    frame_index: int
    timestamp: float = Field(description="Seconds of the stream.")
    width: int
    height: int
    tracks: list[TrackItem]


class CountsMessage(_ServerMessage):
    """A camera's line and zone counts, when they change (channel ``camera.{id}.counts``)."""

    type: Literal["counts"] = "counts"
    channel: str
    camera_id: str
    timestamp: float = Field(description="Seconds of the stream.")
    counts: dict[str, dict[str, Any]] = Field(
        description="Per line: counts per direction and per class; per zone: occupancy, "
        "max_occupancy and visits."
    )
    since: datetime | None = Field(
        None,
        description="When these counts started (UTC): the start of the camera's current "
        "pipeline run. They reset when the pipeline restarts; /analytics/counts over "
        "[since, now) gives the same line and zone counts. Null when unknown.",
    )


AlertMessage = (
    AlertCreatedMessage
    | AlertUpdatedMessage
    | AlertEscalatedMessage
    | AlertEvidenceMessage
    | AlertGroupUpdatedMessage
)

LiveServerMessage = Annotated[
    WelcomeMessage
    | SubscribedMessage
    | UnsubscribedMessage
    | AuthOkMessage
    | AckOkMessage
    | PongMessage
    | LiveErrorMessage
    | AlertCreatedMessage
    | AlertUpdatedMessage
    | AlertEscalatedMessage
    | AlertEvidenceMessage
    | AlertGroupUpdatedMessage
    | TracksMessage
    | CountsMessage
    | CameraStatusMessage,
    Field(discriminator="type"),
]
"""Every message the server sends on ``/ws``."""

_ALERT_MESSAGES: dict[
    str,
    type[AlertCreatedMessage | AlertUpdatedMessage | AlertEscalatedMessage | AlertEvidenceMessage],
] = {
    "alert.created": AlertCreatedMessage,
    "alert.updated": AlertUpdatedMessage,
    "alert.escalated": AlertEscalatedMessage,
    "alert.evidence": AlertEvidenceMessage,
}


def _alert_message(update: AlertUpdate) -> AlertMessage:
    channel: Literal["alerts", "supervisor"] = (
        "supervisor" if update.channel == "supervisor" else "alerts"
    )
    if update.type == "alert_group.updated":
        return AlertGroupUpdatedMessage(channel=channel, group=dict(update.alert))
    model = _ALERT_MESSAGES[update.type]
    return model(channel=channel, alert=dict(update.alert))


def server_message(
    update: LiveUpdate,
) -> TracksMessage | CountsMessage | CameraStatusMessage | AlertMessage:
    """The wire message of a hub update."""
    if isinstance(update, TracksUpdate):
        frame = update.frame
        return TracksMessage(
            channel=update.channel,
            camera_id=frame.camera_id,
            frame_index=frame.frame_index,
            timestamp=frame.timestamp,
            width=frame.width,
            height=frame.height,
            tracks=[TrackItem.of(track) for track in frame.tracks],
        )
    if isinstance(update, CountsUpdate):
        return CountsMessage(
            channel=update.channel,
            camera_id=update.camera_id,
            timestamp=update.timestamp,
            counts={name: dict(values) for name, values in update.counts.items()},
            since=update.since,
        )
    if isinstance(update, StatusUpdate):
        return CameraStatusMessage.of(update.status)
    return _alert_message(update)
