"""A loopback "camera" that answers too slowly, for tests of source timeouts.

Every connection is held open in its own thread and treated as the mode says:

* ``headers`` (slow loris): ``HTTP/1.1 200 OK`` and then one header line every
  ``--interval`` seconds, never the blank line that ends the headers;
* ``stall``: the complete headers of an MJPEG stream, then nothing;
* ``body``: the complete headers, then one byte of the body per interval, so
  that no frame ever completes;
* ``silent``: accept and never send a byte (a dead RTSP or TCP peer).

The server writes ``READY <port>`` to stdout once it listens. With
``--events PATH`` it appends ``open N`` when connection ``N`` is accepted and
``closed N`` when it sees the peer close it (or reset it), flushed at once, so a
test can tell whether a client let go of its socket.
"""

from __future__ import annotations

import argparse
import itertools
import select
import socket
import sys
import threading
from pathlib import Path

__all__ = ["main"]

_MODES = ("headers", "stall", "body", "silent")
_STREAM_HEADERS = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: multipart/x-mixed-replace; boundary=argusframe\r\n"
    b"Cache-Control: no-cache\r\n"
    b"\r\n"
)


class _Events:
    """Appends connection events to a file (or nowhere), one line each."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        if self._path is None:
            return
        with self._lock, self._path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()


def _serve(conn: socket.socket, number: int, mode: str, interval: float, events: _Events) -> None:
    """Hold one connection in ``mode`` until the peer closes it."""
    events.write(f"open {number}")
    counter = itertools.count()
    try:
        with conn:
            if mode == "headers":
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
            elif mode in ("stall", "body"):
                conn.sendall(_STREAM_HEADERS)
            while True:
                readable, _, _ = select.select([conn], [], [], interval)
                if readable:
                    if not conn.recv(65536):
                        break  # the peer closed its end
                    continue  # the request (or anything else) is read and ignored
                if mode == "headers":
                    conn.sendall(f"X-Slow-{next(counter)}: {'a' * 8}\r\n".encode())
                elif mode == "body":
                    conn.sendall(b"-")
    except OSError:
        pass  # reset or broken pipe: the peer is gone too
    events.write(f"closed {number}")


def main(argv: list[str] | None = None) -> int:
    """Run the server until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", choices=_MODES, default="headers")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between dribbles")
    parser.add_argument("--events", type=Path, default=None, help="file of connection events")
    args = parser.parse_args(argv)
    events = _Events(args.events)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((args.host, args.port))
    except OSError as exc:
        sys.stderr.write(f"cannot listen on {args.host}:{args.port}: {exc}\n")
        return 1
    listener.listen(16)
    sys.stdout.write(f"READY {listener.getsockname()[1]}\n")
    sys.stdout.flush()
    for number in itertools.count(1):
        conn, _ = listener.accept()
        threading.Thread(
            target=_serve, args=(conn, number, args.mode, args.interval, events), daemon=True
        ).start()
    return 0  # pragma: no cover - the loop ends only when the process is killed


if __name__ == "__main__":
    sys.exit(main())
