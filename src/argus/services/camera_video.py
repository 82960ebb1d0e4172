"""Looking at a camera's video: its live frames as they change, and a probe of a stream.

``watch_frames`` polls the pipeline supervisor's cached snapshot and yields
each new JPEG at most once per interval, for live video over HTTP.
``probe_stream`` opens a stream (a camera not saved yet), reads its first
frame in a worker thread within a timeout and always closes it: it answers
with what it found, never an exception, and its error text never holds the
stream's password.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from argus.domain.cameras import Credentials, with_credentials
from argus.domain.errors import ArgusError
from argus.domain.frames import Frame
from argus.ports.pipelines import PipelineSupervisor
from argus.ports.video import JpegEncoder, ProbeOpener, VideoSource

__all__ = ["POLL_INTERVAL", "SourceCheck", "StreamProbe", "probe_stream", "watch_frames"]

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.05
"""Seconds between looks at a camera's snapshot while waiting for a new frame."""


class SourceCheck(Protocol):
    """The administrator's policy on stream targets (local media directories, networks).

    It returns what to open for ``target`` (a local path canonical, with symlinks
    resolved) or raises ``SourceError``; a refused local path gets the same
    text whether it exists or not. It may resolve host names, so it blocks.
    """

    def __call__(self, target: str, *, unresolved_ok: bool = False) -> str:
        """What to open for ``target``; ``unresolved_ok`` lets a name that does not resolve pass."""
        ...


async def watch_frames(
    pipelines: PipelineSupervisor, camera_id: str, *, interval: float
) -> AsyncGenerator[bytes, None]:
    """Yield the camera's latest JPEG each time it changes, at most once per ``interval``.

    Before the camera's first frame (or while it has none) this keeps waiting;
    it ends only when the consumer stops iterating.

    Args:
        pipelines: The supervisor whose ``snapshot`` holds the latest frame.
        camera_id: The camera.
        interval: Least seconds between two yielded frames (> 0).
    """
    loop = asyncio.get_running_loop()
    last: bytes | None = None
    due = loop.time()
    while True:
        image = pipelines.snapshot(camera_id)
        if image is not None and image is not last and image != last:
            last = image
            due = loop.time() + interval
            yield image
        await asyncio.sleep(max(POLL_INTERVAL, due - loop.time()))


@dataclass(frozen=True, slots=True)
class StreamProbe:
    """What a probe of a stream found.

    Attributes:
        ok: Whether a first frame was read.
        error: Why not, in words (no password in it); ``None`` when ``ok``.
        width: Width of the first frame in pixels.
        height: Height of the first frame in pixels.
        elapsed_s: Seconds the probe took.
        snapshot: The first frame as JPEG.
    """

    ok: bool
    error: str | None
    width: int | None
    height: int | None
    elapsed_s: float
    snapshot: bytes | None


async def probe_stream(
    open_probe: ProbeOpener,
    encode_jpeg: JpegEncoder,
    stream_url: str,
    credentials: Credentials | None,
    *,
    timeout_s: float,
    check_source: SourceCheck,
) -> StreamProbe:
    """Open ``stream_url`` with ``credentials`` put in as a pipeline would, read its first frame.

    ``check_source`` is asked first (in a worker thread: it may resolve the
    host); a target it refuses is never opened. The read runs in a worker
    thread; after ``timeout_s`` the probe gives up and closes the source,
    whose reader then stops at its own read timeout.

    Args:
        open_probe: Opens the source without retries.
        encode_jpeg: Encodes the first frame.
        stream_url: The URL or path, without a password.
        credentials: Login for the stream, if it needs one.
        timeout_s: Seconds allowed to connect and read the first frame (> 0).
        check_source: The policy on stream targets.
    """
    started = time.monotonic()
    source: VideoSource | None = None
    frame: Frame | None = None
    snapshot: bytes | None = None
    error: str | None = None
    try:
        target = await asyncio.wait_for(asyncio.to_thread(check_source, stream_url), timeout_s)
        source = open_probe(with_credentials(target, credentials), timeout_s)
        frame = await asyncio.wait_for(asyncio.to_thread(_first_frame, source), timeout_s)
        if frame is None:
            error = "the source ended before its first frame (is it a video?)"
        else:
            snapshot = await asyncio.to_thread(encode_jpeg, frame.image)
    except TimeoutError:
        error = f"no frame within {timeout_s:g} s (timed out)"
    except ArgusError as exc:
        error = str(exc) or type(exc).__name__
    except Exception as exc:  # an arbitrary URL must not become a 500; the log keeps the trace
        log.exception("probing a stream failed unexpectedly")
        error = f"unexpected error reading the stream: {type(exc).__name__}"
    finally:
        if source is not None:
            source.close()
    elapsed = round(time.monotonic() - started, 3)
    if error is not None or frame is None:
        return StreamProbe(
            False, _hide(error or "no frame", credentials), None, None, elapsed, None
        )
    return StreamProbe(True, None, frame.width, frame.height, elapsed, snapshot)


def _first_frame(source: VideoSource) -> Frame | None:
    return next(iter(source.frames()), None)


def _hide(text: str, credentials: Credentials | None) -> str:
    """``text`` with the password (as given and URL-quoted) replaced by ``***``."""
    if credentials is None or not credentials.password:
        return text
    for secret in {credentials.password, quote(credentials.password, safe="")}:
        text = text.replace(secret, "***")
    return text
