"""Cameras and the lines and zones drawn on them, as stored by the control plane.

These are validated frozen values. Geometry is in pixels of the camera's
frame; a line's direction and a zone's thresholds mean what they mean in the
scene file (``argus.scene.LineSpec`` / ``ZoneSpec``), so a stored camera can be
turned into a scene without translation.

Credentials are kept apart from the stream URL: a URL may not carry a
password (it would be stored and logged in clear); ``Camera.source_url()``
puts the credentials into the URL only when the pipeline opens the stream.
Stores encrypt ``credentials`` at rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

from argus.domain.analytics.anchors import Anchor
from argus.domain.checks import aware_utc as _utc
from argus.domain.checks import finite as _finite
from argus.domain.checks import names as _names
from argus.domain.checks import text as _text
from argus.domain.edge_values import check_node_id
from argus.domain.errors import ValidationError
from argus.domain.events import new_event_id

__all__ = [
    "ANCHOR_NAMES",
    "MAX_BAND_PX",
    "MAX_STITCH_SECONDS",
    "Camera",
    "CountingMode",
    "Credentials",
    "Line",
    "Point",
    "Zone",
    "new_id",
    "stream_origin",
    "utc_now",
    "with_credentials",
]

Point = tuple[float, float]
ExpectedDirection = Literal["in", "out"]
CountingMode = Literal["strict", "robust"]
MAX_BAND_PX = 10_000.0
MAX_STITCH_SECONDS = 60.0

ANCHOR_NAMES = frozenset(anchor.value for anchor in Anchor)
_ID_MAX = 64
_NAME_MAX = 200
_URL_MAX = 2048
_DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}


def new_id() -> str:
    """Return a new entity id: a ULID, so ids sort by creation time."""
    return new_event_id()


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def stream_origin(stream_url: str) -> tuple[str, str | None, int | None]:
    """Scheme, host and port of a stream URL (default ports filled in); a path has none.

    Stored credentials belong to this origin: they are sent nowhere else.
    """
    parts = urlsplit(stream_url)
    scheme = parts.scheme.lower()
    if not parts.hostname:
        return scheme, None, None
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS.get(scheme)


def _no_password(url: str, name: str) -> None:
    if urlsplit(url).password is not None:
        raise ValidationError(
            f"{name} must not contain a password; set credentials instead "
            "(they are encrypted at rest)"
        )


def _point(value: object, where: str) -> Point:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise ValidationError(f"{where} must be an (x, y) pair, got {value!r}")
    return (_finite(value[0], f"{where}.x"), _finite(value[1], f"{where}.y"))


def _anchors(value: object) -> tuple[str, ...]:
    anchors = _names(value, "anchors")
    unknown = sorted(set(anchors) - ANCHOR_NAMES)
    if unknown:
        raise ValidationError(f"unknown anchors {unknown}; use {sorted(ANCHOR_NAMES)}")
    return anchors


@dataclass(frozen=True, slots=True)
class Credentials:
    """Login for a camera stream; the password never appears in ``repr``.

    Attributes:
        username: User name (may be empty for password-only cameras).
        password: Password.
    """

    username: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        _text(self.username, "credentials.username", 256, empty=True)
        _text(self.password, "credentials.password", 1024, empty=True)


@dataclass(frozen=True, slots=True)
class Camera:
    """A registered camera.

    Attributes:
        id: Stable id (``new_id()`` for new cameras).
        name: Human-readable name.
        stream_url: Where the video comes from (``rtsp://``, ``http://``, a
            file path); no password in it.
        location: Free text (site, floor, GPS), may be empty.
        credentials: Login for the stream, if it needs one.
        enabled: Whether its pipeline should run.
        detect_fps: Frames per second to analyse.
        model: Model pack name.
        created_at: When it was registered (UTC).
        updated_at: When it was last changed (UTC).
        edge_node_id: The ``argus edge`` node that runs its pipeline; ``None``: the
            embedded worker of ``argus serve`` runs it.
        detect_stream_url: A second, low-resolution stream of the same camera that
            detection runs on (a "sub-stream"); ``stream_url`` then serves evidence,
            snapshots and recording, and boxes are mapped to its pixels. It must
            be on the same scheme, host and port as ``stream_url`` (or both are
            files): the camera's login is sent to both.
        record: Whether continuous recording covers this camera when the server
            records (``ARGUS_RECORDING``).
    """

    id: str
    name: str
    stream_url: str
    location: str = ""
    credentials: Credentials | None = None
    enabled: bool = True
    detect_fps: float = 5.0
    model: str = "yolov7-tiny"
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)
    edge_node_id: str | None = None
    detect_stream_url: str | None = None
    record: bool = True

    def __post_init__(self) -> None:
        _text(self.id, "id", _ID_MAX)
        _text(self.name, "name", _NAME_MAX)
        if self.edge_node_id is not None:
            check_node_id(self.edge_node_id, "edge_node_id")
        _text(self.stream_url, "stream_url", _URL_MAX)
        _no_password(self.stream_url, "stream_url")
        if self.detect_stream_url is not None:
            _text(self.detect_stream_url, "detect_stream_url", _URL_MAX)
            _no_password(self.detect_stream_url, "detect_stream_url")
            if stream_origin(self.detect_stream_url) != stream_origin(self.stream_url):
                raise ValidationError(
                    "detect_stream_url must be on the same scheme, host and port as "
                    "stream_url (the camera's login is sent to both), or both must be files"
                )
        if not isinstance(self.record, bool):
            raise ValidationError("record must be a bool")
        _text(self.location, "location", _NAME_MAX, empty=True)
        if self.credentials is not None and not isinstance(self.credentials, Credentials):
            raise ValidationError("credentials must be Credentials or None")
        if not isinstance(self.enabled, bool):
            raise ValidationError("enabled must be a bool")
        fps = _finite(self.detect_fps, "detect_fps")
        if not 0 < fps <= 120:
            raise ValidationError(f"detect_fps must be in (0, 120], got {fps}")
        _text(self.model, "model", _NAME_MAX)
        object.__setattr__(self, "detect_fps", fps)
        object.__setattr__(self, "created_at", _utc(self.created_at, "created_at"))
        object.__setattr__(self, "updated_at", _utc(self.updated_at, "updated_at"))

    def source_url(self) -> str:
        """The stream URL with the credentials put in (for opening the stream only)."""
        return with_credentials(self.stream_url, self.credentials)

    def detect_source_url(self) -> str | None:
        """The detect stream's URL with the credentials put in; ``None`` without a sub-stream."""
        if self.detect_stream_url is None:
            return None
        return with_credentials(self.detect_stream_url, self.credentials)


