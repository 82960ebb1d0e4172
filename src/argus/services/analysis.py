"""Analysis use case: source -> detect -> track -> analytics -> events.

``Analyzer`` runs one camera's pipeline as an iterator of analysed frames and
keeps the time spent in each stage, so a caller can report where the time goes.
``SceneAnalytics`` builds the analytics a scene declares for a model's class
names and turns tracked detections into domain events.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

import numpy as np

from argus.domain.analytics import (
    Anchor,
    Heatmap,
    LineZone,
    PolygonZone,
    RunningDetector,
)
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError
from argus.domain.events import DomainEvent, Envelope, EventSource, new_event_id
from argus.domain.exclusion_areas import POINT_KEY, foot_point
from argus.domain.frames import Frame
from argus.domain.substreams import BoxMapping
from argus.ports.detector import Detector
from argus.ports.render import LineOverlay, ZoneOverlay
from argus.ports.tracker import Tracker
from argus.ports.video import VideoSource
from argus.scene import Scene

__all__ = ["AnalyzedFrame", "Analyzer", "SceneAnalytics", "StageTimes"]


@dataclass(slots=True)
class StageTimes:
    """Seconds spent in each stage over a run, and the frames it covered.

    Attributes:
        decode: Waiting for the next frame (decoding, sampling, pacing).
        detect: Inference including pre- and post-processing.
        track: Tracker updates.
        analytics: Lines, zones, behaviour and heatmap.
        output: Whatever the caller does with each frame (annotating, writing).
        frames: Frames analysed.
    """

    decode: float = 0.0
    detect: float = 0.0
    track: float = 0.0
    analytics: float = 0.0
    output: float = 0.0
    frames: int = 0

    def as_dict(self) -> dict[str, float]:
        """Seconds per stage, in pipeline order."""
        return {
            "decode": self.decode,
            "detect": self.detect,
            "track": self.track,
            "analytics": self.analytics,
            "output": self.output,
        }

    @property
    def total(self) -> float:
        """Seconds over all stages."""
        return sum(self.as_dict().values())


@dataclass(frozen=True, slots=True)
class AnalyzedFrame:
    """One frame after the pipeline.

    Attributes:
        frame: The decoded frame.
        detections: Tracked detections of confirmed tracks.
        events: Events this frame raised, in envelopes.
    """

    frame: Frame
    detections: Detections
    events: tuple[Envelope, ...]


def _class_ids(names: tuple[str, ...], wanted: tuple[str, ...] | None, where: str) -> list[int]:
    if wanted is None:
        return []
    index = {n: i for i, n in enumerate(names)}
    unknown = sorted(set(wanted) - set(index))
    if unknown:
        raise ConfigError(f"{where}: unknown class {', '.join(unknown)} (the model knows {names})")
    return [index[n] for n in wanted]


def _only(detections: Detections, ids: list[int]) -> Detections:
    if not ids:
        return detections
    return detections.select(np.isin(detections.class_id, ids))


T = TypeVar("T")


@dataclass
class _Watched(Generic[T]):
    name: str
    analytic: T
    class_ids: list[int] = field(default_factory=list)


class SceneAnalytics:
    """The lines, zones, behaviour signals and heatmap of one scene."""

    def __init__(self, scene: Scene, class_names: tuple[str, ...], width: int, height: int) -> None:
        """Build the analytics for frames of ``width`` x ``height``.

        Raises:
            ConfigError: A class name in the scene is unknown to the model.
        """
        self.scene = scene
        self.class_names = class_names
        # A track the tracker has given up on cannot come back: forget it as late.
        forget = scene.tracker.lost_seconds + 1.0
        self.lines = [
            _Watched(
                spec.name,
                LineZone(
                    start=spec.start,
                    end=spec.end,
                    name=spec.name,
                    anchors=tuple(Anchor[a] for a in spec.anchors),
                    min_crossing_frames=spec.min_crossing_frames,
                    expected_direction=spec.expected_direction,
                    max_missing_frames=None,
                    # A vanished track is remembered as long as a newborn may continue it.
                    max_missing_seconds=max(forget, spec.stitch_seconds),
                    mode=spec.counting,
                    band=spec.band_px,
                    stitch_seconds=spec.stitch_seconds,
                ),
                _class_ids(class_names, spec.classes, f"line {spec.name}"),
            )
            for spec in scene.lines
        ]
        self.zones = [
            _Watched(
                spec.name,
                PolygonZone(
                    polygon=spec.polygon,
                    name=spec.name,
                    anchors=tuple(Anchor[a] for a in spec.anchors),
                    min_frames=spec.min_frames,
                    loiter_seconds=spec.loiter_seconds,
                    crowd_threshold=spec.crowd_threshold,
                    crowd_clear_seconds=spec.crowd_clear_seconds,
                    max_missing_frames=None,
                    max_missing_seconds=forget,
                ),
                _class_ids(class_names, spec.classes, f"zone {spec.name}"),
            )
            for spec in scene.zones
        ]
        self.running: _Watched[RunningDetector] | None = None
        if scene.running is not None:
            spec = scene.running
            homography = None
            if spec.homography is not None:
                homography = (spec.homography.image, spec.homography.ground)
            self.running = _Watched(
                "running",
                RunningDetector(
                    speed_px_s=spec.speed_px_s,
                    speed_m_s=spec.speed_m_s,
                    homography=homography,
                    max_missing_frames=None,
                    max_missing_seconds=forget,
                ),
                _class_ids(class_names, spec.classes, "running"),
            )
        self.heatmap: Heatmap | None = None
        if scene.heatmap.enabled:
            self.heatmap = Heatmap(
                width,
                height,
                cell=scene.heatmap.cell,
                half_life_s=scene.heatmap.half_life_s,
                anchor=Anchor[scene.heatmap.anchor],
            )
        self._zone_alert: dict[str, bool] = {}

    def update(self, detections: Detections, timestamp: float) -> list[DomainEvent]:
        """Feed one frame's tracked detections; return the events it raised."""
        events: list[DomainEvent] = []
        for line in self.lines:
            events.extend(
                line.analytic.trigger(_only(detections, line.class_ids), timestamp).events
            )
        for zone, spec in zip(self.zones, self.scene.zones, strict=True):
            result = zone.analytic.trigger(_only(detections, zone.class_ids), timestamp)
            events.extend(result.events)
            crowded = spec.crowd_threshold is not None and result.occupancy >= spec.crowd_threshold
            loitering = (
                spec.loiter_seconds is not None
                and result.dwell.size > 0
                and float(result.dwell.max()) >= spec.loiter_seconds
            )
            self._zone_alert[zone.name] = crowded or loitering
        if self.running is not None:
            watched = _only(detections, self.running.class_ids)
            events.extend(self.running.analytic.trigger(watched, timestamp).events)
        if self.heatmap is not None:
            self.heatmap.add(detections, timestamp)
        return events

    def line_overlays(self) -> tuple[LineOverlay, ...]:
        """Lines with their counts so far, for drawing."""
        out = []
        for line, spec in zip(self.lines, self.scene.lines, strict=True):
            out.append(
                LineOverlay(
                    name=spec.name,
                    start=spec.start,
                    end=spec.end,
                    in_label=spec.in_label,
                    out_label=spec.out_label,
                    in_count=line.analytic.in_count,
                    out_count=line.analytic.out_count,
                )
            )
        return tuple(out)

    def zone_overlays(self) -> tuple[ZoneOverlay, ...]:
        """Zones with their occupancy now, for drawing."""
        return tuple(
            ZoneOverlay(
                name=spec.name,
                polygon=spec.polygon,
                occupancy=zone.analytic.occupancy,
                alert=self._zone_alert.get(spec.name, False),
            )
            for zone, spec in zip(self.zones, self.scene.zones, strict=True)
        )

    def _named(self, per_class: Mapping[int, int]) -> dict[str, int]:
        names = self.class_names
        return {
            (names[k] if 0 <= k < len(names) else str(k)): v for k, v in sorted(per_class.items())
        }

    def summary(self) -> dict[str, dict[str, object]]:
        """Counts per line (total and per class) and zone statistics."""
        out: dict[str, dict[str, object]] = {}
        for line, spec in zip(self.lines, self.scene.lines, strict=True):
            analytic = line.analytic
            out[spec.name] = {
                "kind": "line",
                spec.in_label: analytic.in_count,
                spec.out_label: analytic.out_count,
                f"{spec.in_label}_per_class": self._named(analytic.in_count_per_class),
                f"{spec.out_label}_per_class": self._named(analytic.out_count_per_class),
            }
        for zone, zone_spec in zip(self.zones, self.scene.zones, strict=True):
            out[zone_spec.name] = {
                "kind": "zone",
                "occupancy": zone.analytic.occupancy,
                "max_occupancy": zone.analytic.max_occupancy,
                "visits": zone.analytic.visits,
            }
        return out


