"""Frames and candidates of the hard-example queue: a JPEG's size, a candidate's payload.

``jpeg_size`` reads the size from the JPEG header (no decoding, no image
library): a baseline or progressive JPEG names its size in its start-of-frame segment
(``SOF0``..``SOF15`` except ``DHT``, ``JPG`` and ``DAC``); the segments before
it are skipped by their lengths.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from argus.domain.codec import parse_time
from argus.domain.errors import ValidationError
from argus.domain.hard_examples import ExampleSource, LabelBox

__all__ = ["jpeg_size", "parse_candidate"]

_NOT_SOF = frozenset({0xC4, 0xC8, 0xCC})
"""Markers in the SOF range that are not frames (Huffman tables, JPG extension, arithmetic)."""


def jpeg_size(data: bytes) -> tuple[int, int]:
    """The (width, height) of a JPEG image.

    Raises:
        ValidationError: ``data`` is not a JPEG with a frame header.
    """
    if data[:2] != b"\xff\xd8":
        raise ValidationError("not a JPEG image (no start-of-image marker)")
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise ValidationError("not a JPEG image (a segment does not start with 0xFF)")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # segments without a length
            at += 2
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in _NOT_SOF:
            if at + 9 > len(data):
                break
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            if width <= 0 or height <= 0:
                raise ValidationError("a JPEG image without a size")
            return width, height
        if length < 2:
            raise ValidationError("not a JPEG image (a segment length below 2)")
        at += 2 + length
    raise ValidationError("not a JPEG image (no frame header)")


def parse_candidate(
    payload: Mapping[str, Any],
) -> tuple[ExampleSource, datetime, tuple[int, int], tuple[LabelBox, ...], str, str]:
    """A candidate event's payload, checked."""
    try:
        source = ExampleSource(str(payload["source"]))
        at = parse_time(payload["captured_at"], "captured_at")
        width, height = int(payload["width"]), int(payload["height"])
        boxes = tuple(
            LabelBox(
                float(b["x1"]),
                float(b["y1"]),
                float(b["x2"]),
                float(b["y2"]),
                str(b["class_name"]),
                None if b.get("score") is None else float(b["score"]),
            )
            for b in payload.get("boxes") or ()
        )
        model_ref, note = str(payload.get("model_ref") or ""), str(payload.get("note") or "")
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(f"not a hard-example candidate: {exc}") from exc
    if width <= 0 or height <= 0:
        raise ValidationError("a candidate's frame size must be positive")
    return source, at, (width, height), boxes, model_ref, note
