"""Detection use case: frames from a source through a detector."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from argus.domain.detections import Detections
from argus.domain.errors import ConfigError
from argus.domain.frames import Frame
from argus.ports.detector import Detector
from argus.ports.video import VideoSource

__all__ = ["FrameResult", "detect_stream"]


@dataclass(frozen=True, slots=True)
class FrameResult:
    """A frame and what was found in it.

    Attributes:
        frame: The decoded frame.
        detections: Detections in the frame's pixels, tagged with the model ref.
    """

    frame: Frame
    detections: Detections


def detect_stream(
    source: VideoSource,
    detector: Detector,
    *,
    batch_size: int = 1,
    max_frames: int | None = None,
) -> Iterator[FrameResult]:
    """Yield a result per frame of ``source`` until it ends or ``max_frames`` is reached.

    Frames are grouped ``batch_size`` at a time into one inference call. The
    source is closed when the iteration stops, however it stops.

    Raises:
        ConfigError: ``batch_size`` or ``max_frames`` is out of range.
        SourceError: The source failed (after its own retries, for live sources).
        DetectorError: Inference failed.
    """
    if batch_size < 1:
        raise ConfigError("batch_size must be at least 1")
    if max_frames is not None and max_frames < 1:
        raise ConfigError("max_frames must be at least 1")
    pending: list[Frame] = []
    seen = 0
    try:
        for frame in source.frames():
            pending.append(frame)
            seen += 1
            done = max_frames is not None and seen >= max_frames
            if len(pending) >= batch_size or done:
                yield from _flush(pending, detector)
                pending = []
            if done:
                return
        yield from _flush(pending, detector)
    finally:
        source.close()


def _flush(frames: list[Frame], detector: Detector) -> Iterator[FrameResult]:
    if not frames:
        return
    if len(frames) == 1:
        results = [detector.detect(frames[0].image)]
    else:
        results = detector.detect_batch([f.image for f in frames])
    for frame, detections in zip(frames, results, strict=True):
        yield FrameResult(frame, detections)
