"""Dwell accuracy: dwell per visit of tracked paths against ground-truth trajectories.

Argus's tracker tracks the public detections of a MOTChallenge sequence,
frame by frame, as a camera pipeline would; its tracked boxes are recorded
the way a pipeline records them (``MinuteTracks``: 5 Hz samples in
``tracks.minute`` payloads) and read back (``TrackAssembler``), exactly what
the dwell API reads from the event store. ``argus.domain.analytics.dwell``
then joins the fragments and measures the visits to each zone. The truth is
the visits of the ground-truth trajectories (``gt.txt``, which nobody here
wrote) to the same zones, measured with the same rules on paths whose
identities are right (``zone_visits``).

For contrast each check also has what a live ``PolygonZone`` fed with the
same tracks reports per ``zone.exited`` (one per track fragment): the dwell
the API reported before issue 23.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from argus.domain.analytics.dwell import Path, Visit, visits, zone_visits
from argus.domain.analytics.polygon import PolygonZone
from argus.domain.detections import Detections
from argus.domain.event_payloads import ZoneExited
from argus.domain.events import Envelope, EventSource
from argus.domain.frames import Frame
from argus.services.counting import trajectories_of
from argus.services.mot import EvalTracker, MotSequence
from argus.services.track_log import MinuteTracks, TrackAssembler

__all__ = ["DwellCheck", "evaluate_dwell", "side_zones"]

Polygon = Sequence[tuple[float, float]]
_T0 = datetime(2026, 1, 1, tzinfo=UTC)
_SOURCE = EventSource("dwell-eval", "dwell-eval")


@dataclass(frozen=True, slots=True)
class DwellCheck:
    """Dwell in one zone of one sequence: the truth, per visit, and per live exit.

    Attributes:
        sequence: The sequence.
        zone: The zone's name.
        truth_visits: Visits of the ground-truth trajectories.
        truth_mean: Their mean dwell in seconds (0 when none).
        visits: Visits of the tracked paths, fragments joined.
        mean: Their mean dwell in seconds (0 when none).
        exits: ``zone.exited`` events of a live zone over the same tracks.
        exit_mean: Their mean ``dwell_seconds`` (0 when none).
    """

    sequence: str
    zone: str
    truth_visits: int
    truth_mean: float
    visits: int
    mean: float
    exits: int
    exit_mean: float

    @property
    def error(self) -> float:
        """Relative error of the mean dwell per visit (``inf`` when the truth has none)."""
        return abs(self.mean - self.truth_mean) / self.truth_mean if self.truth_mean else np.inf


def side_zones(width: int, height: int) -> dict[str, Polygon]:
    """Three full-height zones: the left half, the middle half and the right half of the frame."""
    w, h = float(width), float(height)

    def band(a: float, b: float) -> Polygon:
        return ((a * w, 0.0), (b * w, 0.0), (b * w, h), (a * w, h))

    return {"left": band(0.0, 0.5), "middle": band(0.25, 0.75), "right": band(0.5, 1.0)}


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else 0.0


def _tracked(tracker: EvalTracker, sequence: MotSequence) -> list[Detections]:
    tracker.start(sequence.frame_rate)
    out = []
    for detections in sequence.frames:
        xyxy, ids = tracker.collect(tracker.update(tracker.prepare(detections)))
        n = len(ids)
        out.append(
            Detections(
                xyxy=np.asarray(xyxy, dtype=np.float32).reshape(n, 4),
                confidence=np.ones(n, dtype=np.float32),
                class_id=np.zeros(n, dtype=np.int64),
                tracker_id=np.asarray(ids, dtype=np.int64).reshape(n),
                class_names=("person",),
            )
        )
    return out


def _recorded(frames: Sequence[Detections], rate: float, size: tuple[int, int]) -> TrackAssembler:
    """The tracks as a pipeline records them in ``tracks.minute`` events, read back."""
    frame = Frame(np.zeros((size[1], size[0], 3), dtype=np.uint8), 0, 0.0, "dwell-eval")
    log = MinuteTracks(_SOURCE, ("person",), run=1)
    envelopes: list[Envelope] = []
    for index, detections in enumerate(frames):
        envelopes += log.add(_T0 + timedelta(seconds=index / rate), frame, detections)
    envelopes += log.flush()
    assembler = TrackAssembler(_T0)
    for envelope in envelopes:
        assembler.add(envelope.timestamp, envelope.payload)
    return assembler


def _exits(frames: Sequence[Detections], rate: float, polygon: Polygon) -> list[float]:
    zone = PolygonZone(polygon)
    dwell: list[float] = []
    for index, detections in enumerate(frames):
        for event in zone.trigger(detections, index / rate).events:
            if isinstance(event, ZoneExited):
                dwell.append(event.dwell_seconds)
    return dwell


def evaluate_dwell(
    sequence: MotSequence,
    ground_truth: Sequence[Detections],
    zones: Mapping[str, Polygon],
    tracker: EvalTracker,
    size: tuple[int, int],
) -> list[DwellCheck]:
    """Dwell per visit of ``tracker``'s paths and of the ground truth, per zone.

    Args:
        sequence: The public detections.
        ground_truth: The ground truth, one ``Detections`` per frame (ids as tracker ids).
        zones: Zone polygons by name, in pixels.
        tracker: The tracker under test.
        size: The frames' ``(width, height)``.
    """
    rate = sequence.frame_rate
    truth = [Path(t.class_id, t.t, t.xy) for t in trajectories_of(ground_truth, rate)]
    frames = _tracked(tracker, sequence)
    assembler = _recorded(frames, rate, size)
    trajectories = assembler.trajectories({"person": 0})
    out = []
    for name, polygon in zones.items():
        real: list[Visit] = zone_visits(truth, polygon)
        ours = visits(trajectories, polygon)
        exits = _exits(frames, rate, polygon)
        out.append(
            DwellCheck(
                sequence.name,
                name,
                len(real),
                _mean([v.seconds for v in real]),
                len(ours),
                _mean([v.seconds for v in ours]),
                len(exits),
                _mean(exits),
            )
        )
    return out
