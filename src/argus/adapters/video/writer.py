"""Encode BGR frames to a video file with PyAV (H.264 when available)."""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from argus.domain.errors import ConfigError, SourceError

__all__ = ["VideoFileWriter"]

_CODECS = ("libx264", "mpeg4")


def _pick_codec() -> str:
    for name in _CODECS:
        with contextlib.suppress(ValueError):  # UnknownCodecError: this build lacks it
            av.codec.Codec(name, "w")
            return name
    raise SourceError(f"no video encoder available among {', '.join(_CODECS)}")


class VideoFileWriter:
    """Writes frames of one fixed size to ``path`` at ``fps``.

    The size is taken from the first frame; later frames of another size are
    refused. Odd sizes are padded by one pixel because YUV 4:2:0 needs even ones.
    """

    def __init__(self, path: Path, fps: float, *, crf: int = 23) -> None:
        if fps <= 0:
            raise ConfigError(f"fps must be positive, got {fps}")
        if path.suffix.lower() not in {".mp4", ".mkv", ".mov", ".avi"}:
            raise ConfigError(f"{path}: write .mp4, .mkv, .mov or .avi")
        self._path = path
        self._rate = Fraction(fps).limit_denominator(1001)
        self._crf = crf
        self._container: Any = None
        self._stream: Any = None
        self._size: tuple[int, int] | None = None
        self.frames = 0

    def _open(self, width: int, height: int) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        codec = _pick_codec()
        try:
            self._container = av.open(str(self._path), mode="w")
        except (OSError, av.error.FFmpegError) as exc:
            raise SourceError(f"cannot write {self._path}: {exc}") from exc
        stream = self._container.add_stream(codec, rate=self._rate)
        stream.width = width + width % 2
        stream.height = height + height % 2
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": str(self._crf), "preset": "veryfast"}
        self._stream = stream
        self._size = (width, height)

    def write(self, image: npt.NDArray[np.uint8]) -> None:
        """Append one BGR frame.

        Raises:
            ConfigError: The frame's size differs from the first frame's.
            SourceError: Encoding or writing failed.
        """
        height, width = image.shape[:2]
        if self._size is None:
            self._open(width, height)
        elif self._size != (width, height):
            raise ConfigError(f"frame size {width}x{height} differs from {self._size}")
        if width % 2 or height % 2:
            image = np.pad(image, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except av.error.FFmpegError as exc:
            raise SourceError(f"encoding {self._path} failed: {exc}") from exc
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and close the file; safe to call twice."""
        if self._container is None:
            return
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None
