"""Camera schemas: credentials are write-only and never returned."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, ClassVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from argus.api.schemas.common import (
    PartialUpdate,
    StrictModel,
    Text,
    no_nul,
    non_nullable,
)
from argus.domain.cameras import Camera, Credentials
from argus.domain.recording import RecordingState, RecordingStatus
from argus.ports.pipelines import CameraState, CameraStatus
from argus.services.camera_video import StreamProbe
from argus.services.cameras import CameraChanges, NewCamera, StreamTry
from argus.services.writes import UNSET, Unset

__all__ = [
    "CameraCreate",
    "CameraList",
    "CameraProbe",
    "CameraProbeResult",
    "CameraPublic",
    "CameraStatusPublic",
    "CameraUpdate",
    "CredentialsIn",
]


def _stream_url(value: str) -> str:
    no_nul(value)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:
        raise ValueError(f"not a valid URL or path: {exc}") from exc
    if parts.password is not None:
        raise ValueError("must not contain a password; set credentials instead (encrypted at rest)")
    return value


StreamUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2048,
        description="rtsp://, http(s):// URL of the stream without a password, or the path "
        "of a video file or image folder inside the media directories (ARGUS_MEDIA_DIRS). Its "
        "host must resolve into the allowed camera networks.",
        examples=["rtsp://10.0.0.5:554/stream1"],
    ),
    AfterValidator(_stream_url),
]
DetectStreamUrl = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2048,
        description="A low-resolution stream of the same camera (a sub-stream) that detection "
        "runs on; stream_url then serves evidence, snapshots and recording, and boxes are mapped "
        "to its pixels. Same scheme, host and port as stream_url (the login is sent to both), "
        "or a file when stream_url is one.",
        examples=["rtsp://10.0.0.5:554/stream2"],
    ),
    AfterValidator(_stream_url),
]
RecordFlag = Annotated[
    bool,
    Field(description="Whether continuous recording covers this camera when the server records."),
]
CameraName = Annotated[Text, Field(min_length=1, max_length=200, description="Display name.")]
Location = Annotated[Text, Field(max_length=200, description="Site, floor or GPS; free text.")]
DetectFps = Annotated[
    float, Field(gt=0, le=120, description="Frames per second to analyse.", allow_inf_nan=False)
]
ModelName = Annotated[Text, Field(min_length=1, max_length=200, description="Model pack name.")]
EdgeNodeId = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$",
        description="The `argus edge` node that runs this camera; null: the embedded worker "
        "of `argus serve` runs it.",
        examples=["node-1"],
    ),
]


class CredentialsIn(StrictModel):
    """Login for the stream (stored encrypted, never returned)."""

    username: Text = Field(default="", max_length=256, description="User name (may be empty).")
    password: Text = Field(default="", max_length=1024, description="Password.")

    def value(self) -> Credentials:
        """The domain value."""
        return Credentials(username=self.username, password=self.password)


class CameraCreate(StrictModel):
    """A camera to register."""

    name: CameraName
    stream_url: StreamUrl
    location: Location = ""
    credentials: CredentialsIn | None = Field(
        default=None, description="Login for the stream; write-only."
    )
    enabled: bool = Field(default=True, description="Whether its pipeline runs.")
    detect_fps: DetectFps = 5.0
    model: ModelName = "yolov7-tiny"
    edge_node_id: EdgeNodeId | None = None
    detect_stream_url: DetectStreamUrl | None = None
    record: RecordFlag = True

    def command(self) -> NewCamera:
        """The service's command."""
        return NewCamera(
            name=self.name,
            stream_url=self.stream_url,
            location=self.location,
            credentials=self.credentials.value() if self.credentials else None,
            enabled=self.enabled,
            detect_fps=self.detect_fps,
            model=self.model,
            edge_node_id=self.edge_node_id,
            detect_stream_url=self.detect_stream_url,
            record=self.record,
        )


_NOT_NULL = ("name", "stream_url", "location", "enabled", "detect_fps", "model", "record")


