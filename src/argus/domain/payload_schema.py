"""Payload schemas of the event catalogue: which fields an event type's payload holds.

Ingest (``POST /api/v1/events``, ``/api/v1/edge/sync``) checks each event's
payload against the schema of its type before anything is stored, so a
malformed event never reaches the store, the counts or the rules. A schema
lists its fields with a kind (``str``, ``int``, ``float``, ``choice``,
``cells``, ``names`` or ``tracks``), whether each is required and its bounds;
keys it does not list are refused unless the schema is ``open``. The pipeline types' schemas are
derived from their payload dataclasses (``argus.domain.event_payloads``), so
what the pipelines write and what ingest takes cannot drift apart.

The size of a payload is measured as its compact UTF-8 JSON
(``payload_size``); the limit is a setting (``ARGUS_EVENT_PAYLOAD_MAX_BYTES``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, Literal

from argus.domain.errors import ValidationError

__all__ = [
    "DEFAULT_PAYLOAD_MAX_BYTES",
    "FieldKind",
    "PayloadField",
    "PayloadSchema",
    "check_payload_size",
    "payload_size",
    "schema_of",
]

DEFAULT_PAYLOAD_MAX_BYTES = 16 * 1024
"""The default limit of one event's payload, in bytes of compact JSON."""

FieldKind = Literal["str", "int", "float", "choice", "cells", "names", "tracks", "point"]
"""``point``: an ``[x, y]`` pair of numbers in [0, 1] (an object's foot point in the frame);
``cells``: a list of ``[index, count]`` pairs of non-negative integers (heatmaps);
``names``: a list of short strings; ``tracks``: a list of rows of non-negative integers,
two then four per sample (``TracksMinute``)."""

_MAX_TEXT = 200
_MAX_CELLS = 1 << 16
_MAX_NAMES = 256
_MAX_NAME = 64
_MAX_ROWS = 1000
_MAX_ROW = 2 + 4 * 600

# Annotations of the payload dataclasses (strings: they use postponed evaluation).
_KINDS: Mapping[str, FieldKind] = {
    "str": "str",
    "int": "int",
    "float": "float",
    "Direction": "choice",
    "ExitReason": "choice",
    "tuple[tuple[int, int], ...]": "cells",
    "tuple[str, ...]": "names",
    "tuple[tuple[int, ...], ...]": "tracks",
}
_CHOICES: Mapping[str, tuple[str, ...]] = {
    "Direction": ("in", "out"),
    "ExitReason": ("left", "lost"),
}
# Bounds by field name, shared by every type that has the field.
_BOUNDS: Mapping[str, tuple[float | None, float | None]] = {
    "confidence": (0.0, 1.0),
    "score": (0.0, 1.0),
    "track_id": (0, None),
    "class_id": (0, None),
    "dwell_seconds": (0.0, None),
    "threshold_seconds": (0.0, None),
    "occupancy": (0, None),
    "threshold": (0, None),
    "speed": (0.0, None),
    "grid_width": (1, 4096),
    "grid_height": (1, 4096),
    "frame_width": (1, 65536),
    "frame_height": (1, 65536),
    "frames": (0, None),
    "run": (0, None),
    "part": (0, None),
    "dropped": (0, None),
}


@dataclass(frozen=True, slots=True)
class PayloadField:
    """One field of a payload schema.

    Attributes:
        name: The payload key.
        kind: What its value must be.
        required: Whether the key must be present.
        choices: The allowed values of a ``choice`` field.
        minimum: The least allowed number (``int``/``float``), if any.
        maximum: The greatest allowed number, if any.
    """

    name: str
    kind: FieldKind
    required: bool = True
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def check(self, value: object, where: str) -> None:
        """Raise ``ValidationError`` (naming ``where``) unless ``value`` fits this field."""
        if self.kind in ("str", "choice"):
            if not isinstance(value, str):
                raise ValidationError(f"{where} must be a string, got {_shown(value)}")
            if self.kind == "choice" and value not in self.choices:
                raise ValidationError(f"{where} must be one of {list(self.choices)}, got {value!r}")
            if len(value) > _MAX_TEXT:
                raise ValidationError(f"{where} is longer than {_MAX_TEXT} characters")
            return
        if self.kind == "cells":
            _check_cells(value, where)
            return
        if self.kind == "names":
            _check_names(value, where)
            return
        if self.kind == "tracks":
            _check_tracks(value, where)
            return
        if self.kind == "point":
            _check_point(value, where)
            return
        number = _number(value, where, integer=self.kind == "int")
        if self.minimum is not None and number < self.minimum:
            raise ValidationError(f"{where} must be at least {self.minimum:g}, got {number:g}")
        if self.maximum is not None and number > self.maximum:
            raise ValidationError(f"{where} must be at most {self.maximum:g}, got {number:g}")

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form (for the catalogue's readers)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "required": self.required,
            "choices": list(self.choices),
            "minimum": self.minimum,
            "maximum": self.maximum,
        }


