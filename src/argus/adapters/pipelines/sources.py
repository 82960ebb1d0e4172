"""Open a camera's stream as a video source for its pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from argus.adapters.video.factory import open_source
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
        open_timeout: Seconds to connect to a live stream.
        read_timeout: Seconds without data before a live stream counts as broken.
        backoff: Delays between reconnection attempts of live streams
            (the adapters' default when ``None``).
    """

    realtime_files: bool = True
    loop_files: bool = True
    open_timeout: float = 10.0
    read_timeout: float = 10.0
    backoff: BackoffPolicy | None = None


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
    if scheme in {"rtsp", "rtsps", "http", "https"}:
        kwargs.update(
            open_timeout=opts.open_timeout,
            read_timeout=opts.read_timeout,
            max_retries=None,
            backoff=opts.backoff,
        )
    elif not Path(url).is_dir():
        kwargs.update(realtime=opts.realtime_files, loop=opts.loop_files)
    return open_source(url, target_fps=camera.detect_fps, **kwargs)