def with_credentials(stream_url: str, credentials: Credentials | None) -> str:
    """``stream_url`` with ``credentials`` put in (for opening the stream only).

    A URL without a scheme and host (a file path) is returned as it is.
    """
    parts = urlsplit(stream_url)
    if credentials is None or not parts.scheme or not parts.hostname:
        return stream_url
    user = quote(credentials.username, safe="")
    password = quote(credentials.password, safe="")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


@dataclass(frozen=True, slots=True)
class Line:
    """A counting line on a camera (see ``argus.scene.LineSpec`` for the semantics).

    Attributes:
        id: Stable id.
        camera_id: The camera it belongs to.
        name: Unique per camera.
        start: Segment start (x, y) in pixels.
        end: Segment end (x, y) in pixels.
        in_label: Name of the ``in`` direction (right of start->end to its left).
        out_label: Name of the opposite direction.
        expected_direction: Crossings the other way are wrong-way events.
        anchors: Box points that must all cross.
        min_crossing_frames: Frames the new side must hold before a crossing counts.
        classes: Classes counted; all when ``None``.
        counting: ``"robust"`` (band, identity-switch guard, stitching of
            tracks lost and reborn across the line) or ``"strict"``
            (supervision's semantics); see ``argus.domain.analytics.LineZone``.
        band_px: Width in pixels of the band around the line that has no side
            (robust only); ``0`` is automatic, a quarter of each box's height.
        stitch_seconds: Longest gap over which a track lost on one side and one
            born on the other count as one crossing (robust only); ``0``: none.
    """

    id: str
    camera_id: str
    name: str
    start: Point
    end: Point
    in_label: str = "in"
    out_label: str = "out"
    expected_direction: ExpectedDirection | None = None
    anchors: tuple[str, ...] = ("BOTTOM_CENTER",)
    min_crossing_frames: int = 2
    classes: tuple[str, ...] | None = None
    counting: CountingMode = "robust"
    band_px: float = 0.0
    stitch_seconds: float = 1.0

    def __post_init__(self) -> None:
        _text(self.id, "id", _ID_MAX)
        _text(self.camera_id, "camera_id", _ID_MAX)
        _text(self.name, "name", 64)
        start, end = _point(self.start, "start"), _point(self.end, "end")
        if start == end:
            raise ValidationError("a line's start and end must differ")
        _text(self.in_label, "in_label", 64)
        _text(self.out_label, "out_label", 64)
        if self.expected_direction not in (None, "in", "out"):
            raise ValidationError("expected_direction must be 'in', 'out' or None")
        if isinstance(self.min_crossing_frames, bool) or not isinstance(
            self.min_crossing_frames, int
        ):
            raise ValidationError("min_crossing_frames must be an int")
        if not 1 <= self.min_crossing_frames <= 100:
            raise ValidationError("min_crossing_frames must be in [1, 100]")
        if self.counting not in ("strict", "robust"):
            raise ValidationError(f"counting must be 'strict' or 'robust', got {self.counting!r}")
        band = _finite(self.band_px, "band_px")
        if not 0 <= band <= MAX_BAND_PX:
            raise ValidationError(f"band_px must be in [0, {MAX_BAND_PX:g}] (0: automatic)")
        stitch = _finite(self.stitch_seconds, "stitch_seconds")
        if not 0 <= stitch <= MAX_STITCH_SECONDS:
            raise ValidationError(f"stitch_seconds must be in [0, {MAX_STITCH_SECONDS:g}] (0: off)")
        object.__setattr__(self, "band_px", band)
        object.__setattr__(self, "stitch_seconds", stitch)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "anchors", _anchors(self.anchors))
        if self.classes is not None:
            object.__setattr__(self, "classes", _names(self.classes, "classes"))


