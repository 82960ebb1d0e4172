"""An HTTP MJPEG stream (``multipart/x-mixed-replace``) read with httpx."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping
from functools import partial
from urllib.parse import urlsplit

import httpx

from argus.adapters.video._base import (
    Clock,
    Image,
    LiveSource,
    Picture,
    check_timeout,
    redact_url,
)
from argus.adapters.video._http import (
    HttpOptions,
    SocketWatch,
    check_status,
    make_client,
    seconds,
    translate_http,
)
from argus.adapters.video._imaging import decode_image
from argus.adapters.video._multipart import (
    MultipartError,
    MultipartReader,
    boundary_from_content_type,
)
from argus.domain.backoff import BackoffPolicy, RandomSource
from argus.domain.errors import ConfigError, SourceDecodeError, SourceOpenError

__all__ = ["MjpegSource"]

_JPEG_START = b"\xff\xd8"
"""Every JPEG starts with this marker (SOI); parts without it are not decoded at all."""


class MjpegSource(LiveSource):
    """Frames of an MJPEG-over-HTTP stream, as served by most IP cameras.

    Each part of the multipart body is one JPEG. A part that does not decode
    is counted as dropped. A part is decoded only when it is passed on: the
    parts a sampler skips cost no JPEG decoding (a part that does not even
    start like a JPEG is dropped at once). A broken connection, an HTTP error
    status or a body that is not multipart leads to ``RECONNECTING`` and a new
    request after a backoff delay. After ``max_retries`` failures in a row the
    source raises ``SourceOpenError`` (state ``FAILED``). Frames carry the
    arrival time (seconds since the first frame), as MJPEG has no presentation
    times.

    Each phase has a deadline, so a camera that answers a byte at a time
    fails like one that does not answer: the response headers must arrive
    within ``open_timeout`` of the request, the first frame within
    ``first_frame_timeout`` of the headers, and each later frame within
    ``read_timeout`` of the one before. ``close()`` from another thread
    shuts the connection down, which ends a blocked read at once.

    Args:
        url: The ``http://`` or ``https://`` URL of the stream.
        source_id: Name in logs and frames; the redacted URL when ``None``.
        open_timeout: Seconds allowed to connect and to receive the response headers.
        read_timeout: Seconds allowed for each frame after the first.
        first_frame_timeout: Seconds allowed for the first frame after the headers.
        max_retries: Failures in a row tolerated; ``None`` retries forever.
        backoff: Delays between attempts.
        rng: Random source of the backoff jitter.
        headers: Extra request headers.
        auth: ``(user, password)`` for HTTP basic authentication.
        verify: Verify TLS certificates.
        connect_to: Maps each host connected to (redirects included) to the
            address to use, raising ``SourceOpenError`` for a refused one.
        max_part_bytes: Largest JPEG accepted.
        clock: Monotonic clock used for timestamps; tests inject a fake one.
    """

    def __init__(
        self,
        url: str,
        *,
        source_id: str | None = None,
        open_timeout: float = 10.0,
        read_timeout: float = 10.0,
        first_frame_timeout: float = 10.0,
        max_retries: int | None = None,
        backoff: BackoffPolicy | None = None,
        rng: RandomSource | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        verify: bool = True,
        connect_to: Callable[[str], str] | None = None,
        max_part_bytes: int = 16 * 1024 * 1024,
        clock: Clock = time.monotonic,
    ) -> None:
        if urlsplit(url).scheme.lower() not in {"http", "https"}:
            raise ConfigError(f"not an HTTP URL: {redact_url(url)}")
        if max_part_bytes <= 0:
            raise ConfigError(f"max_part_bytes must be > 0, got {max_part_bytes}")
        self._safe_url = redact_url(url)
        super().__init__(
            source_id or self._safe_url,
            max_retries=max_retries,
            backoff=backoff,
            rng=rng,
            clock=clock,
        )
        self._url = url
        self._http = HttpOptions(
            open_timeout=check_timeout("open_timeout", open_timeout),
            read_timeout=check_timeout("read_timeout", read_timeout),
            headers=dict(headers or {}),
            auth=auth,
            verify=verify,
            connect_to=connect_to,
        )
        self._first_frame_timeout = check_timeout("first_frame_timeout", first_frame_timeout)
        self._max_part_bytes = max_part_bytes
        self._watch = SocketWatch()
        self._client: httpx.Client | None = None
        self._response: httpx.Response | None = None

    def _session(self) -> Generator[tuple[Picture, float | None], None, None]:
        what = self._safe_url
        watch = self._watch
        self._client = make_client(self._http, watch)
        try:
            watch.arm(
                self._http.open_timeout,
                f"no response headers within {seconds(self._http.open_timeout)}",
            )
            self._response = self._client.send(
                self._client.build_request("GET", self._url), stream=True
            )
            check_status(self._response, what)
            content_type = self._response.headers.get("content-type", "")
            boundary = boundary_from_content_type(content_type)
            if boundary is None:
                raise SourceDecodeError(
                    f"{what}: not a multipart MJPEG stream (content-type {content_type!r})"
                )
            reader = MultipartReader(boundary, max_part_bytes=self._max_part_bytes)
            watch.arm(
                self._first_frame_timeout,
                f"no frame within {seconds(self._first_frame_timeout)}",
            )
            for chunk in self._response.iter_bytes():
                if self._stopped():
                    return
                for part in reader.feed(chunk):
                    self._stats.frames_in += 1
                    if not part.startswith(_JPEG_START):
                        self._drop(f"{what}: a part of {len(part)} bytes is not a JPEG image")
                        continue
                    self._stats.frames_decoded += 1
                    yield partial(self._decode, part), None
                    # Armed once the consumer is done: its time is not the camera's.
                    watch.arm(
                        self._http.read_timeout,
                        f"no frame for {seconds(self._http.read_timeout)}",
                    )
                if reader.done:
                    return
        except httpx.HTTPError as exc:
            raise translate_http(exc, what, watch) from exc
        except MultipartError as exc:
            raise SourceDecodeError(f"{what}: {exc}") from exc
        except httpx.StreamError as exc:
            raise SourceOpenError(f"{what}: {type(exc).__name__} ({exc})") from exc
        finally:
            watch.disarm()

    def _decode(self, part: bytes) -> Image | None:
        """Decode a part passed on; one that does not decode is counted as dropped."""
        image = decode_image(part)
        if image is None:
            self._stats.frames_decoded -= 1
            self._drop(f"{self._safe_url}: a part of {len(part)} bytes is not a JPEG image")
        return image

    def _interrupt(self) -> None:
        self._watch.interrupt()

    def _release(self) -> None:
        response, self._response = self._response, None
        client, self._client = self._client, None
        if response is not None:
            response.close()
        if client is not None:
            client.close()
