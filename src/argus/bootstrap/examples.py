"""The hard-example queue (issue 21, part A), built from the settings and the adapters.

The camera workers' samplers and the control plane share two in-process
objects: each camera's recent boxes (``DetectionMemory``: samplers write, the
service reads when a verdict comes) and each camera's counting lines
(``LineBook``: the intake writes, samplers read). The pipelines and the
control plane are built apart (``bootstrap.edge``, ``bootstrap.services``), so
both take them from here: one of each per process, made on first use.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from argus.adapters.pipelines.example_sampler import sampler_factory
from argus.bootstrap.adapters import Adapters
from argus.config import Settings
from argus.domain.example_sampling import DetectionMemory, LineBook, SamplingPolicy
from argus.ports.frame_observers import ObserverFactory
from argus.services.evidence import EvidenceService
from argus.services.hard_example_intake import ExampleIntake
from argus.services.hard_examples import CollectPolicy, HardExampleService

__all__ = [
    "build_examples",
    "detection_memory",
    "example_observers",
    "line_book",
    "sampling_policy",
]


@functools.cache
def _memory(window_s: float) -> DetectionMemory:
    return DetectionMemory(timedelta(seconds=window_s))


def detection_memory(settings: Settings) -> DetectionMemory | None:
    """This process's recent boxes of local cameras (``None`` when none are kept)."""
    window = settings.examples_boxes_window_s
    if not settings.examples_enabled or window <= 0:
        return None
    return _memory(window)


@functools.cache
def line_book() -> LineBook:
    """This process's counting lines of local cameras."""
    return LineBook()


def sampling_policy(settings: Settings) -> SamplingPolicy | None:
    """How local cameras' frames are sampled (``None`` when collection is off)."""
    if not settings.examples_enabled:
        return None
    return SamplingPolicy(
        band_low=settings.examples_band_low,
        band_high=settings.examples_band_high,
        short_track_frames=settings.examples_short_track_frames,
        switch_distance_px=settings.examples_switch_distance_px,
        min_gap=timedelta(seconds=settings.examples_min_gap_s),
        per_hour=settings.examples_per_camera_hour,
    )


def example_observers(settings: Settings) -> ObserverFactory:
    """The sampler's observer factory for the camera workers."""
    return sampler_factory(
        sampling_policy(settings), line_book(), detection_memory(settings), settings.node_id
    )


def build_examples(
    settings: Settings, adapters: Adapters, evidence: EvidenceService
) -> HardExampleService:
    """The hard-example service with its bus intake as ``background``."""
    days = settings.examples_retention_days
    policy = CollectPolicy(
        enabled=settings.examples_enabled,
        max_queued=settings.examples_max_queued_per_camera,
        retention=timedelta(days=days) if days > 0 else None,
    )
    service = HardExampleService(
        adapters.database,
        evidence,
        pipelines=adapters.pipelines,
        memory=detection_memory(settings),
        policy=policy,
    )
    service.background = ExampleIntake(
        service,
        adapters.bus,
        events_subject=adapters.events_subject,
        pipelines=adapters.pipelines,
        lines=line_book(),
        database=adapters.database,
    )
    return service