class CameraUpdate(PartialUpdate):
    """Fields to change; absent fields keep their value, ``credentials: null`` removes them."""

    model_config = ConfigDict(json_schema_extra=non_nullable(_NOT_NULL))
    not_null: ClassVar[tuple[str, ...]] = _NOT_NULL

    name: CameraName | None = None
    stream_url: StreamUrl | None = None
    location: Location | None = None
    credentials: CredentialsIn | None = Field(
        default=None,
        description="New login (write-only); null removes it. A stream_url on another scheme, "
        "host or port removes the stored login unless a new one is sent with it.",
    )
    enabled: bool | None = None
    detect_fps: DetectFps | None = None
    model: ModelName | None = None
    edge_node_id: EdgeNodeId | None = Field(
        default=None, description="Assign the camera to this edge node; null: run it locally."
    )
    detect_stream_url: DetectStreamUrl | None = Field(
        default=None, description="A detect sub-stream; null: detect on stream_url."
    )
    record: RecordFlag | None = None

    def command(self) -> CameraChanges:
        """The service's command: the fields that were sent."""
        sent = self.model_fields_set
        credentials: Credentials | Unset | None = UNSET
        if "credentials" in sent:
            credentials = self.credentials.value() if self.credentials else None
        return CameraChanges(
            name=self.name if "name" in sent and self.name is not None else UNSET,
            stream_url=(
                self.stream_url if "stream_url" in sent and self.stream_url is not None else UNSET
            ),
            location=self.location if "location" in sent and self.location is not None else UNSET,
            credentials=credentials,
            enabled=self.enabled if "enabled" in sent and self.enabled is not None else UNSET,
            detect_fps=(
                self.detect_fps if "detect_fps" in sent and self.detect_fps is not None else UNSET
            ),
            model=self.model if "model" in sent and self.model is not None else UNSET,
            edge_node_id=self.edge_node_id if "edge_node_id" in sent else UNSET,
            detect_stream_url=(self.detect_stream_url if "detect_stream_url" in sent else UNSET),
            record=self.record if "record" in sent and self.record is not None else UNSET,
        )


class CameraPublic(BaseModel):
    """A registered camera as the API shows it."""

    id: str = Field(description="Camera id (a ULID).")
    name: str
    stream_url: str
    location: str
    has_credentials: bool = Field(description="Whether a login is stored (it is never shown).")
    enabled: bool
    detect_fps: float
    model: str
    created_at: datetime
    updated_at: datetime
    edge_node_id: str | None = Field(
        default=None, description="The edge node that runs it; null: the embedded worker."
    )
    detect_stream_url: str | None = Field(
        default=None, description="The detect sub-stream; null: detection runs on stream_url."
    )
    record: bool = Field(
        default=True, description="Whether the server's continuous recording covers it."
    )

    @classmethod
    def of(cls, camera: Camera) -> CameraPublic:
        """The public view of a camera."""
        return cls(
            id=camera.id,
            name=camera.name,
            stream_url=camera.stream_url,
            location=camera.location,
            has_credentials=camera.credentials is not None,
            enabled=camera.enabled,
            detect_fps=camera.detect_fps,
            model=camera.model,
            created_at=camera.created_at,
            updated_at=camera.updated_at,
            edge_node_id=camera.edge_node_id,
            detect_stream_url=camera.detect_stream_url,
            record=camera.record,
        )


class CameraList(BaseModel):
    """One page of cameras."""

    items: list[CameraPublic]
    total: int = Field(description="Cameras matching the filters, over all pages.")
    limit: int
    offset: int


class CameraRecordingPublic(BaseModel):
    """What a camera's continuous recording is doing."""

    state: RecordingState = Field(
        description="starting, recording, reconnecting (the stream is lost), off (not "
        "recorded: see reason) or error (it retries)."
    )
    segments: int = Field(description="Segments written since the server started.")
    bytes_written: int = Field(description="Bytes of those segments.")
    gaps: int = Field(description="Interruptions since the server started.")
    disk_bytes: int = Field(description="Bytes of the camera's segments on disk.")
    last_segment_end: datetime | None = Field(description="End of the latest segment written.")
    last_error: str | None = Field(description="Latest error text, if any.")
    reason: str | None = Field(description="Why the camera is not recorded (state off).")

    @classmethod
    def of(cls, status: RecordingStatus) -> CameraRecordingPublic:
        """The public view of a recording status."""
        return cls(
            state=status.state,
            segments=status.segments,
            bytes_written=status.bytes_written,
            gaps=status.gaps,
            disk_bytes=status.disk_bytes,
            last_segment_end=status.last_segment_end,
            last_error=status.last_error,
            reason=status.reason,
        )


