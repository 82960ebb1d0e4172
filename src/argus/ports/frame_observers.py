"""Frame observers: small per-camera hooks a camera worker calls on every analysed frame.

The learning loop uses them: one samples detections inside the uncertainty
band and tracks that end too soon (hard-example candidates), another runs a
candidate model on a sample of frames beside the production one (shadow
runs). An observer returns the envelopes it wants published with the frame's
own events; it must be cheap on most frames (the worker's thread calls it)
and never raise for a bad frame (it logs and returns nothing instead).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from argus.domain.cameras import Camera
from argus.domain.detections import Detections
from argus.domain.events import Envelope
from argus.domain.frames import Frame
from argus.ports.detector import Detector

__all__ = ["FrameObserver", "ObserverFactory", "no_observers"]


class FrameObserver(Protocol):
    """Watches one camera run's analysed frames."""

    def observe(
        self, taken_at: datetime, frame: Frame, detections: Detections
    ) -> Sequence[Envelope]:
        """Look at one analysed frame (``detections``: the tracked, confirmed ones)."""
        ...

    def close(self) -> Sequence[Envelope]:
        """The run ended (stopped, failed or the stream ended): flush what is pending."""
        ...


ObserverFactory = Callable[[Camera, Detector], Sequence[FrameObserver]]
"""The observers of a new run of a camera, given the camera and its production detector."""


def no_observers(camera: Camera, detector: Detector) -> Sequence[FrameObserver]:
    """The default factory: no observers."""
    del camera, detector
    return ()
