"""httpx at the boundary: one client per connection, deadlines, interrupts, errors translated.

A camera can answer slowly on purpose or by fault: a header line a second
(slow loris), headers and then nothing, a body a byte at a time. httpx's read
timeout is per ``recv``, so such a peer never trips it. ``SocketWatch`` adds
what is missing, below httpx in its network backend: a deadline that every
read and write of a phase must meet (``arm``), and ``interrupt``, which shuts
the connection's socket down from any thread so that a read blocked in the
kernel returns at once (closing the file descriptor would not wake it).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import httpcore
import httpx

from argus.domain.errors import SourceError, SourceOpenError

__all__ = [
    "HttpOptions",
    "SocketWatch",
    "check_status",
    "make_client",
    "seconds",
    "translate_http",
]


_T = TypeVar("_T")
_SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


def seconds(value: float) -> str:
    """``value`` seconds as a short text for messages (``1 s``, ``2.5 s``)."""
    return f"{value:g} s"


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """Connection settings shared by the HTTP sources.

    Attributes:
        open_timeout: Seconds allowed to connect, and to receive the response
            headers after the request starts.
        read_timeout: Seconds without data after which the link counts as lost.
        headers: Extra request headers.
        auth: ``(user, password)`` for HTTP basic authentication.
        verify: Verify TLS certificates (turn off only for cameras with
            self-signed certificates on a trusted network).
        connect_to: Maps a host to the address to connect to, raising
            ``SourceOpenError`` when the host may not be used (the camera
            network policy); applied to every connection, redirects included.
    """

    open_timeout: float
    read_timeout: float
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: tuple[str, str] | None = None
    verify: bool = True
    connect_to: Callable[[str], str] | None = None


class SocketWatch:
    """The sockets of one source's connections, and the deadline of the current phase.

    Thread-safe. The reading thread calls ``arm`` at the start of each phase
    (response headers, first frame, next frame); any thread may call
    ``interrupt``. Each connection's socket is watched through a duplicate of
    its descriptor, closed with the connection, so that shutting it down can
    never touch a descriptor number the system has handed to someone else.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._interrupted = False
        self._deadline: float | None = None
        self._reason = ""
        self._tripped = False

    @property
    def interrupted(self) -> bool:
        """Whether ``interrupt`` was called."""
        return self._interrupted

    @property
    def reason(self) -> str:
        """What the armed phase waits for, as in ``no frame within 10 s``."""
        return self._reason

    @property
    def tripped(self) -> bool:
        """Whether an operation timed out because of the armed deadline."""
        return self._tripped

    def arm(self, timeout: float, reason: str) -> None:
        """Give the next phase ``timeout`` seconds from now; ``reason`` names it in errors."""
        self._reason = reason
        self._tripped = False
        self._deadline = time.monotonic() + timeout

    def disarm(self) -> None:
        """No deadline until the next ``arm``."""
        self._deadline = None

    def interrupt(self) -> None:
        """Shut every watched connection down, and refuse new reads; safe from any thread."""
        with self._lock:
            self._interrupted = True
            for sock in self._sockets:
                _shut(sock)

    def call(
        self,
        operation: Callable[[float | None], _T],
        timeout: float | None,
        timeout_error: type[Exception],
    ) -> _T:
        """Run one socket operation with ``timeout`` cut to the armed deadline.

        Raises:
            httpcore.ReadError: The watch was interrupted.
            Exception: ``timeout_error`` when the deadline has passed (before
                or during the operation); ``tripped`` is then set.
        """
        if self._interrupted:
            raise httpcore.ReadError("interrupted: the source is closing")
        deadline = self._deadline
        if deadline is None:
            return operation(timeout)
        left = deadline - time.monotonic()
        if left <= 0:
            self._tripped = True
            raise timeout_error(self._reason)
        if timeout is not None and timeout < left:
            return operation(timeout)
        try:
            return operation(left)
        except httpcore.TimeoutException as exc:
            self._tripped = True
            raise timeout_error(self._reason) from exc

    def adopt(self, sock: socket.socket) -> socket.socket:
        """Watch ``sock`` (a connected socket); return the duplicate to ``forget`` later."""
        twin = sock.dup()
        with self._lock:
            self._sockets.add(twin)
            if self._interrupted:
                _shut(twin)
        return twin

    def forget(self, twin: socket.socket) -> None:
        """Stop watching a connection that is being closed."""
        with self._lock:
            self._sockets.discard(twin)
        twin.close()


