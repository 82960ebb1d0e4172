"""Boxes with class and track id, lines with counts, zones with occupancy (OpenCV)."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from argus.ports.render import LineOverlay, Overlay, ZoneOverlay

__all__ = ["OpenCvAnnotator", "track_colour"]

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_LINE_COLOUR = (0, 255, 255)
_ZONE_COLOUR = (255, 160, 0)
_ALERT_COLOUR = (0, 0, 255)


def track_colour(track_id: int) -> tuple[int, int, int]:
    """A stable, well-spread BGR colour for a track id (grey when untracked)."""
    if track_id < 0:
        return (160, 160, 160)
    hue = (track_id * 47) % 180
    hsv = np.array([[[hue, 220, 255]]], dtype=np.uint8)
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def _label(
    image: npt.NDArray[np.uint8], text: str, x: int, y: int, colour: tuple[int, ...]
) -> None:
    scale = 0.45
    (w, h), base = cv2.getTextSize(text, _FONT, scale, 1)
    y = max(y, h + base + 1)
    cv2.rectangle(image, (x, y - h - base - 1), (x + w + 2, y), colour, thickness=-1)
    cv2.putText(image, text, (x + 1, y - base), _FONT, scale, (0, 0, 0), 1, cv2.LINE_AA)


class OpenCvAnnotator:
    """Draws an ``Overlay`` with OpenCV; the input image is never modified."""

    def __init__(self, *, box_thickness: int = 2, zone_alpha: float = 0.25) -> None:
        self._thickness = box_thickness
        self._alpha = zone_alpha

    def draw(self, image: npt.NDArray[np.uint8], overlay: Overlay) -> npt.NDArray[np.uint8]:
        """Return a copy of ``image`` with zones, lines, boxes and the caption drawn."""
        out = image.copy()
        if overlay.zones:
            self._zones(out, overlay.zones)
        for line in overlay.lines:
            self._line(out, line)
        self._boxes(out, overlay)
        if overlay.caption:
            _label(out, overlay.caption, 4, 18, (255, 255, 255))
        return out

    def _zones(self, out: npt.NDArray[np.uint8], zones: tuple[ZoneOverlay, ...]) -> None:
        fill = out.copy()
        for zone in zones:
            points = np.round(np.asarray(zone.polygon)).astype(np.int32)
            colour = _ALERT_COLOUR if zone.alert else _ZONE_COLOUR
            cv2.fillPoly(fill, [points], colour)
        cv2.addWeighted(fill, self._alpha, out, 1 - self._alpha, 0, dst=out)
        for zone in zones:
            points = np.round(np.asarray(zone.polygon)).astype(np.int32)
            colour = _ALERT_COLOUR if zone.alert else _ZONE_COLOUR
            cv2.polylines(out, [points], isClosed=True, color=colour, thickness=2)
            x, y = points.min(axis=0)
            _label(out, f"{zone.name}: {zone.occupancy}", int(x), int(y) + 16, colour)

    def _line(self, out: npt.NDArray[np.uint8], line: LineOverlay) -> None:
        start = (round(line.start[0]), round(line.start[1]))
        end = (round(line.end[0]), round(line.end[1]))
        cv2.line(out, start, end, _LINE_COLOUR, 2, cv2.LINE_AA)
        # An arrow on the 'in' side: in is a move from the right of start->end to its left.
        mid = np.add(start, end) / 2
        direction = np.subtract(end, start).astype(np.float64)
        normal = np.array([direction[1], -direction[0]]) / (np.hypot(*direction) or 1.0)
        tip = mid + normal * 18
        cv2.arrowedLine(
            out,
            (round(mid[0]), round(mid[1])),
            (round(tip[0]), round(tip[1])),
            _LINE_COLOUR,
            2,
            tipLength=0.4,
        )
        text = f"{line.name} {line.in_label}:{line.in_count} {line.out_label}:{line.out_count}"
        _label(out, text, min(start[0], end[0]), min(start[1], end[1]) - 4, _LINE_COLOUR)

    def _boxes(self, out: npt.NDArray[np.uint8], overlay: Overlay) -> None:
        detections = overlay.detections
        names = detections.class_names
        for i in range(len(detections)):
            x1, y1, x2, y2 = (round(float(v)) for v in detections.xyxy[i])
            track = int(detections.tracker_id[i])
            colour = track_colour(track)
            cv2.rectangle(out, (x1, y1), (x2, y2), colour, self._thickness)
            class_id = int(detections.class_id[i])
            name = names[class_id] if 0 <= class_id < len(names) else str(class_id)
            text = f"{name} #{track}" if track >= 0 else name
            _label(out, text, x1, y1 - 2, colour)
