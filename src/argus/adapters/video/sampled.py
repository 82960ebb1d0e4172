"""A wrapper that thins any source down to a target frame rate.

Where the wrapped source is one of this package's adapters (``BaseSource``), the
sampler is handed to it: it decides per decoded frame, from the timestamp, before
the frame is converted to BGR, so skipped frames cost their decoding only. Other
sources are filtered here, frame by frame. Both ways keep the same frames.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from types import TracebackType
from typing import Self

from argus.adapters.video._base import BaseSource
from argus.domain.frames import Frame, SourceStats
from argus.domain.sampler import FrameSampler
from argus.ports.video import VideoSource

__all__ = ["SampledSource"]


class SampledSource:
    """A ``VideoSource`` that passes on only the frames a ``FrameSampler`` keeps.

    Frames keep their index and timestamp in the wrapped source. Skipped frames
    are added to ``stats.frames_dropped``; ``skipped`` gives them alone. A
    ``BaseSource`` not yet read applies the sampler itself, before converting
    frames to BGR (``pushed_down``); any other source is filtered here.

    Args:
        source: The source to thin; closing the wrapper closes it.
        target_fps: Wanted rate of frames passed on (> 0).
    """

    def __init__(self, source: VideoSource, target_fps: float) -> None:
        self._source = source
        self._sampler = FrameSampler(target_fps)
        self._pushed_down = isinstance(source, BaseSource) and source.sample_with(self._sampler)

    @property
    def source(self) -> VideoSource:
        """The wrapped source."""
        return self._source

    @property
    def target_fps(self) -> float:
        """Wanted rate of frames passed on."""
        return self._sampler.target_fps

    @property
    def pushed_down(self) -> bool:
        """Whether the wrapped source skips frames itself, before converting them."""
        return self._pushed_down

    @property
    def skipped(self) -> int:
        """Frames skipped by the sampler so far."""
        return self._sampler.skipped

    @property
    def source_id(self) -> str:
        """Name of the wrapped source."""
        return self._source.source_id

    @property
    def stats(self) -> SourceStats:
        """A copy of the wrapped source's counters, sampler skips counted as dropped."""
        inner = self._source.stats
        return dataclasses.replace(
            inner, frames_dropped=inner.frames_dropped + self._sampler.skipped
        )

    def frames(self) -> Iterator[Frame]:
        """Yield the kept frames of the wrapped source."""
        inner = self._source.frames()
        if self._pushed_down:
            return inner
        return (frame for frame in inner if self._sampler.accept(frame.timestamp))

    def close(self) -> None:
        """Close the wrapped source; safe to call twice."""
        self._source.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SampledSource({self._source!r}, target_fps={self.target_fps})"
