"""Line and zone schemas; geometry is in pixels of the camera's frame."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from argus.api.schemas.common import Name, PartialUpdate, StrictModel, non_nullable
from argus.domain.cameras import MAX_BAND_PX, MAX_STITCH_SECONDS, Line, Zone
from argus.scene import AnchorName
from argus.services.scene_items import LineChanges, NewLine, NewZone, ZoneChanges

__all__ = [
    "LineCreate",
    "LineList",
    "LinePublic",
    "LineUpdate",
    "ZoneCreate",
    "ZoneList",
    "ZonePublic",
    "ZoneUpdate",
    "create_fields",
    "polygon_area",
]

Coordinate = Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)]
# A list, not a tuple: request schemas are strict, and strict pydantic takes no list as a tuple.
Point = Annotated[
    list[Coordinate],
    Field(min_length=2, max_length=2, description="[x, y] in pixels of the camera's frame."),
]
Anchors = Annotated[
    list[AnchorName],
    Field(min_length=1, max_length=9, description="Box points that must all cross / be inside."),
]
Classes = Annotated[
    list[Name] | None,
    Field(min_length=1, max_length=100, description="Classes watched; all when null."),
]
Frames = Annotated[int, Field(ge=1, le=100)]
Polygon = Annotated[
    list[Point], Field(min_length=3, max_length=100, description="Vertices, at least three.")
]
Direction = Literal["in", "out"]
Counting = Annotated[
    Literal["strict", "robust"],
    Field(
        description="'robust': a band around the line, an identity-switch guard and stitching "
        "of tracks lost and reborn across it; 'strict': supervision's semantics."
    ),
]
BandPx = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_BAND_PX,
        allow_inf_nan=False,
        description="Width in pixels of the band around the line that has no side (robust "
        "only); 0 is automatic, a quarter of each box's height.",
    ),
]
StitchSeconds = Annotated[
    float,
    Field(
        ge=0,
        le=MAX_STITCH_SECONDS,
        allow_inf_nan=False,
        description="Longest gap over which a track lost on one side of the line and one born "
        "on the other count as one crossing (robust only); 0 turns it off.",
    ),
]


def _default_anchors() -> list[AnchorName]:
    return ["BOTTOM_CENTER"]


def _check_line(start: list[float] | None, end: list[float] | None) -> None:
    if start is not None and start == end:
        raise ValueError("a line's start and end must differ")


def polygon_area(polygon: list[list[float]]) -> float:
    """Absolute area of a simple polygon (shoelace formula)."""
    twice = sum(
        x0 * y1 - x1 * y0
        for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True)
    )
    return abs(twice) / 2


def _check_polygon(polygon: list[list[float]] | None) -> None:
    if polygon is not None and polygon_area(polygon) <= 0:
        raise ValueError("polygon must enclose an area (its vertices are collinear or repeated)")


class LineCreate(StrictModel):
    """A counting line to add to a camera."""

    name: Name = Field(description="Unique per camera.")
    start: Point
    end: Point
    in_label: Name = Field(default="in", description="Name of the in direction.")
    out_label: Name = Field(default="out", description="Name of the out direction.")
    expected_direction: Direction | None = Field(
        default=None, description="Crossings the other way raise wrong-way events."
    )
    anchors: Anchors = Field(default_factory=_default_anchors)
    min_crossing_frames: Frames = Field(
        default=2, description="Frames the new side must hold before a crossing counts."
    )
    classes: Classes = None
    counting: Counting = "robust"
    band_px: BandPx = 0.0
    stitch_seconds: StitchSeconds = 1.0

    @model_validator(mode="after")
    def _geometry(self) -> Self:
        _check_line(self.start, self.end)
        return self

    def command(self) -> NewLine:
        """The service's command."""
        return NewLine(**create_fields(self))


_LINE_NOT_NULL: tuple[str, ...] = ("name", "start", "end", "in_label", "out_label")
_LINE_NOT_NULL += ("anchors", "min_crossing_frames", "counting", "band_px", "stitch_seconds")


class LineUpdate(PartialUpdate):
    """Fields of a line to change; absent fields keep their value."""

    model_config = ConfigDict(json_schema_extra=non_nullable(_LINE_NOT_NULL))
    not_null: ClassVar[tuple[str, ...]] = _LINE_NOT_NULL

    name: Name | None = None
    start: Point | None = None
    end: Point | None = None
    in_label: Name | None = None
    out_label: Name | None = None
    expected_direction: Direction | None = None
    anchors: Anchors | None = None
    min_crossing_frames: Frames | None = None
    classes: Classes = None
    counting: Counting | None = None
    band_px: BandPx | None = None
    stitch_seconds: StitchSeconds | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_line(self.start, self.end)
        return self

    def changes(self) -> dict[str, Any]:
        """The fields that were sent, with lists as tuples."""
        return _tuples(self.model_dump(exclude_unset=True))

    def command(self) -> LineChanges:
        """The service's command: the fields that were sent."""
        return LineChanges(**self.changes())


