"""Video frames and per-source statistics as plain values."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError

__all__ = ["Frame", "SourceState", "SourceStats"]


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded frame.

    Attributes:
        image: BGR pixels, shape ``(H, W, 3)``, dtype uint8.
        index: 0-based position of the frame in its source since it was opened.
        timestamp: Seconds since the source started (presentation time where known).
        source_id: Name of the source that produced it.
        detect_image: The same moment from the camera's low-resolution detect
            stream (a sub-stream), BGR ``(h, w, 3)`` uint8, or ``None``. Detection
            runs on it when present and its boxes are mapped to ``image``'s
            pixels; everything else (tracking, lines, zones, snapshots) uses ``image``.
    """

    image: npt.NDArray[np.uint8]
    index: int
    timestamp: float
    source_id: str = ""
    detect_image: npt.NDArray[np.uint8] | None = None

    def __post_init__(self) -> None:
        for name, image in (("frame image", self.image), ("detect image", self.detect_image)):
            if image is None:
                continue
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                raise ValidationError(
                    f"{name} must be (H, W, 3) uint8, got {image.shape} {image.dtype}"
                )

    @property
    def width(self) -> int:
        """Width in pixels."""
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        """Height in pixels."""
        return int(self.image.shape[0])

    @property
    def detect_size(self) -> tuple[int, int] | None:
        """``(width, height)`` of the detect image, ``None`` without one."""
        if self.detect_image is None:
            return None
        return int(self.detect_image.shape[1]), int(self.detect_image.shape[0])


class SourceState(enum.Enum):
    """Lifecycle of a video source; misuse (read after close) is caught against it."""

    NEW = "new"
    OPEN = "open"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    FAILED = "failed"
    CLOSED = "closed"


@dataclass(slots=True)
class SourceStats:
    """Running counters of one source (mutable, owned by the source that updates it).

    Attributes:
        frames_in: Packets or images received.
        frames_decoded: Frames decoded successfully.
        frames_dropped: Frames lost to decode errors or skipped by the sampler.
        reconnects: Successful reconnections after a failure.
        last_error: Text of the latest error, or ``None``.
        state: Where the source is in its lifecycle.
    """

    frames_in: int = 0
    frames_decoded: int = 0
    frames_dropped: int = 0
    reconnects: int = 0
    last_error: str | None = None
    state: SourceState = SourceState.NEW

    def snapshot(self) -> dict[str, object]:
        """Return the counters as a JSON-ready dict."""
        return {
            "frames_in": self.frames_in,
            "frames_decoded": self.frames_decoded,
            "frames_dropped": self.frames_dropped,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
            "state": self.state.value,
        }