class Analyzer:
    """Runs a scene's pipeline over a video source."""

    def __init__(
        self,
        scene: Scene,
        detector: Detector,
        tracker: Tracker,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.scene = scene
        self.detector = detector
        self.tracker = tracker
        self.analytics: SceneAnalytics | None = None
        self.times = StageTimes()
        self.events = 0
        self._clock = clock
        self._source = EventSource(
            edge_node_id=scene.camera.edge_node_id, camera_id=scene.camera.id
        )
        self._mapping: BoxMapping | None = None

    def _detect(self, frame: Frame) -> Detections:
        """Detect on the frame's detect image when it has one, boxes in ``image`` pixels."""
        small = frame.detect_image
        if small is None:
            return self.detector.detect(frame.image)
        found = self.detector.detect(small)
        detect = (int(small.shape[1]), int(small.shape[0]))
        main = (frame.width, frame.height)
        mapping = self._mapping
        if mapping is None or mapping.detect != detect or mapping.main != main:
            mapping = self._mapping = BoxMapping.between(detect, main)
        return mapping.map(found)

    def _envelope(
        self, event: DomainEvent, base: datetime, first: float, tracked: Detections, frame: Frame
    ) -> Envelope:
        """Envelope an event of this frame.

        A tracked object's foot point goes on its payload as ``point`` (rules' exclusion
        areas judge it) when the track is among the frame's detections.
        """
        when = base + timedelta(seconds=event.timestamp - first)
        payload = event.payload()
        track = payload.get("track_id")
        if isinstance(track, int):
            point = foot_point(tracked, track, frame.width, frame.height)
            if point is not None:
                payload[POINT_KEY] = list(point)
        return Envelope(
            event_id=new_event_id(when),
            type=event.type,
            timestamp=when,
            source=self._source,
            payload=payload,
        )

    def run(self, source: VideoSource, *, max_frames: int | None = None) -> Iterator[AnalyzedFrame]:
        """Yield each analysed frame until the source ends or ``max_frames``.

        The time the caller spends between two frames is booked as ``output``.
        The source is closed when the iteration stops, however it stops.

        Raises:
            ConfigError: ``max_frames`` below 1, or a scene class unknown to the model.
            SourceError: The source failed.
            DetectorError: Inference failed.
        """
        if max_frames is not None and max_frames < 1:
            raise ConfigError("max_frames must be at least 1")
        base = self._clock()
        first: float | None = None
        frames = source.frames()
        times = self.times
        try:
            while max_frames is None or times.frames < max_frames:
                t0 = time.perf_counter()
                frame = next(frames, None)
                t1 = time.perf_counter()
                times.decode += t1 - t0
                if frame is None:
                    return
                if first is None:
                    first = frame.timestamp
                if self.analytics is None:
                    self.analytics = SceneAnalytics(
                        self.scene, self.detector.class_names, frame.width, frame.height
                    )
                detections = self._detect(frame)
                t2 = time.perf_counter()
                tracked = self.tracker.update(detections, image=frame.image)
                t3 = time.perf_counter()
                raised = self.analytics.update(tracked, frame.timestamp)
                envelopes = tuple(self._envelope(e, base, first, tracked, frame) for e in raised)
                t4 = time.perf_counter()
                times.detect += t2 - t1
                times.track += t3 - t2
                times.analytics += t4 - t3
                times.frames += 1
                self.events += len(envelopes)
                yield AnalyzedFrame(frame, tracked, envelopes)
                times.output += time.perf_counter() - t4
        finally:
            source.close()
