"""Schemas of an alert's detail view: its overlay, and undoing a dismissal."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from argus.domain.alerts.overlay import AlertOverlay, OverlayShape, PathSample

__all__ = ["AlertOverlayPublic", "OverlayBoxPublic", "OverlayShapePublic", "PathPointPublic"]


class OverlayShapePublic(BaseModel):
    """The rule's line or zone, in pixels of the analysed frame."""

    kind: Literal["line", "zone"] = Field(description="line (start, end) or zone (a polygon).")
    name: str
    points: list[tuple[float, float]] = Field(description="Vertices (x, y).")
    in_label: str | None = Field(description="A line's in side (left of start to end).")

    @classmethod
    def of(cls, shape: OverlayShape) -> OverlayShapePublic:
        """The public view of a shape."""
        return cls(
            kind=shape.kind, name=shape.name, points=list(shape.points), in_label=shape.in_label
        )


class OverlayBoxPublic(BaseModel):
    """The object's box at the event's moment."""

    xyxy: tuple[float, float, float, float] = Field(description="x1, y1, x2, y2 in pixels.")
    width_estimated: bool = Field(
        description="The trajectory log keeps foot point and height; the width is estimated "
        "from the object's class."
    )


class PathPointPublic(BaseModel):
    """Where the object's box stood at one moment (its bottom-centre and height)."""

    at: datetime
    x: float
    y: float
    height: float

    @classmethod
    def of(cls, sample: PathSample) -> PathPointPublic:
        """The public view of a path sample."""
        return cls(at=sample.at, x=sample.x, y=sample.y, height=sample.height)


class AlertOverlayPublic(BaseModel):
    """What to draw over an alert's snapshot and clip, scaled from the analysed frame."""

    alert_id: str
    frame_width: int | None = Field(
        description="Width of the analysed frame the coordinates are in; null when unknown "
        "(the media's own size is the frame's)."
    )
    frame_height: int | None
    shapes: list[OverlayShapePublic] = Field(
        description="The line or zone the event (else the rule) names."
    )
    box: OverlayBoxPublic | None = Field(description="The object's box; null when not known.")
    path: list[PathPointPublic] = Field(
        description="The object's path 10 s either side of the event, oldest first."
    )
    note: str = Field(description="What is missing and why, for the operator.")

    @classmethod
    def of(cls, overlay: AlertOverlay) -> AlertOverlayPublic:
        """The public view of an overlay."""
        box = overlay.box
        return cls(
            alert_id=overlay.alert_id,
            frame_width=overlay.frame_width,
            frame_height=overlay.frame_height,
            shapes=[OverlayShapePublic.of(s) for s in overlay.shapes],
            box=None
            if box is None
            else OverlayBoxPublic(xyxy=box.xyxy, width_estimated=box.width_estimated),
            path=[PathPointPublic.of(p) for p in overlay.path],
            note=overlay.note,
        )
