"""A loopback webhook receiver for tests, run as its own process.

::

    python -m tests.servers.webhook_sink --port 0 --out FILE
        [--secret S] [--window 300] [--status CODE] [--hang-first N] [--cert C --key K]

Every ``POST`` is appended to ``FILE`` as one JSON line ``{"path", "headers",
"body", "verified", "at"}`` (``body`` as text; ``verified``: the
``X-Argus-Signature`` checked with ``argus.domain.notify.signing.verify``
against ``--secret`` within ``--window`` seconds of this process's clock, as
a real receiver would; ``null`` without ``--secret``). A line is one
``write`` on a file opened for appending, so a kill never leaves half a line,
and the answer (``--status``, default 200) is sent only after it is written.
A request with a bad signature is recorded and answered ``401``.
``--hang-first N`` never answers the first N requests (a stalled receiver)
and records nothing for them, dropping a ``<FILE>.hung-<n>`` marker instead.
``--cert``/``--key`` serve HTTPS.

It prints ``READY <port>`` once it listens and runs until killed.
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from argus.domain.notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

__all__ = ["main"]

_MAX_BODY = 1 << 20


class _State:
    def __init__(self, out: Path, secret: str | None, window: float, status: int, hang: int):
        self.out = out
        self.secret = secret
        self.window = window
        self.status = status
        self.hang_left = hang
        self.lock = threading.Lock()
        self.never = threading.Event()


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, _MAX_BODY))
            with state.lock:
                hang = state.hang_left > 0
                if hang:
                    state.hang_left -= 1
                    marker = Path(f"{state.out}.hung-{state.hang_left}-{os.getpid()}")
                    marker.write_text("hung\n")
            if hang:
                state.never.wait()
                return
            verified: bool | None = None
            if state.secret is not None:
                verified = verify(
                    state.secret,
                    self.headers.get(TIMESTAMP_HEADER, ""),
                    body,
                    self.headers.get(SIGNATURE_HEADER, ""),
                    datetime.now(UTC),
                    window_s=state.window,
                )
            line = json.dumps(
                {
                    "path": self.path,
                    "headers": {name.lower(): value for name, value in self.headers.items()},
                    "body": body.decode("utf-8", errors="replace"),
                    "verified": verified,
                    "at": datetime.now(UTC).isoformat(),
                }
            )
            with state.lock:
                fd = os.open(state.out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, (line + "\n").encode())
                finally:
                    os.close(fd)
            status = 401 if verified is False else state.status
            answer = b'{"ok":true}' if status < 300 else b'{"ok":false}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the JSON lines are the log."""

    return Handler


def main(argv: list[str] | None = None) -> None:
    """Serve until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("--secret")
    parser.add_argument("--window", type=float, default=300.0)
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--hang-first", type=int, default=0)
    parser.add_argument("--cert", help="serve HTTPS with this certificate (and --key)")
    parser.add_argument("--key")
    args = parser.parse_args(argv)
    state = _State(Path(args.out), args.secret, args.window, args.status, args.hang_first)
    try:
        server = ThreadingHTTPServer((args.host, args.port), _handler(state))
    except OSError as exc:
        sys.stderr.write(f"cannot listen on {args.host}:{args.port}: {exc}\n")
        raise SystemExit(1) from exc
    server.daemon_threads = True
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    sys.stdout.write(f"READY {server.server_address[1]}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
