"""``BaseSource`` converts only the pictures its sampler keeps, numbering every frame."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np

from argus.adapters.video._base import BaseSource, Image, Picture
from argus.domain.sampler import FrameSampler


class _Pictures(BaseSource):
    """Yields ``count`` deferred pictures at ``fps``; records which were converted."""

    def __init__(self, count: int, fps: float, unconvertible: frozenset[int] = frozenset()) -> None:
        super().__init__("pictures")
        self.count = count
        self.fps = fps
        self.unconvertible = unconvertible
        self.converted: list[int] = []

    def _convert(self, position: int) -> Image | None:
        self.converted.append(position)
        if position in self.unconvertible:
            self._drop(f"frame {position}: unconvertible")
            return None
        return np.full((2, 2, 3), position, dtype=np.uint8)

    def _produce(self) -> Iterator[tuple[Picture, float]]:
        for position in range(self.count):
            yield partial(self._convert, position), position / self.fps


def test_without_a_sampler_every_picture_is_converted() -> None:
    source = _Pictures(6, 25.0)
    frames = list(source.frames())
    assert [f.index for f in frames] == list(range(6))
    assert source.converted == list(range(6))
    assert [int(f.image[0, 0, 0]) for f in frames] == list(range(6))


def test_pictures_the_sampler_skips_are_never_converted() -> None:
    source = _Pictures(50, 25.0)
    assert source.sample_with(FrameSampler(5.0))
    frames = list(source.frames())
    assert [f.index for f in frames] == list(range(0, 50, 5))
    assert source.converted == list(range(0, 50, 5))
    assert [f.timestamp for f in frames] == [i / 25.0 for i in range(0, 50, 5)]


def test_a_kept_picture_that_cannot_be_converted_is_dropped_and_keeps_the_numbering() -> None:
    source = _Pictures(20, 25.0, unconvertible=frozenset({5}))
    assert source.sample_with(FrameSampler(5.0))
    frames = list(source.frames())
    assert [f.index for f in frames] == [0, 10, 15]
    assert source.stats.frames_dropped == 1
    assert source.stats.last_error == "frame 5: unconvertible"


def test_ready_images_pass_through_unchanged() -> None:
    class _Ready(BaseSource):
        def _produce(self) -> Iterator[tuple[Picture, float]]:
            for position in range(10):
                yield np.full((2, 2, 3), position, dtype=np.uint8), position / 10.0

    source = _Ready("ready")
    assert source.sample_with(FrameSampler(5.0))
    assert [int(f.image[0, 0, 0]) for f in source.frames()] == [0, 2, 4, 6, 8]
