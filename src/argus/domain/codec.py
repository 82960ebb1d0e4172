"""The domain's dict codec: the small readers and writers every ``to_dict``/``from_dict`` shares.

Stored bodies and bus messages are plain JSON; these turn typed fields into
that form and back, raising ``ValidationError`` that names the field when a
value has the wrong shape. Each reader takes the field's name (``where``) so a
``from_dict`` reads as one line per field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar

from argus.domain.checks import aware_utc
from argus.domain.errors import ValidationError

__all__ = [
    "choice",
    "field_number",
    "field_text",
    "hex_bytes",
    "iso_or_none",
    "iso_z",
    "iso_z_or_none",
    "lenient_int",
    "object_list",
    "optional_str",
    "parse_time",
    "require_keys",
    "require_str",
    "value_list",
]

T = TypeVar("T")


def iso_z(moment: datetime) -> str:
    """ISO 8601 with microseconds, UTC written ``Z`` (the stored and wire form of times)."""
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def iso_z_or_none(moment: datetime | None) -> str | None:
    """``iso_z`` of ``moment``, or ``None``."""
    return None if moment is None else iso_z(moment)


def iso_or_none(moment: datetime | None) -> str | None:
    """Plain ``isoformat()`` of ``moment`` (its own offset and precision), or ``None``."""
    return None if moment is None else moment.isoformat()


def parse_time(value: object, where: str) -> datetime:
    """An ISO 8601 string with a UTC offset, as an aware UTC datetime.

    Raises:
        ValidationError: ``value`` is not such a string (a time without an offset included).
    """
    if not isinstance(value, str):
        raise ValidationError(f"{where} must be an ISO 8601 time, got {value!r}")
    try:
        return aware_utc(datetime.fromisoformat(value), where)
    except ValueError as exc:
        raise ValidationError(f"{where} must be an ISO 8601 time, got {value!r}") from exc


def optional_str(value: object) -> str | None:
    """``None`` stays ``None``; anything else becomes its ``str``."""
    return None if value is None else str(value)


def value_list(value: object, where: str) -> list[object]:
    """A JSON array (list or tuple), as a list.

    Raises:
        ValidationError: ``value`` is not one.
    """
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{where} must be a list")
    return list(value)


def object_list(value: object, where: str) -> list[Mapping[str, object]]:
    """A JSON array of objects, as a list of mappings.

    Raises:
        ValidationError: ``value`` is not one.
    """
    if not isinstance(value, list | tuple) or not all(isinstance(v, Mapping) for v in value):
        raise ValidationError(f"{where} must be a list of objects")
    return list(value)


def choice(value: object, choices: tuple[T, ...], what: str) -> T:
    """``value`` as the member of ``choices`` (a ``Literal``'s ``get_args``) it equals.

    Raises:
        ValidationError: It equals none of them (``unknown <what> ...``).
    """
    for option in choices:
        if value == option:
            return option
    raise ValidationError(f"unknown {what} {value!r}; expected one of {choices}")


def hex_bytes(value: object, where: str) -> bytes:
    """A hex string, as bytes.

    Raises:
        ValidationError: ``value`` is not a hex string.
    """
    if not isinstance(value, str):
        raise ValidationError(f"{where} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise ValidationError(f"{where} must be a hex string") from exc


def require_keys(data: object, keys: frozenset[str], where: str) -> Mapping[str, object]:
    """``data`` as a mapping with exactly ``keys``.

    Raises:
        ValidationError: Not a mapping, or a key is missing or unexpected.
    """
    if not isinstance(data, Mapping):
        raise ValidationError(f"{where} must be a mapping, got {type(data).__name__}")
    present = set(data)
    if present != keys:
        missing = sorted(keys - present)
        extra = sorted(str(k) for k in present - keys)
        raise ValidationError(f"{where}: missing keys {missing}, unexpected keys {extra}")
    return data


def require_str(data: Mapping[str, object], key: str, where: str) -> str:
    """``data[key]`` as a non-empty string (``KeyError`` when absent).

    Raises:
        ValidationError: It is not a non-empty string.
    """
    value = data[key]
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{where}.{key} must be a non-empty string, got {value!r}")
    return value


# --- lenient readers of untrusted payloads: ``None`` where a value does not fit ------------------


def field_text(payload: Mapping[str, object], key: str) -> str | None:
    """``payload[key]`` when it is a non-empty string, else ``None``."""
    value = payload.get(key)
    return value if isinstance(value, str) and value else None


def field_number(payload: Mapping[str, object], key: str) -> float | None:
    """``payload[key]`` as a float when it is a finite int or float (not a bool), else ``None``."""
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def lenient_int(value: object) -> int | None:
    """``value`` when it is an int (not a bool), else ``None``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
