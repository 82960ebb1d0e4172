"""The frame observers every camera worker runs (issue 21): which, and built how.

Part A adds the hard-example sampler (uncertain detections, short tracks,
identity switches near lines); part D2 adds the shadow runner (a candidate
model beside the production one on a sample of frames); with
``ARGUS_MODEL_RUN_EVENTS`` every run publishes the model version it runs
(``model.running``, part D1). Each factory is
called at the start of every run of a camera.
"""

from __future__ import annotations

from collections.abc import Sequence

from argus.adapters.pipelines.model_runs import model_run_markers
from argus.bootstrap.container import Container
from argus.bootstrap.examples import example_observers
from argus.bootstrap.trials import shadow_observer_factory
from argus.config import Settings
from argus.domain.cameras import Camera
from argus.ports.detector import Detector
from argus.ports.frame_observers import FrameObserver, ObserverFactory

__all__ = ["frame_observers"]


def frame_observers(settings: Settings, container: Container) -> ObserverFactory:
    """The observer factory of the camera workers built from ``settings``."""
    factories: list[ObserverFactory] = [
        model_run_markers(settings.node_id, enabled=settings.model_run_events),
        example_observers(settings),
        shadow_observer_factory(settings, container),
    ]

    def build(camera: Camera, detector: Detector) -> Sequence[FrameObserver]:
        return tuple(observer for make in factories for observer in make(camera, detector))

    return build
