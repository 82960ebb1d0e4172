"""The hard-example sampler as a frame observer of a camera run (``ports.frame_observers``).

On every analysed frame it remembers the model's boxes (``DetectionMemory``,
so a later verdict on an alert of this camera finds them) and asks the
camera's ``ExampleSampler`` whether the frame is worth a label. A candidate
leaves as an ``example.candidate`` event with the frame's events; its
payload carries the boxes, the frame's size and time, and the model, and the
control plane's ``HardExampleService`` takes the frame itself from the
camera's ring. A bad frame is logged and yields nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from argus.domain.cameras import Camera
from argus.domain.detections import Detections
from argus.domain.event_ids import new_event_id
from argus.domain.events import Envelope, EventSource
from argus.domain.example_sampling import (
    CANDIDATE_EVENT,
    Candidate,
    DetectionMemory,
    ExampleSampler,
    LineBook,
    Recalled,
    SamplingPolicy,
    boxes_of,
)
from argus.domain.frames import Frame
from argus.domain.hard_examples import LabelBox
from argus.ports.detector import Detector
from argus.ports.frame_observers import FrameObserver, ObserverFactory

__all__ = ["ExampleSamplerObserver", "candidate_payload", "sampler_factory"]

log = logging.getLogger(__name__)


def _box(box: LabelBox) -> dict[str, object]:
    return {
        "x1": round(box.x1, 2),
        "y1": round(box.y1, 2),
        "x2": round(box.x2, 2),
        "y2": round(box.y2, 2),
        "class_name": box.class_name,
        "score": None if box.score is None else round(box.score, 4),
    }


def candidate_payload(candidate: Candidate, model_ref: str) -> dict[str, object]:
    """The JSON payload of a candidate's event."""
    return {
        "source": candidate.source.value,
        "captured_at": candidate.at.isoformat(),
        "width": candidate.width,
        "height": candidate.height,
        "model_ref": model_ref,
        "track_id": candidate.track_id,
        "note": candidate.note,
        "boxes": [_box(b) for b in candidate.boxes],
    }


class ExampleSamplerObserver:
    """Samples one camera run's frames (see the module docstring).

    Args:
        camera: The camera.
        model_ref: Its production model (``name@version``).
        policy: The band, track rules and limits.
        lines: Where its counting lines are found.
        memory: Where its recent boxes are kept, if anywhere.
        node_id: The edge node named on the events.
    """

    def __init__(
        self,
        camera: Camera,
        model_ref: str,
        policy: SamplingPolicy,
        *,
        lines: LineBook,
        memory: DetectionMemory | None,
        node_id: str,
    ) -> None:
        camera_id = camera.id
        self._camera_id = camera_id
        self._model_ref = model_ref
        self._memory = memory
        self._source = EventSource(node_id, camera_id)
        self._sampler = ExampleSampler(policy, lambda: lines.get(camera_id))

    def observe(
        self, taken_at: datetime, frame: Frame, detections: Detections
    ) -> Sequence[Envelope]:
        """Remember the frame's boxes; the candidate event, if the frame is one."""
        try:
            height, width = frame.image.shape[:2]
            model_ref = detections.model or self._model_ref
            if self._memory is not None:
                boxes = boxes_of(detections, width, height)
                self._memory.remember(
                    self._camera_id, Recalled(taken_at, width, height, model_ref, boxes)
                )
            candidate = self._sampler.observe(taken_at, width, height, detections)
            if candidate is None:
                return ()
            envelope = Envelope(
                event_id=new_event_id(candidate.at),
                type=CANDIDATE_EVENT,
                timestamp=candidate.at,
                source=self._source,
                payload=candidate_payload(candidate, model_ref),
            )
        except Exception:  # an observer never breaks the camera's run
            log.exception("camera %s: hard-example sampling failed on a frame", self._camera_id)
            return ()
        return (envelope,)

    def close(self) -> Sequence[Envelope]:
        """Nothing is pending at a run's end (a track cut short by it is not a short track)."""
        return ()


def sampler_factory(
    policy: SamplingPolicy | None,
    lines: LineBook,
    memory: DetectionMemory | None,
    node_id: str,
) -> ObserverFactory:
    """The observer factory of the sampler (no observer when ``policy`` is ``None``: off)."""

    def build(camera: Camera, detector: Detector) -> Sequence[FrameObserver]:
        if policy is None:
            return ()
        return (
            ExampleSamplerObserver(
                camera,
                detector.model_ref,
                policy,
                lines=lines,
                memory=memory,
                node_id=node_id,
            ),
        )

    return build
