"""An RTSP camera read with PyAV, reconnecting with backoff."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping
from typing import Literal
from urllib.parse import urlsplit

from av.container import InputContainer

from argus.adapters.video._av import decode_frames, open_input
from argus.adapters.video._base import (
    Clock,
    LiveSource,
    Picture,
    check_timeout,
    pin_url,
    redact_url,
)
from argus.domain.backoff import BackoffPolicy, RandomSource
from argus.domain.errors import ConfigError, SourceOpenError

__all__ = ["RtspSource", "Transport"]

Transport = Literal["tcp", "udp"]


class RtspSource(LiveSource):
    """An RTSP stream (``rtsp://`` or ``rtsps://``), H.264/H.265/MJPEG as FFmpeg decodes.

    When the connection fails or drops, the source goes to ``RECONNECTING``,
    waits with exponential backoff and connects again; ``stats.reconnects``
    counts the sessions that delivered frames again. After ``max_retries``
    failures in a row it raises ``SourceOpenError`` (state ``FAILED``).

    Each phase has a deadline, enforced by FFmpeg's interrupt callback (so a
    peer that accepts and never answers, or answers a byte at a time, fails
    like one that refuses): opening the stream and reading its headers get
    ``open_timeout``, each read ``read_timeout``; the first frame must be
    decoded within ``first_frame_timeout`` of the open and each later one
    within ``read_timeout`` of the one before. FFmpeg's reads cannot be
    broken from another thread: ``close()`` takes effect at the next packet,
    at the latest when the read in progress times out.

    Args:
        url: The stream URL; credentials in it never reach logs or errors.
        source_id: Name in logs and frames; the redacted URL when ``None``.
        transport: ``"tcp"`` (RTP interleaved in the RTSP connection, robust
            through NAT and firewalls) or ``"udp"`` (lower latency, may lose packets).
        open_timeout: Seconds allowed to connect and read the stream headers.
        read_timeout: Seconds without data after which the link counts as lost.
        first_frame_timeout: Seconds allowed for the first frame after the open.
        max_retries: Failures in a row tolerated; ``None`` retries forever.
        backoff: Delays between attempts.
        rng: Random source of the backoff jitter.
        options: Extra FFmpeg options (they override the ones set here).
        clock: Monotonic clock used for timestamps; tests inject a fake one.
        connect_to: Maps the URL's host to the address to connect to, at every
            connection (reconnections included), raising ``SourceOpenError``
            for a host the camera network policy refuses; FFmpeg then gets an
            address literal and never resolves the name itself (no DNS
            rebinding between the policy's check and the connection).
    """

    def __init__(
        self,
        url: str,
        *,
        source_id: str | None = None,
        transport: Transport = "tcp",
        open_timeout: float = 10.0,
        read_timeout: float = 10.0,
        first_frame_timeout: float = 10.0,
        max_retries: int | None = None,
        backoff: BackoffPolicy | None = None,
        rng: RandomSource | None = None,
        options: Mapping[str, str] | None = None,
        clock: Clock = time.monotonic,
        connect_to: Callable[[str], str] | None = None,
    ) -> None:
        if urlsplit(url).scheme.lower() not in {"rtsp", "rtsps"}:
            raise ConfigError(f"not an RTSP URL: {redact_url(url)}")
        if transport not in ("tcp", "udp"):
            raise ConfigError(f"rtsp_transport must be 'tcp' or 'udp', got {transport!r}")
        self._safe_url = redact_url(url)
        super().__init__(
            source_id or self._safe_url,
            max_retries=max_retries,
            backoff=backoff,
            rng=rng,
            clock=clock,
        )
        self._url = url
        self._connect_to = connect_to
        self._transport: Transport = transport
        self._open_timeout = check_timeout("open_timeout", open_timeout)
        self._read_timeout = check_timeout("read_timeout", read_timeout)
        self._first_frame_timeout = check_timeout("first_frame_timeout", first_frame_timeout)
        self._options = {
            "rtsp_transport": transport,
            # FFmpeg's own socket timeout, in microseconds; PyAV's timeout below
            # also interrupts a read that blocks inside the demuxer.
            "timeout": str(int(self._read_timeout * 1_000_000)),
            "allowed_media_types": "video",
            **dict(options or {}),
        }
        self._container: InputContainer | None = None

    @property
    def transport(self) -> Transport:
        """The RTP transport in use."""
        return self._transport

    def _session(self) -> Generator[tuple[Picture, float | None], None, None]:
        self._container = open_input(
            pin_url(self._url, self._connect_to),
            what=self._safe_url,
            options=self._options,
            timeout=(self._open_timeout, self._read_timeout),
        )
        # A stream that sends packets but no decodable frame never trips FFmpeg's
        # per-read timeout; a deadline per frame, checked between packets, does.
        reason = f"no frame within {self._first_frame_timeout:g} s"
        due = time.monotonic() + self._first_frame_timeout
        late = False

        def stop_or_late() -> bool:
            nonlocal late
            late = time.monotonic() > due
            return late or self._stopped()

        # Decoded frames go out unconverted: the ones the sampler skips never become BGR.
        for decoded in decode_frames(
            self._container,
            self._stats,
            max_demux_errors=0,
            what=self._safe_url,
            stopped=stop_or_late,
        ):
            yield decoded, decoded.time
            reason = f"no frame for {self._read_timeout:g} s"
            due = time.monotonic() + self._read_timeout
        if late and not self._stopped():
            raise SourceOpenError(f"{self._safe_url}: timed out: {reason}")

    def _release(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            container.close()
