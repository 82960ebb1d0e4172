"""Helpers of the shared-inference wiring tests: a clock moved by inference, a detector
that costs time on that clock, a brightness "person" detector, and plain clips.

The scheduler's governor measures each batch on the clock it is given. A
``MeteredDetector`` advances an ``InferenceClock`` by a fixed cost per image, so
the capacity the governor measures (0.9 / cost) and the grants it derives are
exact numbers, whatever the machine's speed: saturation without wall-clock time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.ports.detector import Detector

Image = npt.NDArray[np.uint8]


class InferenceClock:
    """Monotonic seconds that move only when a ``MeteredDetector`` runs (thread-safe)."""

    def __init__(self) -> None:
        self._now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class MeteredDetector:
    """``inner`` whose every image costs ``cost_s`` seconds on ``clock``."""

    def __init__(self, inner: Detector, clock: InferenceClock, cost_s: float) -> None:
        self.inner = inner
        self.clock = clock
        self.cost_s = cost_s
        self.images = 0

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.inner.class_names

    @property
    def model_ref(self) -> str:
        return self.inner.model_ref

    def detect(self, image: Image) -> Detections:
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[Image]) -> list[Detections]:
        found = self.inner.detect_batch(images)
        self.images += len(images)
        self.clock.advance(self.cost_s * len(images))
        return found


class BrightPerson:
    """One ``person`` in the middle of every bright image (mean above 127); none in dark ones."""

    class_names: tuple[str, ...] = ("person",)
    model_ref: str = "bright-person@1"

    def detect(self, image: Image) -> Detections:
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[Image]) -> list[Detections]:
        out = []
        for image in images:
            if float(image.mean()) <= 127:
                out.append(Detections.empty(self.class_names, self.model_ref))
                continue
            height, width = image.shape[:2]
            box = [width * 0.4, height * 0.3, width * 0.6, height * 0.9]
            out.append(
                Detections(
                    xyxy=np.array([box], dtype=np.float32),
                    confidence=np.array([0.9], dtype=np.float32),
                    class_id=np.zeros(1, dtype=np.int64),
                    class_names=self.class_names,
                    model=self.model_ref,
                )
            )
        return out


def solid_clip(path: Path, *, level: int, seconds: float, fps: int = 10) -> Path:
    """Write an H.264 mp4 of ``seconds`` of 160x120 frames of grey ``level``."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = 160, 120
        stream.pix_fmt = "yuv420p"
        stream.options = {"g": "10", "bf": "0"}
        for index in range(round(seconds * fps)):
            image = np.full((120, 160, 3), level, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
