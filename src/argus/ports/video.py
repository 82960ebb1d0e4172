"""The video source port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from argus.domain.frames import Frame, SourceStats

__all__ = ["VideoSource"]


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
