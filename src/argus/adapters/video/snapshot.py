"""A camera polled for still images over HTTP (``GET /snapshot`` at an interval)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator, Mapping
from urllib.parse import urlsplit

import httpx

from argus.adapters.video._base import Clock, Image, LiveSource, check_timeout, redact_url
from argus.adapters.video._http import (
    HttpOptions,
    SocketWatch,
    check_status,
    make_client,
    seconds,
    translate_http,
)
from argus.adapters.video._imaging import decode_image
from argus.domain.backoff import BackoffPolicy, RandomSource
from argus.domain.errors import ConfigError

__all__ = ["SnapshotSource"]


class SnapshotSource(LiveSource):
    """Frames fetched one request at a time from a JPEG (or PNG) snapshot URL.

    Polls every ``interval`` seconds (measured from the start of one request to
    the next; a slow answer is followed at once by the next request, never by
    a burst). A response that is not an image is counted as dropped. A network
    error or an HTTP error status leads to ``RECONNECTING`` and backoff; after
    ``max_retries`` failures in a row the source raises ``SourceOpenError``
    (state ``FAILED``). Frames carry the arrival time (seconds since the first frame).

    Each request has two deadlines, so a camera that answers a byte at a time
    fails like one that does not answer: the response headers must arrive
    within ``open_timeout`` of the request, and the whole image within
    ``first_frame_timeout`` (first request of a connection) or
    ``read_timeout`` (later ones) of the headers. ``close()`` from another thread shuts
    the connection down, which ends a blocked read at once.

    Args:
        url: The ``http://`` or ``https://`` snapshot URL.
        interval: Seconds between two requests (> 0).
        source_id: Name in logs and frames; the redacted URL when ``None``.
        open_timeout: Seconds allowed to connect and to receive the response headers.
        read_timeout: Seconds allowed for the image after the headers.
        first_frame_timeout: Seconds allowed for the first image of a
            connection after the headers.
        max_retries: Failures in a row tolerated; ``None`` retries forever.
        backoff: Delays between attempts.
        rng: Random source of the backoff jitter.
        headers: Extra request headers.
        auth: ``(user, password)`` for HTTP basic authentication.
        verify: Verify TLS certificates.
        connect_to: Maps each host connected to (redirects included) to the
            address to use, raising ``SourceOpenError`` for a refused one.
        clock: Monotonic clock for the poll schedule and timestamps.
    """

    def __init__(
        self,
        url: str,
        *,
        interval: float = 1.0,
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
        clock: Clock = time.monotonic,
    ) -> None:
        if urlsplit(url).scheme.lower() not in {"http", "https"}:
            raise ConfigError(f"not an HTTP URL: {redact_url(url)}")
        if not (math.isfinite(interval) and interval > 0):
            raise ConfigError(f"interval must be a finite number of seconds > 0, got {interval}")
        self._safe_url = redact_url(url)
        super().__init__(
            source_id or self._safe_url,
            max_retries=max_retries,
            backoff=backoff,
            rng=rng,
            clock=clock,
        )
        self._url = url
        self._interval = float(interval)
        self._http = HttpOptions(
            open_timeout=check_timeout("open_timeout", open_timeout),
            read_timeout=check_timeout("read_timeout", read_timeout),
            headers=dict(headers or {}),
            auth=auth,
            verify=verify,
            connect_to=connect_to,
        )
        self._first_frame_timeout = check_timeout("first_frame_timeout", first_frame_timeout)
        self._watch = SocketWatch()
        self._client: httpx.Client | None = None

    @property
    def interval(self) -> float:
        """Seconds between two requests."""
        return self._interval

    def _session(self) -> Generator[tuple[Image, float | None], None, None]:
        what = self._safe_url
        self._client = client = make_client(self._http, self._watch)
        due = self._clock()
        body_timeout = self._first_frame_timeout
        while not self._stopped():
            body, content_type = self._fetch(client, body_timeout)
            body_timeout = self._http.read_timeout
            self._stats.frames_in += 1
            image = decode_image(body)
            if image is None:
                self._drop(f"{what}: the response ({content_type}) is not an image")
            else:
                self._stats.frames_decoded += 1
                yield image, None
            due += self._interval
            now = self._clock()
            if due < now:
                due = now
            elif self._wait(due - now):
                return

    def _fetch(self, client: httpx.Client, body_timeout: float) -> tuple[bytes, str]:
        """One request: the body and its content type, each within its deadline."""
        what, watch, http = self._safe_url, self._watch, self._http
        try:
            watch.arm(http.open_timeout, f"no response headers within {seconds(http.open_timeout)}")
            with client.stream("GET", self._url) as response:
                check_status(response, what)
                watch.arm(body_timeout, f"no complete image within {seconds(body_timeout)}")
                return response.read(), response.headers.get("content-type", "?")
        except httpx.HTTPError as exc:
            raise translate_http(exc, what, watch) from exc
        finally:
            watch.disarm()

    def _interrupt(self) -> None:
        self._watch.interrupt()

    def _release(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
