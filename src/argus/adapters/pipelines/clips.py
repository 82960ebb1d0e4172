"""A camera's recent frames kept in memory, and evidence clips cut from them.

``FrameRing`` keeps the last seconds of one camera's analysed frames as JPEG,
keyed by the time the frame was taken on the clock of event timestamps: the
worker dates a frame ``run start + (frame.timestamp - first frame's
timestamp)``, the formula ``Analyzer`` dates the events of that frame with, so
an event's ``timestamp`` finds its own frame in the ring.

The ring is bounded three ways so that a small box can afford one per camera:
by seconds (older frames are evicted), by a byte budget (the oldest go first)
and by rate (at most ``fps`` frames per second are kept; the others are not
even encoded). Frames wider than ``max_width`` are scaled down first.
Keeping a frame costs the worker thread about 0.4 ms at 640x272, 1.5-3 ms at
1280x720 and 3 ms for 1920x1080 scaled to 1280x720 (JPEG quality 80, measured
on the 2-core reference box); a skipped frame costs nothing. At 5 analysed
frames per second that is 1.5 % of a core or less per camera, next to 30-100
ms of inference per frame, and 20-80 KiB per kept frame.

``encode_clip`` turns buffered frames into an MP4 (H.264 when PyAV has
libx264, MPEG-4 Part 2 otherwise) whose frames keep their buffered times, and
``cut_capture`` builds the ``Capture`` of a moment from a ring.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import cv2
import numpy as np
import numpy.typing as npt

from argus.domain.errors import ConfigError, SourceError
from argus.domain.sampler import FrameSampler
from argus.ports.pipelines import Capture

__all__ = ["FrameRing", "RingFrame", "check_window", "cut_capture", "encode_clip"]

_Codec = Literal["libx264", "mpeg4"]
_CODECS: tuple[_Codec, ...] = ("libx264", "mpeg4")
_TIME_BASE = Fraction(1, 1000)
"""Clip timestamps are in milliseconds, so uneven frame times survive encoding."""


@dataclass(frozen=True, slots=True, eq=False)
class RingFrame:
    """One buffered frame.

    Attributes:
        at: When it was taken, on the clock of event timestamps (UTC).
        jpeg: The frame as JPEG.
        width: Width of the JPEG in pixels.
        height: Height of the JPEG in pixels.
    """

    at: datetime
    jpeg: bytes
    width: int
    height: int


class FrameRing:
    """The recent frames of one camera as JPEG, safe to use from any thread.

    One thread pushes (the camera's worker); any thread reads windows.

    Args:
        seconds: Frames older than this many seconds before the newest
            pushed frame are evicted.
        fps: Frames kept per second at most (chosen by a ``FrameSampler``
            on the frames' times); the others are skipped before encoding.
        max_bytes: JPEG bytes kept at most; the oldest frames go first (the
            newest frame is always kept).
        max_width: Frames wider than this are scaled down to it first.
        quality: JPEG quality, 1-100.

    Raises:
        ConfigError: A bound that is not positive, or a quality out of range.
    """

    def __init__(
        self,
        *,
        seconds: float = 30.0,
        fps: float = 10.0,
        max_bytes: int = 32 * 1024 * 1024,
        max_width: int = 1280,
        quality: int = 80,
    ) -> None:
        if not (math.isfinite(seconds) and seconds > 0):
            raise ConfigError(f"ring seconds must be a finite number > 0, got {seconds}")
        if not (math.isfinite(fps) and fps > 0):
            raise ConfigError(f"ring fps must be a finite number > 0, got {fps}")
        if max_bytes < 1 or max_width < 2:
            raise ConfigError(
                f"ring bounds too small: max_bytes={max_bytes}, max_width={max_width}"
            )
        if not 1 <= quality <= 100:
            raise ConfigError(f"JPEG quality must be 1-100, got {quality}")
        self.seconds = float(seconds)
        self.fps = float(fps)
        self.max_bytes = max_bytes
        self.max_width = max_width
        self.quality = quality
        self._lock = threading.Lock()
        self._frames: deque[RingFrame] = deque()
        self._bytes = 0
        self._latest: datetime | None = None
        self._sampler = FrameSampler(self.fps)

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)

    @property
    def nbytes(self) -> int:
        """JPEG bytes held."""
        with self._lock:
            return self._bytes

    @property
    def latest(self) -> datetime | None:
        """Time of the newest pushed frame, kept or skipped; ``None`` before the first."""
        with self._lock:
            return self._latest

    def reached(self, at: datetime) -> bool:
        """Whether a frame taken at ``at`` or later has been pushed."""
        latest = self.latest
        return latest is not None and latest >= at

    def push(self, at: datetime, image: npt.NDArray[np.uint8]) -> bool:
        """Offer a frame taken at ``at``; return whether it was kept.

        A frame older than the newest one pushed means the clock started over
        (a restarted pipeline dates its frames from its own start): the frames
        at or after ``at`` are dropped, so the ring stays in time order.

        Args:
            at: When the frame was taken (timezone-aware).
            image: BGR pixels, shape ``(H, W, 3)``, dtype uint8; not kept.

        Raises:
            ConfigError: ``at`` is naive.
            SourceError: OpenCV could not encode the frame.
        """
        if at.tzinfo is None:
            raise ConfigError("frame times must be timezone-aware")
        with self._lock:
            if self._latest is not None and at < self._latest:
                self._drop_from(at)
            self._latest = at
            if not self._sampler.accept(at.timestamp()):
                return False
        frame = self._encode(at, image)
        with self._lock:
            if self._frames and self._frames[-1].at >= at:
                return False  # overtaken by a concurrent push; keep time order
            self._frames.append(frame)
            self._bytes += len(frame.jpeg)
            self._evict()
        return True

    def window(self, start: datetime, end: datetime) -> list[RingFrame]:
        """The kept frames taken from ``start`` to ``end`` (both included), oldest first."""
        with self._lock:
            return [f for f in self._frames if start <= f.at <= end]

    def clear(self) -> None:
        """Forget every frame."""
        with self._lock:
            self._frames.clear()
            self._bytes = 0
            self._latest = None
            self._sampler.reset()

    def _drop_from(self, at: datetime) -> None:
        while self._frames and self._frames[-1].at >= at:
            self._bytes -= len(self._frames.pop().jpeg)

    def _evict(self) -> None:
        assert self._latest is not None
        oldest = self._latest - timedelta(seconds=self.seconds)
        frames = self._frames
        while frames and (
            frames[0].at < oldest or (self._bytes > self.max_bytes and len(frames) > 1)
        ):
            self._bytes -= len(frames.popleft().jpeg)

    def _encode(self, at: datetime, image: npt.NDArray[np.uint8]) -> RingFrame:
        height, width = image.shape[:2]
        if width > self.max_width:
            scale = self.max_width / width
            size = (self.max_width, max(1, round(height * scale)))
            # Linear is a third of the cost of area averaging and looks the same
            # down to half size; below that it aliases, so average areas there.
            interpolation = cv2.INTER_LINEAR if scale >= 0.5 else cv2.INTER_AREA
            image = np.asarray(cv2.resize(image, size, interpolation=interpolation))
            height, width = image.shape[:2]
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise SourceError(f"could not encode a {width}x{height} frame as JPEG")
        return RingFrame(at=at, jpeg=bytes(data.tobytes()), width=int(width), height=int(height))


def check_window(at: datetime, pre_s: float, post_s: float) -> None:
    """Refuse a capture window the ports cannot serve.

    Raises:
        ConfigError: ``at`` is naive, or ``pre_s`` / ``post_s`` is negative or not finite.
    """
    if at.tzinfo is None:
        raise ConfigError("the capture time must be timezone-aware")
    for name, value in (("pre_s", pre_s), ("post_s", post_s)):
        if not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"{name} must be a finite number >= 0, got {value}")


def _pick_codec() -> _Codec:
    for name in _CODECS:
        with contextlib.suppress(ValueError):  # UnknownCodecError: this build lacks it
            av.codec.Codec(name, "w")
            return name
    raise SourceError(f"no video encoder available among {', '.join(_CODECS)}")


def _decode(frame: RingFrame, size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """A buffered frame as BGR pixels of ``size`` (width, height), even-sized for YUV 4:2:0."""
    image = cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError(f"a buffered frame of {frame.at.isoformat()} is not a readable JPEG")
    width, height = size
    if (image.shape[1], image.shape[0]) != size:
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    if width % 2 or height % 2:
        image = np.pad(image, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    return np.ascontiguousarray(image, dtype=np.uint8)


def encode_clip(frames: Sequence[RingFrame], fps: float, *, crf: int = 26) -> bytes:
    """Encode buffered frames as an MP4 (moov atom first, for playback while downloading).

    Every frame is shown at its buffered time relative to the first one
    (millisecond timestamps), so gaps and uneven rates play back as they
    happened; the last frame lasts ``1 / fps``. All frames take the first
    frame's size; odd sizes are padded by one pixel because YUV 4:2:0 needs
    even ones.

    Args:
        frames: The frames, oldest first.
        fps: The nominal frame rate (the ring's).
        crf: H.264 constant rate factor (higher is smaller and worse).

    Returns:
        The MP4 file's bytes.

    Raises:
        ConfigError: No frames, or a non-positive ``fps``.
        SourceError: Decoding a frame or encoding the clip failed.
    """
    if not frames:
        raise ConfigError("a clip needs at least one frame")
    if not (math.isfinite(fps) and fps > 0):
        raise ConfigError(f"fps must be a finite number > 0, got {fps}")
    size = (frames[0].width, frames[0].height)
    codec = _pick_codec()
    first = frames[0].at
    # The MP4 muxer moves the index to the front (faststart) by re-reading its
    # output, which it can only do with a real file.
    with tempfile.TemporaryDirectory(prefix="argus-clip-") as tmp:
        path = Path(tmp) / "clip.mp4"
        try:
            with av.open(
                str(path), mode="w", format="mp4", options={"movflags": "+faststart"}
            ) as out:
                stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
                stream.width = size[0] + size[0] % 2
                stream.height = size[1] + size[1] % 2
                stream.pix_fmt = "yuv420p"
                stream.codec_context.time_base = _TIME_BASE
                if codec == "libx264":
                    # No B-frames: with them the muxer misjudges the duration of
                    # variable-rate clips; evidence clips are short anyway.
                    stream.options = {"crf": str(crf), "preset": "veryfast", "bf": "0"}
                else:
                    stream.bit_rate = 2_000_000
                pts = -1
                for frame in frames:
                    image = _decode(frame, size)
                    video = av.VideoFrame.from_ndarray(image, format="bgr24")
                    pts = max(pts + 1, round((frame.at - first).total_seconds() * 1000))
                    video.pts = pts
                    video.time_base = _TIME_BASE
                    out.mux(stream.encode(video))
                out.mux(stream.encode(None))
        except av.error.FFmpegError as exc:
            raise SourceError(f"encoding a clip of {len(frames)} frames failed: {exc}") from exc
        return path.read_bytes()


def cut_capture(ring: FrameRing, at: datetime, pre_s: float, post_s: float) -> Capture | None:
    """The capture of ``at`` from the frames ``ring`` holds now (blocking: encodes a clip).

    Returns:
        A snapshot of the kept frame nearest ``at`` and a clip of the kept
        frames from ``at - pre_s`` to ``at + post_s``, or ``None`` when none
        falls in that window.

    Raises:
        ConfigError: A window ``check_window`` refuses.
        SourceError: Encoding the clip failed.
    """
    check_window(at, pre_s, post_s)
    frames = ring.window(at - timedelta(seconds=pre_s), at + timedelta(seconds=post_s))
    if not frames:
        return None
    nearest = min(frames, key=lambda f: abs(f.at - at))
    span = (frames[-1].at - frames[0].at).total_seconds()
    fps = (len(frames) - 1) / span if len(frames) > 1 and span > 0 else ring.fps
    return Capture(
        snapshot=nearest.jpeg,
        snapshot_at=nearest.at,
        clip=encode_clip(frames, ring.fps),
        start=frames[0].at,
        end=frames[-1].at,
        frames=len(frames),
        fps=round(fps, 3),
        width=frames[0].width,
        height=frames[0].height,
    )
