"""The embedded edge worker: one analysis pipeline per enabled camera, inside ``argus serve``."""

from __future__ import annotations

import os
from dataclasses import replace

from argus.adapters.pipelines import EdgePipelines, RestartPolicy, SourceOptions
from argus.adapters.pipelines.edge import EventSink
from argus.adapters.pipelines.inference import SharedInference
from argus.adapters.pipelines.scene import DetectDefaults
from argus.bootstrap.adapters import EVENTS_SUBJECT
from argus.bootstrap.container import Container, build_container
from argus.bootstrap.models import DetectorOptions
from argus.bootstrap.observers import frame_observers
from argus.bootstrap.sources import source_options, source_policy
from argus.config import Settings
from argus.domain.cameras import Camera
from argus.ports.bus import EventBus
from argus.ports.detector import Detector
from argus.ports.video import VideoSource
from argus.scene import DetectSpec, MotionSpec

__all__ = ["detect_defaults", "edge_pipelines"]


def edge_pipelines(
    settings: Settings,
    bus: EventBus,
    *,
    container: Container | None = None,
    sources: SourceOptions | None = None,
    defaults: DetectDefaults | None = None,
    restart: RestartPolicy | None = None,
    subject: str = EVENTS_SUBJECT,
    share_detectors: bool = True,
    capture_margin: float = 2.0,
    sink: EventSink | None = None,
) -> EdgePipelines:
    """The embedded edge worker publishing to ``bus`` (a ``PipelinesFactory``).

    Call it on the event loop that runs the bus. Detectors come from the model
    packs of ``settings`` (built on first use), trackers are Argus's own.
    Events carry ``settings.node_id`` as their edge node; with
    ``settings.demo`` and no ``defaults`` every camera gets the demo scene's
    detector settings (``DEMO_DEFAULTS``). ``capture_margin`` is how long past
    an evidence clip's post-roll a capture waits for frames that are late;
    ``sink`` takes the events instead of ``bus`` (an edge node's durable outbox).

    With ``settings.inference_scheduler`` (the default) every camera detects
    through one ``InferenceScheduler`` per shared detector (``SharedInference``:
    batches of up to ``settings.inference_max_batch`` images, fair, cameras where
    something is detected or tracked weighing twice, granted fps enforced per
    camera), run by
    ``settings.inference_threads`` threads side by side (0: one per usable
    core). Without it each camera thread calls the detector itself. Either way
    ONNX Runtime runs on ``settings.intra_op_threads`` threads, or one when that
    is 0, and one inter-op thread: at a few detections per second per camera, a
    pool of one thread per core mostly spins (one camera at 5 fps cost 78 % of a
    core with the runtime's default pool, 34 % with one thread), and the
    batches (or cameras) already run in parallel.
    """
    from argus.adapters.pipelines import WorkerDeps, open_camera

    wired = container if container is not None else build_container(settings)
    intra = settings.intra_op_threads or 1
    inter = settings.inter_op_threads or 1
    defaults = detect_defaults(settings, defaults)

    def detector(spec: DetectSpec) -> Detector:
        return wired.detector(
            DetectorOptions(
                model=spec.model,
                input_size=spec.input_size,
                conf_threshold=spec.confidence,
                iou_threshold=spec.iou,
                class_thresholds=dict(spec.class_confidence) or None,
                classes=spec.classes,
                intra_op_threads=intra,
                inter_op_threads=inter,
            )
        )

    policy = source_policy(settings)
    opening = sources if sources is not None else source_options(settings)
    if opening.connect_to is None:
        # Every HTTP connection (reconnections and redirects too) keeps to the policy.
        opening = replace(opening, connect_to=policy.pin)

    def source(camera: Camera) -> VideoSource:
        # Checked at every start, not only when the camera was saved: the policy, the
        # files or the host's addresses may have changed since. A local path is opened
        # in the canonical form that was checked.
        target = policy.check(camera.stream_url, unresolved_ok=True)
        detect = camera.detect_stream_url
        if detect is not None:  # a sub-stream is held to the same policy
            detect = policy.check(detect, unresolved_ok=True)
        return open_camera(replace(camera, stream_url=target, detect_stream_url=detect), opening)

    observers = frame_observers(settings, wired)
    deps = WorkerDeps(
        detector=detector,
        tracker=wired.tracker,
        source=source,
        observers=observers,
        gate=wired.gated,
        inference=_shared_inference(settings),
    )
    return EdgePipelines(
        bus,
        deps,
        subject=subject,
        defaults=defaults,
        edge_node_id=settings.node_id,
        restart=restart,
        share_detectors=share_detectors,
        capture_margin=capture_margin,
        sink=sink,
        tamper_checks_per_s=0.0 if settings.demo else settings.tamper_checks_per_s,
        # The ring must hold the pre-roll plus the time an alert takes to be raised.
        ring_seconds=max(30.0, settings.evidence_pre_roll_s + settings.evidence_post_roll_s + 20),
    )


def _shared_inference(settings: Settings) -> SharedInference | None:
    """The process's inference schedulers, ``None`` when cameras detect directly."""
    if not settings.inference_scheduler:
        return None
    workers = settings.inference_threads or _usable_cores()
    return SharedInference(max_batch=settings.inference_max_batch, workers=workers)


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def detect_defaults(settings: Settings, defaults: DetectDefaults | None) -> DetectDefaults | None:
    """The detector settings every camera of the pipelines shares.

    ``defaults`` when given, else the demo scene's with ``settings.demo``; with
    ``settings.motion_gating`` they gain motion gating unless they name their own.
    """
    from argus.adapters.pipelines import DEMO_DEFAULTS

    if defaults is None and settings.demo:
        defaults = DEMO_DEFAULTS
    if settings.motion_gating and (defaults is None or defaults.motion is None):
        gating = MotionSpec(
            full_frame_every=settings.motion_full_frame_every,
            sensitivity=settings.motion_sensitivity,
        )
        defaults = replace(defaults if defaults is not None else DetectDefaults(), motion=gating)
    return defaults
