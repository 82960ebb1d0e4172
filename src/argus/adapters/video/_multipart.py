"""An incremental parser of ``multipart/x-mixed-replace`` bodies (MJPEG over HTTP).

Bytes go in as they arrive from the socket; whole part bodies come out. A part
with a ``Content-Length`` header is cut at that length; one without it ends
at the next boundary delimiter. Cameras differ in how they spell the boundary
(with or without the leading ``--`` in the header), so the delimiter is
matched leniently.
"""

from __future__ import annotations

import enum

__all__ = ["MultipartError", "MultipartReader", "boundary_from_content_type"]

_MAX_HEADER_BYTES = 16 * 1024


class MultipartError(ValueError):
    """The body is not a well-formed multipart stream."""


def boundary_from_content_type(content_type: str) -> str | None:
    """Return the ``boundary`` parameter of a multipart content type.

    Args:
        content_type: A ``Content-Type`` header value.

    Returns:
        The boundary, or ``None`` when the type is not multipart or has none.
    """
    media_type, _, params = content_type.partition(";")
    if not media_type.strip().lower().startswith("multipart/"):
        return None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "boundary":
            boundary = value.strip().strip('"').strip()
            return boundary or None
    return None


class _State(enum.Enum):
    PREAMBLE = "preamble"
    HEADERS = "headers"
    BODY = "body"
    DONE = "done"


class MultipartReader:
    """Splits a multipart byte stream into part bodies.

    Args:
        boundary: The boundary from the ``Content-Type`` header.
        max_part_bytes: Largest part accepted; a larger one raises ``MultipartError``.
    """

    def __init__(self, boundary: str, *, max_part_bytes: int = 16 * 1024 * 1024) -> None:
        token = boundary.lstrip("-")
        if not token:
            raise MultipartError(f"empty multipart boundary {boundary!r}")
        self._delimiter = b"--" + token.encode("latin-1")
        self._max_part_bytes = max_part_bytes
        self._buffer = bytearray()
        self._state = _State.PREAMBLE
        self._length: int | None = None

    @property
    def done(self) -> bool:
        """Whether the closing delimiter was seen."""
        return self._state is _State.DONE

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes and return the part bodies they complete.

        Args:
            data: The next bytes of the HTTP body.

        Returns:
            Zero or more complete part bodies, in order.

        Raises:
            MultipartError: A part or its headers exceed the size limits.
        """
        if self._state is _State.DONE:
            return []
        self._buffer += data
        parts: list[bytes] = []
        while self._step(parts):
            pass
        return parts

    def _step(self, parts: list[bytes]) -> bool:
        """Advance one state; return ``False`` when more data is needed."""
        if self._state is _State.PREAMBLE:
            return self._skip_to_delimiter()
        if self._state is _State.HEADERS:
            return self._read_headers()
        if self._state is _State.BODY:
            return self._read_body(parts)
        return False

    def _skip_to_delimiter(self) -> bool:
        index = self._buffer.find(self._delimiter)
        if index < 0:
            # Keep a tail that could be the start of a delimiter split across reads.
            keep = len(self._delimiter) - 1
            del self._buffer[: max(0, len(self._buffer) - keep)]
            return False
        del self._buffer[: index + len(self._delimiter)]
        self._state = _State.HEADERS
        return True

    def _read_headers(self) -> bool:
        if len(self._buffer) < 2:
            return False
        if self._buffer.startswith(b"--"):
            self._state = _State.DONE
            self._buffer.clear()
            return False
        end, separator = _find_blank_line(self._buffer)
        if end < 0:
            if len(self._buffer) > _MAX_HEADER_BYTES:
                raise MultipartError("multipart part headers are too long")
            return False
        block = bytes(self._buffer[:end])
        del self._buffer[: end + separator]
        self._length = _content_length(block)
        if self._length is not None and self._length > self._max_part_bytes:
            raise MultipartError(
                f"multipart part of {self._length} bytes exceeds {self._max_part_bytes} bytes"
            )
        self._state = _State.BODY
        return True

    def _read_body(self, parts: list[bytes]) -> bool:
        if self._length is not None:
            if len(self._buffer) < self._length:
                return False
            parts.append(bytes(self._buffer[: self._length]))
            del self._buffer[: self._length]
            self._state = _State.PREAMBLE
            return True
        index = self._buffer.find(self._delimiter)
        if index < 0:
            if len(self._buffer) > self._max_part_bytes:
                raise MultipartError(
                    f"multipart part larger than {self._max_part_bytes} bytes without a boundary"
                )
            return False
        body = bytes(self._buffer[:index])
        del self._buffer[: index + len(self._delimiter)]
        parts.append(_strip_line_break(body))
        self._state = _State.HEADERS
        return True


def _find_blank_line(buffer: bytearray) -> tuple[int, int]:
    """Return the index and length of the first blank-line separator, or ``(-1, 0)``."""
    found = [(i, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (i := buffer.find(sep)) >= 0]
    return min(found) if found else (-1, 0)


def _content_length(block: bytes) -> int | None:
    for line in block.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                return None
            return length if length >= 0 else None
    return None


def _strip_line_break(body: bytes) -> bytes:
    """Remove the line break that belongs to the following delimiter."""
    if body.endswith(b"\r\n"):
        return body[:-2]
    if body.endswith(b"\n"):
        return body[:-1]
    return body