@dataclass(frozen=True, slots=True)
class PayloadSchema:
    """The fields of one event type's payload.

    Attributes:
        fields: The known fields, in payload order.
        open: Whether keys it does not list are allowed (custom types).
    """

    fields: tuple[PayloadField, ...] = ()
    open: bool = False

    def check(self, payload: Mapping[str, object], where: str = "payload") -> None:
        """Raise ``ValidationError`` naming the first key that breaks the schema.

        Missing required keys, unknown keys (unless ``open``), and values of
        the wrong kind or out of bounds are refused.
        """
        known = {f.name: f for f in self.fields}
        missing = [f.name for f in self.fields if f.required and f.name not in payload]
        if missing:
            raise ValidationError(f"{where} lacks {missing}")
        if not self.open:
            extra = sorted(str(key) for key in payload if key not in known)
            if extra:
                raise ValidationError(
                    f"{where} has unknown keys {extra}; its keys are {sorted(known)}"
                )
        for name, value in payload.items():
            spec = known.get(name)
            if spec is not None:
                spec.check(value, f"{where}.{name}")

    def to_dict(self) -> dict[str, object]:
        """Return the JSON-ready form."""
        return {"fields": [f.to_dict() for f in self.fields], "open": self.open}


def schema_of(payload_class: type[Any]) -> PayloadSchema:
    """The schema of a payload dataclass of ``argus.domain.event_payloads``.

    Raises:
        TypeError: A field's annotation has no kind here (a programming error).
    """
    specs: list[PayloadField] = []
    for item in fields(payload_class):
        annotation = str(item.type)
        kind = _KINDS.get(annotation)
        if kind is None:
            raise TypeError(
                f"{payload_class.__name__}.{item.name}: no payload kind for {annotation}"
            )
        low, high = _BOUNDS.get(item.name, (None, None))
        required = item.default is MISSING and item.default_factory is MISSING
        specs.append(
            PayloadField(
                item.name,
                kind,
                required=required,
                choices=_CHOICES.get(annotation, ()),
                minimum=low,
                maximum=high,
            )
        )
    return PayloadSchema(tuple(specs))


def payload_size(payload: Mapping[str, object]) -> int:
    """The payload's size: bytes of its compact UTF-8 JSON.

    Raises:
        ValidationError: The payload is not JSON (a NaN, an infinity, another type).
    """
    try:
        text = json.dumps(
            dict(payload),
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_plain,
        )
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"the payload is not JSON: {exc}") from exc
    return len(text.encode("utf-8", "surrogatepass"))


def check_payload_size(payload: Mapping[str, object], max_bytes: int, where: str) -> None:
    """Raise ``ValidationError`` when the payload is larger than ``max_bytes``."""
    size = payload_size(payload)
    if size > max_bytes:
        raise ValidationError(
            f"{where} is {size} bytes of JSON, over the limit of {max_bytes} bytes "
            "(ARGUS_EVENT_PAYLOAD_MAX_BYTES)"
        )


def _plain(value: object) -> object:
    # Envelope payloads are read-only mappings (MappingProxyType), nested ones too.
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _number(value: object, where: str, *, integer: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        wanted = "an integer" if integer else "a number"
        raise ValidationError(f"{where} must be {wanted}, got {_shown(value)}")
    if integer and not isinstance(value, int):
        raise ValidationError(f"{where} must be an integer, got {value!r}")
    if not math.isfinite(value):
        raise ValidationError(f"{where} must be finite")
    return float(value)


def _check_cells(value: object, where: str) -> None:
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{where} must be a list of [index, count] pairs")
    if len(value) > _MAX_CELLS:
        raise ValidationError(f"{where} holds more than {_MAX_CELLS} cells")
    for i, cell in enumerate(value):
        if not isinstance(cell, list | tuple) or len(cell) != 2:
            raise ValidationError(f"{where}[{i}] must be an [index, count] pair")
        for part in cell:
            if isinstance(part, bool) or not isinstance(part, int) or part < 0:
                raise ValidationError(f"{where}[{i}] must hold two non-negative integers")


def _check_names(value: object, where: str) -> None:
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{where} must be a list of strings")
    if len(value) > _MAX_NAMES:
        raise ValidationError(f"{where} holds more than {_MAX_NAMES} names")
    for i, name in enumerate(value):
        if not isinstance(name, str) or len(name) > _MAX_NAME:
            raise ValidationError(f"{where}[{i}] must be a string of at most {_MAX_NAME} chars")


def _check_point(value: object, where: str) -> None:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValidationError(f"{where} must be an [x, y] pair")
    for axis, part in zip("xy", value, strict=True):
        number = _number(part, f"{where}.{axis}", integer=False)
        if not 0.0 <= number <= 1.0:
            raise ValidationError(f"{where}.{axis} must be in [0, 1], got {number:g}")


def _check_tracks(value: object, where: str) -> None:
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{where} must be a list of track rows")
    if len(value) > _MAX_ROWS:
        raise ValidationError(f"{where} holds more than {_MAX_ROWS} rows")
    for i, row in enumerate(value):
        if (
            not isinstance(row, list | tuple)
            or len(row) < 6
            or len(row) > _MAX_ROW
            or (len(row) - 2) % 4
        ):
            raise ValidationError(
                f"{where}[{i}] must be [track_id, class_index] and then 1 to 600 samples "
                "of four integers [t, x, y, h]"
            )
        for part in row:
            if isinstance(part, bool) or not isinstance(part, int) or part < 0:
                raise ValidationError(f"{where}[{i}] must hold non-negative integers")


def _shown(value: object) -> str:
    if value is None:
        return "null"
    return type(value).__name__
