"""The scene: what one camera's analysis looks for, and its file (strict YAML schema).

A scene declares the detector (model, input size, detect fps, classes,
thresholds), the tracker's few knobs, and the analytics: counting lines, zones,
behaviour signals and the heatmap. Its lines and zones are the domain's
``Line`` and ``Zone`` (``argus.domain.cameras``), whether they come from a
stored camera or from a scene file.

A scene file (``SceneFile``) writes a line as a ``LineSpec`` and a zone as a
``ZoneSpec``: a domain line or zone without its id and camera (its name is its
id). Every model of the file forbids unknown keys, so a typo is an error that
names the field, never a silently ignored setting.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, InstanceOf, ValidationError, model_validator

from argus.domain.cameras import MAX_BAND_PX, MAX_STITCH_SECONDS, Line, Zone
from argus.domain.errors import ArgusError, ConfigError

__all__ = [
    "AnchorName",
    "CameraSpec",
    "DetectSpec",
    "HeatmapSpec",
    "HomographySpec",
    "LineSpec",
    "MotionSpec",
    "RunningSpec",
    "Scene",
    "SceneFile",
    "TrackerSpec",
    "ZoneSpec",
    "load_scene",
    "parse_scene",
]

AnchorName = Literal[
    "TOP_LEFT",
    "TOP_CENTER",
    "TOP_RIGHT",
    "CENTER_LEFT",
    "CENTER",
    "CENTER_RIGHT",
    "BOTTOM_LEFT",
    "BOTTOM_CENTER",
    "BOTTOM_RIGHT",
]
Point = tuple[float, float]
_NAME = r"^[A-Za-z0-9_.\- ]+$"
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=_NAME)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CameraSpec(_Strict):
    """Which camera the events are attributed to."""

    id: Name = Field("camera", description="Camera id written into every event's source.")
    name: str = Field("", max_length=200, description="Human-readable camera name.")
    edge_node_id: Name = Field("local", description="Edge node id written into every event.")


class MotionSpec(_Strict):
    """Motion gating: detect only where the picture changed (and around live detections)."""

    enabled: bool = Field(default=True, description="Gate detection on motion.")
    full_frame_every: int = Field(
        25,
        ge=1,
        le=10_000,
        description="Analysed frames between full-frame passes, so nothing still is missed "
        "forever (the first frame and lighting changes get one too).",
    )
    pad: float = Field(
        0.25,
        ge=0,
        le=2,
        description="Padding around each moving box, as a fraction of its larger side.",
    )
    sensitivity: float = Field(
        0.5, ge=0, le=1, description="0 sees only strong changes, 1 faint ones too."
    )
    max_regions: int = Field(
        1,
        ge=1,
        le=16,
        description="Most crops per frame; more (or crops covering over 60% of the frame) "
        "run one full-frame pass instead, so gating never costs more than no gating.",
    )
    ignore: tuple[tuple[tuple[float, float], ...], ...] = Field(
        (),
        description="Polygons where change never counts (clocks, trees, a road outside the "
        "fence), each >= 3 (x, y) points normalised to 0..1 of the frame.",
    )

    @model_validator(mode="after")
    def _polygons(self) -> Self:
        for polygon in self.ignore:
            if len(polygon) < 3:
                raise ValueError("an ignore polygon needs at least 3 points")
            if any(not (0 <= v <= 1) for point in polygon for v in point):
                raise ValueError("ignore polygon points must be normalised to 0..1")
        return self


class DetectSpec(_Strict):
    """The detector and how often it runs."""

    model: str = Field("yolov7-tiny", min_length=1, description="Model pack name or .onnx path.")
    input_size: int | None = Field(
        None, ge=32, le=2048, description="Square network input; pack default when omitted."
    )
    fps: float | None = Field(
        None, gt=0, le=120, description="Frames per second to analyse; every frame when omitted."
    )
    confidence: float = Field(0.25, ge=0, le=1, description="Minimum detection score.")
    iou: float = Field(0.45, gt=0, le=1, description="NMS IoU threshold.")
    classes: tuple[str, ...] | None = Field(
        None, min_length=1, description="Class names to keep; all classes when omitted."
    )
    class_confidence: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict, description="Per-class minimum scores by class name."
    )
    motion: MotionSpec | None = Field(
        None, description="Motion gating; full-frame detection on every frame when omitted."
    )


class TrackerSpec(_Strict):
    """The few tracker settings worth exposing per scene."""

    min_hits: int = Field(2, ge=1, le=30, description="Matches before a track is confirmed.")
    lost_seconds: float = Field(
        3.0, gt=0, le=60, description="How long a lost track may come back with its id."
    )
    class_consistent: bool = Field(
        default=True, description="Only match detections of a track's own class."
    )
    camera_motion: bool = Field(
        default=True,
        description="Compensate camera motion (pan, shake) measured from the frames.",
    )
    appearance: bool = Field(
        default=False,
        description="Use clothing colours to settle ambiguous matches (off by default: "
        "no footage with ground truth here shows it helps; see docs/benchmarks.md).",
    )


class LineSpec(_Strict):
    """A counting line of a scene file: a segment with a named direction (a domain ``Line``)."""

    name: Name
    start: Point = Field(description="Segment start (x, y) in pixels.")
    end: Point = Field(description="Segment end (x, y) in pixels.")
    in_label: str = Field(
        "in",
        max_length=64,
        description="Name of the 'in' direction: crossing from the right of start->end "
        "to its left (image coordinates, y down).",
    )
    out_label: str = Field("out", max_length=64, description="Name of the opposite direction.")
    anchors: tuple[AnchorName, ...] = Field(
        ("BOTTOM_CENTER",), min_length=1, description="Box points that must all cross."
    )
    min_crossing_frames: int = Field(
        2, ge=1, le=100, description="Frames the new side must hold before a crossing counts."
    )
    expected_direction: Literal["in", "out"] | None = Field(
        None, description="Crossings the other way also raise a wrong-way event."
    )
    classes: tuple[str, ...] | None = Field(
        None, min_length=1, description="Classes this line counts; all when omitted."
    )
    counting: Literal["strict", "robust"] = Field(
        "robust",
        description="'robust': a band around the line, an identity-switch guard and "
        "stitching of tracks lost and reborn across it; 'strict': supervision's semantics.",
    )
    band_px: float = Field(
        0.0,
        ge=0,
        le=MAX_BAND_PX,
        allow_inf_nan=False,
        description="Width in pixels of the band around the line that has no side (robust "
        "only); 0 is automatic, a quarter of each box's height.",
    )
    stitch_seconds: float = Field(
        1.0,
        ge=0,
        le=MAX_STITCH_SECONDS,
        allow_inf_nan=False,
        description="Longest gap over which a track lost on one side of the line and one "
        "born on the other count as one crossing (robust only); 0 turns it off.",
    )

    @model_validator(mode="after")
    def _not_degenerate(self) -> Self:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self

    def line(self, camera_id: str) -> Line:
        """The domain line this entry writes (its name is its id).

        Raises:
            ValidationError: A value the domain refuses (a non-finite point).
        """
        return Line(id=self.name, camera_id=camera_id, **self.model_dump())


class ZoneSpec(_Strict):
    """A polygon zone of a scene file: occupancy, enter/exit, dwell, loitering, crowding
    (a domain ``Zone``)."""

    name: Name
    polygon: tuple[Point, ...] = Field(min_length=3, description="Vertices (x, y) in pixels.")
    anchors: tuple[AnchorName, ...] = Field(
        ("BOTTOM_CENTER",), min_length=1, description="Box points that must all be inside."
    )
    loiter_seconds: float | None = Field(
        None, gt=0, description="Dwell after which a loitering event is raised."
    )
    crowd_threshold: int | None = Field(
        None, ge=1, description="Occupancy at which a crowding event is raised."
    )
    crowd_clear_seconds: float = Field(
        10.0,
        ge=0,
        le=3600,
        description="How long occupancy must stay below the threshold before crowding "
        "can be raised again.",
    )
    min_frames: int = Field(
        1, ge=1, le=100, description="Frames a track must hold before entering/leaving counts."
    )
    classes: tuple[str, ...] | None = Field(
        None, min_length=1, description="Classes this zone watches; all when omitted."
    )
    criticality: float = Field(
        0.5, ge=0, le=1, description="How sensitive the area is (used by risk scoring)."
    )

    def zone(self, camera_id: str) -> Zone:
        """The domain zone this entry writes (its name is its id).

        Raises:
            ValidationError: A value the domain refuses (a non-finite point).
        """
        return Zone(id=self.name, camera_id=camera_id, **self.model_dump())


class HomographySpec(_Strict):
    """Four image points and where they lie on the ground, in metres."""

    image: tuple[Point, Point, Point, Point]
    ground: tuple[Point, Point, Point, Point]


class RunningSpec(_Strict):
    """Raise a running event when a track moves faster than a threshold."""

    speed_px_s: float | None = Field(None, gt=0, description="Threshold in pixels per second.")
    speed_m_s: float | None = Field(
        None, gt=0, description="Threshold in metres per second (needs a homography)."
    )
    homography: HomographySpec | None = None
    classes: tuple[str, ...] = Field(("person",), min_length=1)

    @model_validator(mode="after")
    def _one_threshold(self) -> Self:
        if (self.speed_px_s is None) == (self.speed_m_s is None):
            raise ValueError("give exactly one of speed_px_s and speed_m_s")
        if self.speed_m_s is not None and self.homography is None:
            raise ValueError("speed_m_s needs a homography")
        return self


class HeatmapSpec(_Strict):
    """The decaying activity heatmap."""

    enabled: bool = True
    cell: int = Field(4, ge=1, le=64, description="Accumulator cell size in pixels.")
    half_life_s: float | None = Field(
        None, gt=0, description="Half-life of past activity; no decay when omitted."
    )
    anchor: AnchorName = "BOTTOM_CENTER"
    classes: tuple[str, ...] | None = Field(
        ("person",),
        min_length=1,
        description=(
            "Classes the stored per-minute heatmap counts; all when null. People by default:"
            " a parked car stands in one cell every frame and would outshine every walker."
        ),
    )


def _unique(names: list[str]) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"line and zone names must be unique: {', '.join(duplicates)}")


class _SceneParts(_Strict):
    version: Literal[1] = 1
    camera: CameraSpec = Field(default_factory=CameraSpec)
    detect: DetectSpec = Field(default_factory=DetectSpec)
    tracker: TrackerSpec = Field(default_factory=TrackerSpec)
    running: RunningSpec | None = None
    heatmap: HeatmapSpec = Field(default_factory=HeatmapSpec)


class Scene(_SceneParts):
    """Everything one camera's analysis needs, its lines and zones as the domain's values.

    Line and zone names must be unique and written with letters, digits, spaces
    and ``_.-`` (as in a scene file).
    """

    lines: tuple[InstanceOf[Line], ...] = ()
    zones: tuple[InstanceOf[Zone], ...] = ()

    @model_validator(mode="after")
    def _valid_names(self) -> Self:
        names = [line.name for line in self.lines] + [zone.name for zone in self.zones]
        refused = sorted({n for n in names if not re.fullmatch(_NAME, n)})
        if refused:
            raise ValueError(
                f"line and zone names may hold letters, digits, spaces and _.- only: {refused}"
            )
        _unique(names)
        return self


class SceneFile(_SceneParts):
    """A scene as its YAML file writes it (``parse_scene`` turns it into a ``Scene``)."""

    lines: tuple[LineSpec, ...] = ()
    zones: tuple[ZoneSpec, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> Self:
        _unique([line.name for line in self.lines] + [zone.name for zone in self.zones])
        return self

    def scene(self) -> Scene:
        """The scene this file describes (lines and zones of its camera).

        Raises:
            ValidationError: A value the domain refuses (a non-finite point).
        """
        camera_id = self.camera.id
        return Scene(
            version=self.version,
            camera=self.camera,
            detect=self.detect,
            tracker=self.tracker,
            lines=tuple(spec.line(camera_id) for spec in self.lines),
            zones=tuple(spec.zone(camera_id) for spec in self.zones),
            running=self.running,
            heatmap=self.heatmap,
        )


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def parse_scene(text: str, origin: str = "scene") -> Scene:
    """Parse and validate a scene from YAML text.

    Raises:
        ConfigError: The YAML is malformed or does not fit the schema; the
            message names every offending field.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{origin}: not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: a scene is a mapping, got {type(data).__name__}")
    try:
        return SceneFile.model_validate(data).scene()
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {_describe(exc)}") from exc
    except ArgusError as exc:  # a value the domain refuses
        raise ConfigError(f"{origin}: {exc}") from exc


def load_scene(path: Path) -> Scene:
    """Read a scene file.

    Raises:
        ConfigError: The file is missing, unreadable or invalid.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read scene file {path}: {exc}") from exc
    return parse_scene(text, str(path))