def _shut(sock: socket.socket) -> None:
    # The peer may be gone already; a socket that cannot be shut down needs nothing more.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedStream(httpcore.NetworkStream):
    """A connection whose reads and writes keep to the watch's deadline."""

    def __init__(
        self, inner: httpcore.NetworkStream, watch: SocketWatch, twin: socket.socket
    ) -> None:
        self._inner = inner
        self._watch = watch
        self._twin = twin

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._watch.call(
            lambda limit: self._inner.read(max_bytes, limit), timeout, httpcore.ReadTimeout
        )

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._watch.call(
            lambda limit: self._inner.write(buffer, limit), timeout, httpcore.WriteTimeout
        )

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._watch.forget(self._twin)

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        try:
            inner = self._watch.call(
                lambda limit: self._inner.start_tls(ssl_context, server_hostname, limit),
                timeout,
                httpcore.ConnectTimeout,
            )
        except BaseException:
            self.close()  # httpcore forgets a connection whose handshake failed
            raise
        return _WatchedStream(inner, self._watch, self._twin)

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class _WatchedBackend(httpcore.NetworkBackend):
    """httpcore's blocking backend, with each new connection handed to a ``SocketWatch``."""

    def __init__(self, watch: SocketWatch, connect_to: Callable[[str], str] | None) -> None:
        self._inner = httpcore.SyncBackend()
        self._watch = watch
        self._connect_to = connect_to

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        if self._watch.interrupted:
            raise httpcore.ConnectError("interrupted: the source is closing")
        if self._connect_to is not None:
            # TLS still names the host (httpcore passes it to start_tls), so connecting
            # to the checked address changes nothing but what is reached.
            try:
                host = self._connect_to(host)
            except SourceOpenError as exc:
                raise httpcore.ConnectError(str(exc)) from exc
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        raw = stream.get_extra_info("socket")
        if not isinstance(raw, socket.socket):  # pragma: no cover - SyncBackend gives sockets
            return stream
        return _WatchedStream(stream, self._watch, self._watch.adopt(raw))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def make_client(options: HttpOptions, watch: SocketWatch) -> httpx.Client:
    """Return a new client configured from ``options``, its sockets under ``watch``.

    Proxy variables of the environment are not used: cameras are reached directly.
    The caller closes the client.
    """
    transport = httpx.HTTPTransport(verify=options.verify, trust_env=False)
    # httpx has no public hook for httpcore's network backend, so the transport's
    # connection pool is replaced by an equal one that connects through the watch.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(verify=options.verify, trust_env=False),
        network_backend=_WatchedBackend(watch, options.connect_to),
    )
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(options.read_timeout, connect=options.open_timeout),
        headers=dict(options.headers),
        auth=options.auth,
        follow_redirects=True,
    )


def translate_http(
    exc: httpx.HTTPError, what: str, watch: SocketWatch | None = None
) -> SourceError:
    """Map an httpx error to ``SourceOpenError`` with a short reason.

    A timeout after the watch's deadline passed is reported as the phase that
    ran out of time (``no response headers within 10 s``).
    """
    if isinstance(exc, httpx.TimeoutException) and watch is not None and watch.tripped:
        return SourceOpenError(f"{what}: timed out: {watch.reason}")
    if isinstance(exc, httpx.ConnectTimeout):
        return SourceOpenError(f"{what}: cannot connect: timed out")
    if isinstance(exc, httpx.TimeoutException):
        return SourceOpenError(f"{what}: timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.ConnectError):
        return SourceOpenError(f"{what}: cannot connect ({exc})")
    return SourceOpenError(f"{what}: {type(exc).__name__} ({exc})")


def check_status(response: httpx.Response, what: str) -> None:
    """Raise ``SourceOpenError`` unless the response status is 2xx."""
    if not response.is_success:
        raise SourceOpenError(
            f"{what}: HTTP {response.status_code} {response.reason_phrase}".rstrip()
        )
