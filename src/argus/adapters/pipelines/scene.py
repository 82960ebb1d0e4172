"""Stored camera configuration as a scene, and the demo camera of ``make run``.

A stored ``Camera`` with its ``Line``/``Zone`` values says what the control
plane knows; the analysis pipeline reads a ``Scene``, whose lines and zones
are those same domain values. Detector settings a camera does not store
(input size, confidence, classes) come from the edge worker's defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError as PydanticValidationError

from argus.domain.cameras import Camera, Line, Zone
from argus.domain.errors import ConfigError
from argus.scene import CameraSpec, DetectSpec, MotionSpec, Scene, TrackerSpec

__all__ = ["DEMO_CAMERA_ID", "DEMO_DEFAULTS", "DetectDefaults", "camera_scene", "demo_camera"]

DEMO_CAMERA_ID = "demo"
"""Id of the demo camera (the same as ``examples/bikes.yaml``)."""


@dataclass(frozen=True, slots=True)
class DetectDefaults:
    """Detector settings every camera of an edge worker shares.

    Attributes:
        input_size: Square network input; the pack's default when ``None``.
        confidence: Minimum detection score.
        iou: NMS IoU threshold.
        classes: Class names kept; all when ``None``.
        min_hits: Tracker matches before a track is confirmed.
        lost_seconds: How long a lost track may come back with its id.
        motion: Motion gating of every camera's detector; none when ``None``.
    """

    input_size: int | None = None
    confidence: float = 0.25
    iou: float = 0.45
    classes: tuple[str, ...] | None = None
    min_hits: int = 2
    lost_seconds: float = 3.0
    motion: MotionSpec | None = None


DEMO_DEFAULTS = DetectDefaults(
    input_size=416,
    confidence=0.3,
    classes=("person", "bicycle", "car", "motorcycle", "bus", "truck"),
    min_hits=2,
    lost_seconds=1.0,
)
"""The detector settings of ``examples/bikes.yaml`` (street traffic, 416 px)."""


def camera_scene(
    camera: Camera,
    lines: Sequence[Line],
    zones: Sequence[Zone],
    *,
    defaults: DetectDefaults | None = None,
    edge_node_id: str = "local",
) -> Scene:
    """Return the scene that analyses ``camera`` with its lines and zones.

    Raises:
        ConfigError: The values do not fit the scene schema (a name with
            characters the scene refuses, duplicate line and zone names).
    """
    d = defaults if defaults is not None else DetectDefaults()
    try:
        return Scene(
            camera=CameraSpec(id=camera.id, name=camera.name, edge_node_id=edge_node_id),
            detect=DetectSpec(
                model=camera.model,
                input_size=d.input_size,
                fps=camera.detect_fps,
                confidence=d.confidence,
                iou=d.iou,
                classes=d.classes,
                motion=d.motion,
            ),
            tracker=TrackerSpec(min_hits=d.min_hits, lost_seconds=d.lost_seconds),
            lines=tuple(lines),
            zones=tuple(zones),
        )
    except PydanticValidationError as exc:
        raise ConfigError(f"camera {camera.id}: cannot build its scene: {exc}") from exc


def demo_camera(video: Path) -> tuple[Camera, list[Line], list[Zone]]:
    """The demo camera: ``video`` (``bikes.mp4``) with the line and zone of ``examples/bikes.yaml``.

    The geometry is that of the 640x272 clip: a vertical kerb line across the
    middle and the street below the horizon as a zone.
    """
    camera = Camera(
        id=DEMO_CAMERA_ID,
        name="Street demo (bikes.mp4)",
        stream_url=str(video),
        location="demo",
        detect_fps=8.0,
        model="yolov7-tiny",
    )
    line = Line(
        id="demo-kerb",
        camera_id=camera.id,
        name="kerb",
        start=(320.0, 272.0),
        end=(320.0, 0.0),
        in_label="eastbound",
        out_label="westbound",
        min_crossing_frames=2,
    )
    zone = Zone(
        id="demo-street",
        camera_id=camera.id,
        name="street",
        polygon=((0.0, 120.0), (640.0, 120.0), (640.0, 272.0), (0.0, 272.0)),
        loiter_seconds=5.0,
        crowd_threshold=3,
        criticality=1.0,  # the demo's people-in-the-street rule is a high alert
    )
    return camera, [line], [zone]
