"""The frame observers every camera worker runs (issue 21): which, and built how.

Part A adds the hard-example sampler (uncertain detections, short tracks,
identity switches near lines); part D2 adds the shadow runner (a candidate
model beside the production one on a sample of frames). Each factory is
called at the start of every run of a camera.
"""

from __future__ import annotations

from collections.abc import Sequence

from argus.bootstrap.container import Container
from argus.config import Settings
from argus.domain.cameras import Camera
from argus.ports.detector import Detector
from argus.ports.frame_observers import FrameObserver, ObserverFactory

__all__ = ["frame_observers"]


def frame_observers(settings: Settings, container: Container) -> ObserverFactory:
    """The observer factory of the camera workers built from ``settings``."""
    del settings, container
    factories: list[ObserverFactory] = []

    def build(camera: Camera, detector: Detector) -> Sequence[FrameObserver]:
        return tuple(observer for make in factories for observer in make(camera, detector))

    return build