class LinePublic(BaseModel):
    """A counting line."""

    id: str
    camera_id: str
    name: str
    start: tuple[float, float]
    end: tuple[float, float]
    in_label: str
    out_label: str
    expected_direction: Direction | None
    anchors: list[str]
    min_crossing_frames: int
    classes: list[str] | None
    counting: Literal["strict", "robust"]
    band_px: float
    stitch_seconds: float

    @classmethod
    def of(cls, line: Line) -> LinePublic:
        """The public view of a line."""
        return cls(
            id=line.id,
            camera_id=line.camera_id,
            name=line.name,
            start=line.start,
            end=line.end,
            in_label=line.in_label,
            out_label=line.out_label,
            expected_direction=line.expected_direction,
            anchors=list(line.anchors),
            min_crossing_frames=line.min_crossing_frames,
            classes=list(line.classes) if line.classes is not None else None,
            counting=line.counting,
            band_px=line.band_px,
            stitch_seconds=line.stitch_seconds,
        )


class LineList(BaseModel):
    """One page of a camera's lines."""

    items: list[LinePublic]
    total: int
    limit: int
    offset: int


class ZoneCreate(StrictModel):
    """A polygon zone to add to a camera."""

    name: Name = Field(description="Unique per camera.")
    polygon: Polygon
    anchors: Anchors = Field(default_factory=_default_anchors)
    loiter_seconds: float | None = Field(
        default=None, gt=0, le=86_400, description="Dwell that raises loitering; none if null."
    )
    crowd_threshold: int | None = Field(
        default=None, ge=1, le=10_000, description="Occupancy that raises crowding; none if null."
    )
    crowd_clear_seconds: float = Field(
        default=10.0, ge=0, le=3600, description="Time below the threshold before re-arming."
    )
    min_frames: Frames = Field(default=1, description="Frames before entering/leaving counts.")
    classes: Classes = None
    criticality: float = Field(
        default=0.5, ge=0, le=1, description="How sensitive the area is (risk scoring)."
    )

    @model_validator(mode="after")
    def _geometry(self) -> Self:
        _check_polygon(self.polygon)
        return self

    def command(self) -> NewZone:
        """The service's command."""
        return NewZone(**create_fields(self))


_ZONE_NOT_NULL: tuple[str, ...] = ("name", "polygon", "anchors", "crowd_clear_seconds")
_ZONE_NOT_NULL += ("min_frames", "criticality")


class ZoneUpdate(PartialUpdate):
    """Fields of a zone to change; absent fields keep their value."""

    model_config = ConfigDict(json_schema_extra=non_nullable(_ZONE_NOT_NULL))
    not_null: ClassVar[tuple[str, ...]] = _ZONE_NOT_NULL

    name: Name | None = None
    polygon: Polygon | None = None
    anchors: Anchors | None = None
    loiter_seconds: float | None = Field(default=None, gt=0, le=86_400)
    crowd_threshold: int | None = Field(default=None, ge=1, le=10_000)
    crowd_clear_seconds: float | None = Field(default=None, ge=0, le=3600)
    min_frames: Frames | None = None
    classes: Classes = None
    criticality: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _check(self) -> Self:
        _check_polygon(self.polygon)
        return self

    def changes(self) -> dict[str, Any]:
        """The fields that were sent, with lists as tuples."""
        return _tuples(self.model_dump(exclude_unset=True))

    def command(self) -> ZoneChanges:
        """The service's command: the fields that were sent."""
        return ZoneChanges(**self.changes())


class ZonePublic(BaseModel):
    """A polygon zone."""

    id: str
    camera_id: str
    name: str
    polygon: list[tuple[float, float]]
    anchors: list[str]
    loiter_seconds: float | None
    crowd_threshold: int | None
    crowd_clear_seconds: float
    min_frames: int
    classes: list[str] | None
    criticality: float

    @classmethod
    def of(cls, zone: Zone) -> ZonePublic:
        """The public view of a zone."""
        return cls(
            id=zone.id,
            camera_id=zone.camera_id,
            name=zone.name,
            polygon=list(zone.polygon),
            anchors=list(zone.anchors),
            loiter_seconds=zone.loiter_seconds,
            crowd_threshold=zone.crowd_threshold,
            crowd_clear_seconds=zone.crowd_clear_seconds,
            min_frames=zone.min_frames,
            classes=list(zone.classes) if zone.classes is not None else None,
            criticality=zone.criticality,
        )


class ZoneList(BaseModel):
    """One page of a camera's zones."""

    items: list[ZonePublic]
    total: int
    limit: int
    offset: int


def _tuples(values: dict[str, Any]) -> dict[str, Any]:
    """Lists as tuples, as the frozen domain values hold them."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def create_fields(model: LineCreate | ZoneCreate) -> dict[str, Any]:
    """The fields of a create request, with lists as tuples."""
    return _tuples(model.model_dump())
