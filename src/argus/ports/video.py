"""The video source port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from argus.domain.frames import Frame, SourceStats

__all__ = ["JpegEncoder", "ProbeOpener", "VideoSource"]


@runtime_checkable
class VideoSource(Protocol):
    """A stream of frames: a file, an RTSP camera, MJPEG, snapshots or images.

    Iterating yields frames until the source ends or is closed. A corrupt or
    truncated input raises ``SourceDecodeError`` (or, for live sources, is
    retried with backoff); it never takes the process down.
    """

    @property
    def source_id(self) -> str:
        """Name used in logs and frames."""
        ...

    @property
    def stats(self) -> SourceStats:
        """Running counters and state."""
        ...

    def frames(self) -> Iterator[Frame]:
        """Yield frames until the source ends or ``close`` is called."""
        ...

    def close(self) -> None:
        """Stop reading and release the connection; safe to call twice."""
        ...


ProbeOpener = Callable[[str, float], VideoSource]
"""Opens a URL or path for one look at its first frame: ``(target, timeout_s)``; a live
stream connects and reads within ``timeout_s`` and never reconnects, a file is read as
fast as it decodes. Raises ``ConfigError`` for an unsupported target and
``SourceOpenError`` for a missing path; no I/O happens until ``frames()``."""

JpegEncoder = Callable[[npt.NDArray[np.uint8]], bytes]
"""Encodes BGR pixels ``(H, W, 3)`` as JPEG bytes."""
