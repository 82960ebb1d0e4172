"""Open a camera's stream as a video source for its pipeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from argus.adapters.pipelines.substream import DualStreamSource
from argus.adapters.video.factory import open_source
from argus.adapters.video.policy import LIVE_SCHEMES
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera
from argus.ports.video import VideoSource

__all__ = ["MAIN_TAP_RATIO", "SourceOptions", "open_camera"]

MAIN_TAP_RATIO = 2.0
"""With a sub-stream, main-stream frames kept per detect frame: the main picture
paired with a detect frame is then at most half a detect interval older than it,
and the other main frames are decoded but never converted to BGR (where the
video adapters sample before converting)."""


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """How camera streams are opened.

    Attributes:
        realtime_files: Play local files at their frame rate, like a camera.
        loop_files: Start local files again at their end.
        open_timeout: Seconds to connect to a live stream and receive its
            response or stream headers.
        read_timeout: Seconds without a frame (or data) before a live stream
            counts as broken.
        first_frame_timeout: Seconds from the headers to the first frame.
        backoff: Delays between reconnection attempts of live streams
            (the adapters' default when ``None``).
        connect_to: For RTSP and HTTP streams, maps each host connected to
            (redirects and reconnections included) to the address to use,
            raising for a host the camera network policy refuses.
    """

    realtime_files: bool = True
    loop_files: bool = True
    open_timeout: float = 10.0
    read_timeout: float = 10.0
    first_frame_timeout: float = 10.0
    backoff: BackoffPolicy | None = None
    connect_to: Callable[[str], str] | None = None


def open_camera(camera: Camera, options: SourceOptions | None = None) -> VideoSource:
    """Return the source of ``camera``'s stream, thinned to its detect fps.

    Live streams (RTSP, HTTP) reconnect forever with backoff; local files are
    paced and looped as ``options`` say. A camera with a ``detect_stream_url``
    gets a ``DualStreamSource``: detection on that stream, frames (and
    evidence) from ``stream_url``; both streams open with the same options.

    Raises:
        ConfigError: Unsupported URL.
        SourceOpenError: A local path that does not exist.
    """
    opts = options if options is not None else SourceOptions()
    detect_url = camera.detect_source_url()
    if detect_url is None:
        return _open(camera.source_url(), camera.id, camera.detect_fps, opts)
    detect = _open(detect_url, f"{camera.id}/detect", camera.detect_fps, opts)
    try:
        main = _open(
            camera.source_url(), f"{camera.id}/main", camera.detect_fps * MAIN_TAP_RATIO, opts
        )
    except Exception:
        detect.close()
        raise
    return DualStreamSource(
        detect,
        main,
        source_id=camera.id,
        first_main_timeout=opts.open_timeout + opts.first_frame_timeout,
    )


def _open(url: str, source_id: str, fps: float, opts: SourceOptions) -> VideoSource:
    scheme = urlsplit(url).scheme.lower()
    kwargs: dict[str, Any] = {"source_id": source_id}
    if scheme in LIVE_SCHEMES:
        kwargs.update(
            open_timeout=opts.open_timeout,
            read_timeout=opts.read_timeout,
            first_frame_timeout=opts.first_frame_timeout,
            max_retries=None,
            backoff=opts.backoff,
        )
        if opts.connect_to is not None:
            kwargs["connect_to"] = opts.connect_to
    elif not Path(url).is_dir():
        kwargs.update(realtime=opts.realtime_files, loop=opts.loop_files)
    return open_source(url, target_fps=fps, **kwargs)
