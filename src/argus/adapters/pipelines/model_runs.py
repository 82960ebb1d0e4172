"""The ``model.running`` event: which model version a camera's new run really runs.

A camera worker builds its detector from ``Camera.model`` at the start of
every run; with ``ARGUS_MODEL_RUN_EVENTS`` on, the first analysed frame of a
run publishes one ``model.running``
event with the ``name@version`` the detections were stamped with, so an
assignment, a promotion or a rollback can be seen to have taken effect (and
when) in the camera's events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from argus.domain.cameras import Camera
from argus.domain.detections import Detections
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.frames import Frame
from argus.ports.detector import Detector
from argus.ports.frame_observers import FrameObserver, ObserverFactory

__all__ = ["MODEL_RUNNING", "ModelRunMarker", "model_run_markers"]

MODEL_RUNNING = "model.running"
"""Type of the event a camera run publishes on its first analysed frame."""


class ModelRunMarker:
    """Publishes one ``model.running`` event per camera run, on its first analysed frame.

    Args:
        camera: The camera whose run it watches.
        model_ref: The run's detector's ``name@version``.
        edge_node_id: The node running the camera.
    """

    def __init__(self, camera: Camera, model_ref: str, edge_node_id: str) -> None:
        self._source = EventSource(edge_node_id=edge_node_id, camera_id=camera.id)
        self._assigned = camera.model
        self._model_ref = model_ref
        self._sent = False

    def observe(
        self, taken_at: datetime, frame: Frame, detections: Detections
    ) -> Sequence[Envelope]:
        """The run's ``model.running`` event on its first frame, nothing afterwards."""
        del frame
        if self._sent:
            return ()
        self._sent = True
        payload = {"model_ref": detections.model or self._model_ref, "assigned": self._assigned}
        return (Envelope(new_event_id(taken_at), MODEL_RUNNING, taken_at, self._source, payload),)

    def close(self) -> Sequence[Envelope]:
        """Nothing is pending at the end of a run."""
        return ()


def model_run_markers(edge_node_id: str, *, enabled: bool = True) -> ObserverFactory:
    """The factory giving every camera run its ``ModelRunMarker`` (none when not ``enabled``)."""

    def build(camera: Camera, detector: Detector) -> Sequence[FrameObserver]:
        if not enabled:
            return ()
        return (ModelRunMarker(camera, detector.model_ref, edge_node_id),)

    return build
