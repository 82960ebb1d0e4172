"""The camera service's commands: what callers ask ``CameraService`` to do, and what it did.

Re-exported by ``argus.services.cameras``; kept apart for the module's size.
"""

from __future__ import annotations

import dataclasses

from argus.domain.cameras import Camera, Credentials
from argus.services.writes import UNSET, Unset

__all__ = ["CameraChange", "CameraChanges", "NewCamera", "StreamTry"]


@dataclasses.dataclass(frozen=True, slots=True)
class CameraChange:
    """What ``update_camera`` did.

    Attributes:
        camera: The camera as stored now.
        credentials_dropped: Its stored login was removed because the stream
            moved to another scheme, host or port without a new login.
        old_origin: ``stream_origin`` of the URL before the change.
    """

    camera: Camera
    credentials_dropped: bool
    old_origin: tuple[str, str | None, int | None]


@dataclasses.dataclass(frozen=True, slots=True)
class NewCamera:
    """A camera to register (see ``Camera`` for the fields)."""

    name: str
    stream_url: str
    location: str = ""
    credentials: Credentials | None = None
    enabled: bool = True
    detect_fps: float = 5.0
    model: str = "yolov7-tiny"
    edge_node_id: str | None = None
    detect_stream_url: str | None = None
    record: bool = True


@dataclasses.dataclass(frozen=True, slots=True)
class CameraChanges:
    """Fields of a camera to change; ``UNSET`` keeps one, ``credentials=None`` removes the login."""

    name: str | Unset = UNSET
    stream_url: str | Unset = UNSET
    location: str | Unset = UNSET
    credentials: Credentials | Unset | None = UNSET
    enabled: bool | Unset = UNSET
    detect_fps: float | Unset = UNSET
    model: str | Unset = UNSET
    edge_node_id: str | Unset | None = UNSET
    detect_stream_url: str | Unset | None = UNSET
    record: bool | Unset = UNSET


@dataclasses.dataclass(frozen=True, slots=True)
class StreamTry:
    """A stream to try before a camera is saved.

    Attributes:
        stream_url: The URL or path, without a password.
        credentials: The login to try it with (used for this try only).
        timeout_s: Seconds allowed to connect and read the first frame.
    """

    stream_url: str
    credentials: Credentials | None = None
    timeout_s: float = 10.0
