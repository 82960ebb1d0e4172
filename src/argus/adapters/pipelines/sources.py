"""Open a camera's stream as a video source for its pipeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from argus.adapters.video.factory import open_source
from argus.adapters.video.policy import LIVE_SCHEMES
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera
from argus.ports.video import VideoSource

__all__ = ["SourceOptions", "open_camera"]


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
        connect_to: For HTTP streams, maps each host connected to (redirects
            and reconnections included) to the address to use, raising for a
            host the camera network policy refuses.
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
    paced and looped as ``options`` say.

    Raises:
        ConfigError: Unsupported URL.
        SourceOpenError: A local path that does not exist.
    """
    opts = options if options is not None else SourceOptions()
    url = camera.source_url()
    scheme = urlsplit(url).scheme.lower()
    kwargs: dict[str, Any] = {"source_id": camera.id}
    if scheme in LIVE_SCHEMES:
        kwargs.update(
            open_timeout=opts.open_timeout,
            read_timeout=opts.read_timeout,
            first_frame_timeout=opts.first_frame_timeout,
            max_retries=None,
            backoff=opts.backoff,
        )
        if scheme in {"http", "https"} and opts.connect_to is not None:
            kwargs["connect_to"] = opts.connect_to
    elif not Path(url).is_dir():
        kwargs.update(realtime=opts.realtime_files, loop=opts.loop_files)
    return open_source(url, target_fps=camera.detect_fps, **kwargs)