@dataclass(frozen=True, slots=True)
class Zone:
    """A polygon zone on a camera (see ``argus.scene.ZoneSpec`` for the semantics).

    Attributes:
        id: Stable id.
        camera_id: The camera it belongs to.
        name: Unique per camera.
        polygon: Vertices (x, y) in pixels, at least three.
        anchors: Box points that must all be inside.
        loiter_seconds: Dwell that raises a loitering event; none when ``None``.
        crowd_threshold: Occupancy that raises a crowding event; none when ``None``.
        crowd_clear_seconds: Time below the threshold before crowding re-arms.
        min_frames: Frames a track must hold before entering/leaving counts.
        classes: Classes watched; all when ``None``.
        criticality: How sensitive the area is, in [0, 1] (risk scoring).
    """

    id: str
    camera_id: str
    name: str
    polygon: tuple[Point, ...]
    anchors: tuple[str, ...] = ("BOTTOM_CENTER",)
    loiter_seconds: float | None = None
    crowd_threshold: int | None = None
    crowd_clear_seconds: float = 10.0
    min_frames: int = 1
    classes: tuple[str, ...] | None = None
    criticality: float = 0.5

    def __post_init__(self) -> None:
        _text(self.id, "id", _ID_MAX)
        _text(self.camera_id, "camera_id", _ID_MAX)
        _text(self.name, "name", 64)
        if not isinstance(self.polygon, tuple | list) or len(self.polygon) < 3:
            raise ValidationError("polygon must have at least three vertices")
        polygon = tuple(_point(p, f"polygon[{i}]") for i, p in enumerate(self.polygon))
        if self.loiter_seconds is not None and _finite(self.loiter_seconds, "loiter") <= 0:
            raise ValidationError("loiter_seconds must be positive")
        if self.crowd_threshold is not None and (
            isinstance(self.crowd_threshold, bool)
            or not isinstance(self.crowd_threshold, int)
            or self.crowd_threshold < 1
        ):
            raise ValidationError("crowd_threshold must be an int >= 1")
        if not 0 <= _finite(self.crowd_clear_seconds, "crowd_clear_seconds") <= 3600:
            raise ValidationError("crowd_clear_seconds must be in [0, 3600]")
        if isinstance(self.min_frames, bool) or not isinstance(self.min_frames, int):
            raise ValidationError("min_frames must be an int")
        if not 1 <= self.min_frames <= 100:
            raise ValidationError("min_frames must be in [1, 100]")
        if not 0 <= _finite(self.criticality, "criticality") <= 1:
            raise ValidationError("criticality must be in [0, 1]")
        object.__setattr__(self, "polygon", polygon)
        object.__setattr__(self, "anchors", _anchors(self.anchors))
        if self.classes is not None:
            object.__setattr__(self, "classes", _names(self.classes, "classes"))
