"""A camera polled for still images over HTTP (``GET /snapshot`` at an interval)."""

from __future__ import annotations

import math
import time
from collections.abc import Generator, Mapping
from urllib.parse import urlsplit

import httpx

from argus.adapters.video._base import Clock, Image, LiveSource, check_timeout, redact_url
from argus.adapters.video._http import HttpOptions, check_status, make_client, translate_http
from argus.adapters.video._imaging import decode_image
from argus.domain.backoff import BackoffPolicy, RandomSource
from argus.errors import ConfigError

__all__ = ["SnapshotSource"]


class SnapshotSource(LiveSource):
    """Frames fetched one request at a time from a JPEG (or PNG) snapshot URL.

    Polls every ``interval`` seconds (measured from the start of one request to
    the next; a slow answer is followed at once by the next request, never by
    a burst). A response that is not an image is counted as dropped. A network
    error or an HTTP error status leads to ``RECONNECTING`` and backoff; after
    ``max_retries`` failures in a row the source raises ``SourceOpenError``
    (state ``FAILED``). Frames carry the arrival time (seconds since the first frame).

    Args:
        url: The ``http://`` or ``https://`` snapshot URL.
        interval: Seconds between two requests (> 0).
        source_id: Name in logs and frames; the redacted URL when ``None``.
        open_timeout: Seconds allowed to connect.
        read_timeout: Seconds allowed for the response.
        max_retries: Failures in a row tolerated; ``None`` retries forever.
        backoff: Delays between attempts.
        rng: Random source of the backoff jitter.
        headers: Extra request headers.
        auth: ``(user, password)`` for HTTP basic authentication.
        verify: Verify TLS certificates.
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
        max_retries: int | None = None,
        backoff: BackoffPolicy | None = None,
        rng: RandomSource | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        verify: bool = True,
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
        )
        self._client: httpx.Client | None = None

    @property
    def interval(self) -> float:
        """Seconds between two requests."""
        return self._interval

    def _session(self) -> Generator[tuple[Image, float | None], None, None]:
        what = self._safe_url
        self._client = client = make_client(self._http)
        due = self._clock()
        while not self._stopped():
            try:
                response = client.get(self._url)
            except httpx.HTTPError as exc:
                raise translate_http(exc, what) from exc
            check_status(response, what)
            self._stats.frames_in += 1
            image = decode_image(response.content)
            if image is None:
                content_type = response.headers.get("content-type", "?")
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

    def _release(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
