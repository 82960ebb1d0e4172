"""A TCP relay that a test can cut and restore, to take a node's link away.

``TcpRelay`` listens on a loopback port and forwards every connection to a
target, bytes both ways, from an asyncio loop in its own thread. ``stop``
closes the listening socket and aborts every open connection (the client sees
a reset, later connects are refused); ``start`` listens again on the same
port, so the client's configured URL works again without a change.

Run as a process (``python -m tests.servers.tcp_relay --target HOST:PORT``)
it listens on ``--listen`` (or ``--host``/``--port``, as ``ServerProcess`` in
``tests/integration/conftest.py`` passes them) and prints ``READY <port>``;
SIGTERM or SIGKILL cuts the link, starting it again on the port restores it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence

__all__ = ["TcpRelay", "main"]

_CHUNK = 64 * 1024
_START_TIMEOUT = 10.0


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not host:port")
    return host.strip("[]"), int(port)


class TcpRelay:
    """Forwards connections from ``listen`` to ``target``; stoppable and restartable.

    Args:
        target: (host, port) every connection is forwarded to.
        host: Address to listen on.
        port: Port to listen on; 0 picks a free one at the first ``start``,
            which later starts reuse.
    """

    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1", port: int = 0) -> None:
        self.target = target
        self.host = host
        self.port = port
        self.accepted = 0
        """Connections accepted since construction (a test can see the client reconnect)."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="tcp-relay", daemon=True
        )
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.WriteTransport] = set()

    @property
    def running(self) -> bool:
        """Whether it listens now."""
        return self._server is not None

    def start(self) -> int:
        """Listen (again) and return the port; a no-op while it listens."""
        return asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(_START_TIMEOUT)

    def stop(self) -> None:
        """Stop listening and abort every relayed connection (both sides)."""
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(_START_TIMEOUT)

    def close(self) -> None:
        """Stop and end the relay's thread; the relay cannot start again."""
        if self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(_START_TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_START_TIMEOUT)
        self._loop.close()

    async def _start(self) -> int:
        if self._server is None:
            # reuse_address: the port may still have connections in TIME_WAIT after a stop.
            self._server = await asyncio.start_server(
                self._relay, self.host, self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def _stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()
        if server is not None:
            await server.wait_closed()

    async def _shutdown(self) -> None:
        await self._stop()
        # The aborted connections end their relay tasks; cancelling them instead would
        # make asyncio's stream callback log the CancelledError.
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if tasks:
            await asyncio.wait(tasks, timeout=_START_TIMEOUT / 2)

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._transports.add(client_w.transport)
        try:
            target_r, target_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            self._transports.discard(client_w.transport)
            return
        if self._server is None:  # stopped while connecting
            target_w.transport.abort()
            client_w.transport.abort()
            return
        self._transports.add(target_w.transport)
        try:
            await asyncio.gather(_pipe(client_r, target_w), _pipe(target_r, client_w))
        finally:
            for writer in (client_w, target_w):
                self._transports.discard(writer.transport)
                writer.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy ``reader`` into ``writer`` until end of stream; then half-close ``writer``."""
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


def main(argv: Sequence[str] | None = None) -> int:
    """Relay until SIGTERM or SIGINT; print ``READY <port>`` once listening."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=_address, required=True, help="host:port to forward to")
    parser.add_argument("--listen", type=_address, help="host:port to listen on (port 0: any)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    host, port = args.listen if args.listen is not None else (args.host, args.port)
    relay = TcpRelay(args.target, host, port)
    try:
        bound = relay.start()
    except OSError as exc:
        sys.stderr.write(f"cannot listen on {host}:{port}: {exc}\n")
        return 1
    sys.stdout.write(f"READY {bound}\n")
    sys.stdout.flush()
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    done.wait()
    relay.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
