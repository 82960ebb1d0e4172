"""Models from the model packs: object detectors, face models, liveness, image decoding.

``Detectors`` builds a detector for a pack (verified, built first when it is
missing and buildable) or for a bare ONNX file, and the face models the
workstation check and enrolment use. ``verification_models`` and
``enrolment_models`` are the factories the verify hub and the workstation
registry call (in the thread that runs the models).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from argus.adapters.detectors.onnx_yolo import OnnxYoloDetector
from argus.adapters.detectors.opencv_ssd import OpenCvSsdDetector, SsdModelFiles
from argus.adapters.modelpacks.store import FileModelStore
from argus.config import Settings
from argus.domain.errors import ConfigError, ModelError
from argus.domain.model_registry import split_ref
from argus.domain.models import ModelManifest
from argus.ports.detector import Detector
from argus.ports.faces import FaceDetector, FaceEmbedder, LivenessChecker
from argus.ports.workstations import ImageDecoder
from argus.services.models import ModelService
from argus.services.verification import VerificationModels
from argus.services.verify_tuning import AnalysisTuning

__all__ = [
    "ENROLMENT_MAX_PIXELS",
    "DetectorOptions",
    "Detectors",
    "enrolment_models",
    "image_decoder",
    "verification_models",
]

log = logging.getLogger(__name__)

ENROLMENT_MAX_PIXELS = 6000 * 6000
"""Largest enrolment photo in pixels (camera photos are large; frames are not)."""


@dataclass(frozen=True, slots=True)
class DetectorOptions:
    """How to run a detector.

    Attributes:
        model: Pack name (its current version), ``name@version``, or a path to a
            ``.onnx`` file used as is.
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


class Detectors:
    """Builds detectors and face models from the model packs of the settings.

    Args:
        settings: Default input size and thread counts.
        store: Where the packs are.
        models: Builds and verifies packs.
    """

    def __init__(self, settings: Settings, store: FileModelStore, models: ModelService) -> None:
        self._settings = settings
        self._store = store
        self._models = models

    def detector(self, options: DetectorOptions) -> Detector:
        """Build a detector for a pack (verified before use) or a bare ONNX file.

        ``name`` runs the pack's current version, ``name@version`` that version
        (current or kept).
        """
        if options.model.endswith(".onnx"):
            return self._bare_onnx(options)
        name, version = split_ref(options.model)
        if version is not None:
            pinned = self._models.require_sound_version(name, version)
            return self._from_manifest(pinned, options, self._models.version_path(name, version))
        if options.auto_build and options.model in self._models.builder_names:
            if not self._store.has(options.model):
                log.info("model pack %s is not built yet: building it now", options.model)
            self._models.ensure(options.model)
        manifest = self._models.require_sound(options.model)
        return self._from_manifest(manifest, options)

    def _threads(self, options: DetectorOptions) -> tuple[int | None, int | None]:
        """Intra- and inter-op thread counts (``None``: the runtime's default)."""
        intra = options.intra_op_threads
        inter = options.inter_op_threads
        return (
            (intra if intra is not None else self._settings.intra_op_threads) or None,
            (inter if inter is not None else self._settings.inter_op_threads) or None,
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

    def _from_manifest(
        self, manifest: ModelManifest, options: DetectorOptions, directory: Path | None = None
    ) -> Detector:
        names = manifest.class_names
        directory = directory if directory is not None else self._store.path(manifest.name)
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
            default = self._settings.default_input_size
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

        intra = self._settings.intra_op_threads or None
        inter = self._settings.inter_op_threads or None
        packs = {}
        for name in ("centerface", "dlib-face-resnet"):
            self._models.ensure(name)
            packs[name] = self._models.require_sound(name)
        face, resnet = packs["centerface"], packs["dlib-face-resnet"]
        detector = CenterFaceDetector(
            self._store.path(face.name) / face.files[0].path,
            model_ref=face.ref,
            max_side=max_side,
            intra_op_num_threads=intra,
            inter_op_num_threads=inter,
        )
        embedder = DlibResnetEmbedder(
            self._store.path(resnet.name) / resnet.files[0].path,
            model_ref=resnet.ref,
            intra_op_num_threads=intra,
            inter_op_num_threads=inter,
        )
        return detector, embedder

    def liveness_checker(self, *, window: int = 8) -> LivenessChecker:
        """The multi-frame liveness check (motion, texture and still-medium cues, fused)."""
        from argus.adapters.face.liveness import MotionTextureLiveness

        return MotionTextureLiveness(window=window)


def _detectors(settings: Settings) -> Detectors:
    from argus.adapters.modelpacks.catalog import default_builders

    store = FileModelStore(settings.models_dir)
    return Detectors(settings, store, ModelService(store, default_builders()))


def verification_models(settings: Settings) -> VerificationModels:
    """One verification pipeline's models: CenterFace, dlib ResNet, the liveness check, and
    yolov7-tiny at 320 px for phones (packs built on first use). Call it in the thread that
    will run them; each call loads its own sessions.

    Raises:
        ModelError: A pack cannot be built or fails its checksum.
    """
    threads = settings.workstation_model_threads
    detectors = _detectors(settings.model_copy(update={"intra_op_threads": threads}))
    faces, embedder = detectors.face_models()
    objects = detectors.detector(
        DetectorOptions(
            model="yolov7-tiny",
            input_size=320,
            classes=["person", "cell phone", "tv", "laptop"],  # devices: the liveness cue
        )
    )
    tuning = verification_tuning(settings)
    return VerificationModels(faces, embedder, detectors.liveness_checker(), objects, tuning)


def verification_tuning(settings: Settings) -> AnalysisTuning:
    """The capacity optimisations of verification pipelines from the settings."""
    small = settings.workstation_face_small_side
    return AnalysisTuning(
        face_sides=(small, 640) if 32 <= small < 640 else (640,),
        objects_every=settings.workstation_objects_every,
        reuse_embedding=settings.workstation_reverify_s > 0,
        reverify_seconds=settings.workstation_reverify_s,
        liveness_every=settings.workstation_liveness_every,
        batch=settings.workstation_batch,
    )


def enrolment_models(settings: Settings) -> tuple[FaceDetector, FaceEmbedder]:
    """The face detector and embedder that turn enrolment photos into descriptors."""
    return _detectors(settings).face_models()


def image_decoder(max_pixels: int) -> ImageDecoder:
    """Decodes JPEG and PNG bytes into BGR pixels, refusing images over ``max_pixels``."""
    from argus.adapters.face.images import decode_image

    return partial(decode_image, max_pixels=max_pixels)
