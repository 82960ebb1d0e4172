"""A loopback HTTP camera for tests: an MJPEG stream and a snapshot endpoint.

Endpoints (all GET):

* ``/stream.mjpeg`` — ``multipart/x-mixed-replace`` JPEG parts. Query options:
  ``fps`` (default 25), ``length=0`` to leave out ``Content-Length`` headers,
  ``bad_every=N`` to replace every Nth part by bytes that are not a JPEG.
* ``/snapshot`` — the current frame as ``image/jpeg``.
* ``/garbage`` — ``200 OK`` with a body that is not an image.
* ``/error`` — ``500 Internal Server Error``.

Frames are flat grey 160x120 images whose level encodes a running counter.
The server writes ``READY <port>`` to stdout once it listens (``--port 0``
lets the kernel choose), so a test can kill it and start it on the same port.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

__all__ = ["CameraHandler", "encode_frame", "main"]

BOUNDARY = "argusframe"
_counter = itertools.count()
_counter_lock = threading.Lock()


def encode_frame(index: int) -> bytes:
    """Return frame ``index`` as JPEG bytes (a flat grey level that encodes the index)."""
    level = 30 + (index * 7) % 190
    image = np.full((120, 160, 3), level, dtype=np.uint8)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return bytes(encoded.tobytes())


def _next_index() -> int:
    with _counter_lock:
        return next(_counter)


class CameraHandler(BaseHTTPRequestHandler):
    """Serves the camera endpoints; one thread per connection."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        """Route a GET request."""
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        try:
            if url.path == "/stream.mjpeg":
                self._stream(
                    fps=float(query.get("fps", "25")),
                    with_length=query.get("length", "1") != "0",
                    bad_every=int(query.get("bad_every", "0")),
                )
            elif url.path == "/snapshot":
                self._send(200, "image/jpeg", encode_frame(_next_index()))
            elif url.path == "/garbage":
                self._send(200, "text/plain", b"this is not an image\n")
            elif url.path == "/error":
                self._send(500, "text/plain", b"camera failure\n")
            else:
                self._send(404, "text/plain", b"not found\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away, as clients of a camera do

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream(self, *, fps: float, with_length: bool, bad_every: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        for part in itertools.count(1):
            body = encode_frame(_next_index())
            if bad_every and part % bad_every == 0:
                body = b"\x00not a jpeg\x00" * 50
            headers = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
            if with_length:
                headers += f"Content-Length: {len(body)}\r\n"
            self.wfile.write(headers.encode() + b"\r\n" + body + b"\r\n")
            self.wfile.flush()
            time.sleep(1.0 / fps)


def main(argv: list[str] | None = None) -> int:
    """Serve until killed.

    Args:
        argv: Command-line arguments, ``sys.argv[1:]`` when ``None``.

    Returns:
        The exit status: 2 when the port is taken.
    """
    parser = argparse.ArgumentParser(description="loopback HTTP test camera")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        server = ThreadingHTTPServer((args.host, args.port), CameraHandler)
    except OSError as exc:
        sys.stderr.write(f"http_camera: cannot listen on {args.host}:{args.port}: {exc}\n")
        return 2
    sys.stdout.write(f"READY {server.server_address[1]}\n")
    sys.stdout.flush()
    with server:
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
