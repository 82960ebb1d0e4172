"""Exclusion areas of a rule, and the object's position events carry to be judged by them.

The pipeline puts the object's foot point (the bottom centre of its box) on
every tracked event it raises, as ``point: [x, y]`` normalised to [0, 1] of
the frame (``foot_point``). A rule's ``exclude_areas`` are polygons in the
same coordinates; an event whose point lies inside one (its edges count as
inside) does not match the rule. An event without a point (older events,
events of a track no longer in view, events without a track) is never
excluded: the rule judges it as if it had no areas.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from argus.domain.detections import Detections
from argus.domain.errors import ValidationError

__all__ = [
    "MAX_AREAS",
    "MAX_VERTICES",
    "POINT_KEY",
    "Area",
    "Point",
    "check_areas",
    "contains",
    "event_point",
    "excluded",
    "foot_point",
]

POINT_KEY = "point"
"""The payload key of the object's foot point."""
MAX_AREAS = 16
"""Most exclusion areas one rule holds."""
MAX_VERTICES = 64
"""Most corners of one area."""

Point = tuple[float, float]
Area = tuple[Point, ...]
"""A polygon of at least three ``(x, y)`` corners, normalised to [0, 1] of the frame."""

_EPS = 1e-9


def _coordinate(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{where} must be a number")
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise ValidationError(f"{where} must be in [0, 1], got {number!r}")
    return number


def check_areas(value: object, where: str = "exclude_areas") -> tuple[Area, ...]:
    """``value`` (lists or tuples of ``[x, y]`` corners) as validated areas.

    Raises:
        ValidationError: Not a list of polygons of 3 to ``MAX_VERTICES`` corners in
            [0, 1], more than ``MAX_AREAS`` of them, or a polygon without area.
    """
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{where} must be a list of polygons")
    if len(value) > MAX_AREAS:
        raise ValidationError(f"{where} holds more than {MAX_AREAS} areas")
    out: list[Area] = []
    for i, polygon in enumerate(value):
        if not isinstance(polygon, list | tuple) or not 3 <= len(polygon) <= MAX_VERTICES:
            raise ValidationError(f"{where}[{i}] must be 3 to {MAX_VERTICES} [x, y] corners")
        corners: list[Point] = []
        for j, corner in enumerate(polygon):
            if not isinstance(corner, list | tuple) or len(corner) != 2:
                raise ValidationError(f"{where}[{i}][{j}] must be an [x, y] pair")
            corners.append(
                (
                    _coordinate(corner[0], f"{where}[{i}][{j}].x"),
                    _coordinate(corner[1], f"{where}[{i}][{j}].y"),
                )
            )
        if abs(_twice_area(corners)) < _EPS:
            raise ValidationError(f"{where}[{i}] encloses no area")
        out.append(tuple(corners))
    return tuple(out)


def _twice_area(corners: list[Point]) -> float:
    return sum(
        x0 * y1 - x1 * y0
        for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1], strict=True)
    )


def _on_segment(p: Point, a: Point, b: Point) -> bool:
    cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
    if abs(cross) > _EPS:
        return False
    return (
        min(a[0], b[0]) - _EPS <= p[0] <= max(a[0], b[0]) + _EPS
        and min(a[1], b[1]) - _EPS <= p[1] <= max(a[1], b[1]) + _EPS
    )


def contains(area: Area, point: Point) -> bool:
    """Whether ``point`` lies inside ``area`` or on its edge (even-odd rule)."""
    x, y = point
    inside = False
    n = len(area)
    for i in range(n):
        a, b = area[i], area[(i + 1) % n]
        if _on_segment(point, a, b):
            return True
        if (a[1] > y) != (b[1] > y):
            crossing = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if x < crossing:
                inside = not inside
    return inside


def event_point(payload: Mapping[str, object]) -> Point | None:
    """The foot point an event's payload carries, if it carries a valid one."""
    raw = payload.get(POINT_KEY)
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        return None
    try:
        return (_coordinate(raw[0], "x"), _coordinate(raw[1], "y"))
    except ValidationError:
        return None


def excluded(areas: Iterable[Area], payload: Mapping[str, object]) -> bool:
    """Whether the event's point lies in one of ``areas`` (never, without a point)."""
    point = event_point(payload)
    return point is not None and any(contains(area, point) for area in areas)


def foot_point(detections: Detections, track_id: int, width: int, height: int) -> Point | None:
    """The bottom centre of the track's box, normalised to [0, 1] and rounded to 4 places.

    Args:
        detections: The frame's tracked detections.
        track_id: The track.
        width: The frame's width in pixels.
        height: Its height.

    Returns:
        ``None`` when the track is not among the detections (or the frame is empty).
    """
    if width < 1 or height < 1:
        return None
    rows = np.flatnonzero(detections.tracker_id == track_id)
    if rows.size == 0:
        return None
    x1, _, x2, y2 = (float(v) for v in detections.xyxy[int(rows[0])])
    x = min(1.0, max(0.0, (x1 + x2) / 2 / width))
    y = min(1.0, max(0.0, y2 / height))
    return (round(x, 4), round(y, 4))