class CameraStatusPublic(BaseModel):
    """What a camera's pipeline is doing."""

    camera_id: str
    state: CameraState = Field(description="starting, online, offline, error or disabled.")
    last_error: str | None = Field(description="Latest error text, if any.")
    fps_in: float = Field(description="Frames per second received.")
    fps_decoded: float = Field(description="Frames per second decoded.")
    fps_detected: float = Field(description="Frames per second through the detector.")
    updated_at: datetime
    tamper: str = Field(
        default="ok",
        description="ok, learning (no baseline yet), or the tampering seen: covered, blurred, "
        "moved, frozen, black, white or noise.",
    )
    tamper_score: float = Field(
        default=0.0, description="How far the view is from its baseline, 0 to 1."
    )
    target_fps: float | None = Field(
        default=None,
        description="Analysed fps the camera asks the shared inference scheduler for; null "
        "where no scheduler serves it.",
    )
    granted_fps: float | None = Field(
        default=None,
        description="Analysed fps the scheduler grants it now (at most target_fps); lower "
        "while the box is saturated.",
    )
    saturated: bool = Field(
        default=False,
        description="The box is saturated: this camera analyses granted_fps instead of "
        "target_fps, frames held back evenly (events of analysed frames are all raised).",
    )
    recording: CameraRecordingPublic | None = Field(
        default=None,
        description="Its continuous recording; null when the server does not record "
        "(ARGUS_RECORDING) or runs no pipeline for it.",
    )

    @classmethod
    def of(cls, status: CameraStatus) -> CameraStatusPublic:
        """The public view of a status."""
        return cls(
            camera_id=status.camera_id,
            state=status.state,
            last_error=status.last_error,
            fps_in=status.fps_in,
            fps_decoded=status.fps_decoded,
            fps_detected=status.fps_detected,
            updated_at=status.updated_at,
            tamper=status.tamper,
            tamper_score=status.tamper_score,
            target_fps=status.target_fps,
            granted_fps=status.granted_fps,
            saturated=status.saturated,
            recording=None
            if status.recording is None
            else CameraRecordingPublic.of(status.recording),
        )


class CameraProbe(StrictModel):
    """A stream to try before registering a camera."""

    stream_url: StreamUrl
    credentials: CredentialsIn | None = Field(
        default=None, description="Login for the stream; used for this try only, never returned."
    )
    timeout_s: float = Field(
        default=10.0,
        ge=1,
        le=30,
        allow_inf_nan=False,
        description="Seconds allowed to connect and read the first frame.",
    )

    def command(self) -> StreamTry:
        """The service's command."""
        return StreamTry(
            stream_url=self.stream_url,
            credentials=self.credentials.value() if self.credentials else None,
            timeout_s=self.timeout_s,
        )


class CameraProbeResult(BaseModel):
    """What trying a stream found; a failed try is an answer too (``ok`` false)."""

    ok: bool = Field(description="Whether a first frame was read.")
    error: str | None = Field(description="Why not, in words; null when ok.")
    width: int | None = Field(description="Width of the first frame in pixels.")
    height: int | None = Field(description="Height of the first frame in pixels.")
    elapsed_s: float = Field(description="Seconds the try took.")
    snapshot_jpeg_base64: str | None = Field(description="The first frame as base64 JPEG.")

    @classmethod
    def of(cls, probe: StreamProbe) -> CameraProbeResult:
        """The public view of a probe."""
        snapshot = probe.snapshot
        return cls(
            ok=probe.ok,
            error=probe.error,
            width=probe.width,
            height=probe.height,
            elapsed_s=probe.elapsed_s,
            snapshot_jpeg_base64=base64.b64encode(snapshot).decode("ascii") if snapshot else None,
        )
