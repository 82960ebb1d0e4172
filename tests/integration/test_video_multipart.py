"""The incremental multipart parser behind the MJPEG source (no network)."""

from __future__ import annotations

import pytest

from argus.adapters.video._multipart import (
    MultipartError,
    MultipartReader,
    boundary_from_content_type,
)

PARTS = [b"\xff\xd8first\xff\xd9", b"\xff\xd8second part\r\n--not a boundary\xff\xd9", b"3"]


def encode(parts: list[bytes], *, delimiter: str, with_length: bool) -> bytes:
    out = b"preamble to ignore\r\n"
    for body in parts:
        out += f"{delimiter}\r\nContent-Type: image/jpeg\r\n".encode()
        if with_length:
            out += f"Content-Length: {len(body)}\r\n".encode()
        out += b"\r\n" + body + b"\r\n"
    return out + f"{delimiter}--\r\n".encode()


def feed_in_chunks(reader: MultipartReader, data: bytes, size: int) -> list[bytes]:
    parts: list[bytes] = []
    for start in range(0, len(data), size):
        parts.extend(reader.feed(data[start : start + size]))
    return parts


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "scan"])
@pytest.mark.parametrize("chunk", [1, 7, 64, 100_000], ids=lambda n: f"chunk{n}")
def test_parts_come_out_whole_whatever_the_chunking(with_length: bool, chunk: int) -> None:
    data = encode(PARTS, delimiter="--frame", with_length=with_length)
    reader = MultipartReader("frame")
    assert feed_in_chunks(reader, data, chunk) == PARTS
    assert reader.done


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [("frame", "--frame"), ("--frame", "--frame"), ("--frame", "----frame")],
    ids=["rfc", "dashes-in-header", "dashes-twice"],
)
def test_boundary_spellings_of_real_cameras(header: str, delimiter: str) -> None:
    data = encode(PARTS[:1], delimiter=delimiter, with_length=True)
    assert MultipartReader(header).feed(data) == PARTS[:1]


def test_bare_line_feeds_are_accepted() -> None:
    data = b"--b\nContent-Type: image/jpeg\n\nAAA\n--b\n\nBBB\n--b--\n"
    assert MultipartReader("b").feed(data) == [b"AAA", b"BBB"]


def test_nothing_after_the_closing_delimiter() -> None:
    reader = MultipartReader("b")
    assert reader.feed(b"--b\r\n\r\nX\r\n--b--\r\n") == [b"X"]
    assert reader.feed(b"--b\r\n\r\nY\r\n--b\r\n") == []


def test_oversized_parts_are_refused() -> None:
    with pytest.raises(MultipartError):
        MultipartReader("b", max_part_bytes=10).feed(b"--b\r\nContent-Length: 11\r\n\r\n")
    with pytest.raises(MultipartError):
        MultipartReader("b", max_part_bytes=10).feed(b"--b\r\n\r\n" + b"x" * 11)
    with pytest.raises(MultipartError):
        MultipartReader("b").feed(b"--b\r\n" + b"x" * 20_000)


def test_empty_boundary_is_refused() -> None:
    with pytest.raises(MultipartError):
        MultipartReader("--")


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ("multipart/x-mixed-replace; boundary=frame", "frame"),
        ('multipart/x-mixed-replace;boundary="--my frame"', "--my frame"),
        ("Multipart/X-Mixed-Replace; charset=x; BOUNDARY=b", "b"),
        ("multipart/x-mixed-replace", None),
        ("image/jpeg", None),
        ("", None),
    ],
    ids=["plain", "quoted", "case", "no-boundary", "jpeg", "empty"],
)
def test_boundary_from_content_type(content_type: str, boundary: str | None) -> None:
    assert boundary_from_content_type(content_type) == boundary
