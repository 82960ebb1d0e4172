"""Small value checks shared by the domain's validated dataclasses.

Each returns the checked (and normalised) value or raises ``ValidationError``
naming the field, so ``__post_init__`` methods read as one line per field.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from argus.domain.errors import ValidationError

__all__ = ["aware_utc", "finite", "names", "text", "unit_interval"]


def text(value: object, where: str, max_len: int, *, empty: bool = False) -> str:
    """A string of at most ``max_len`` characters, non-empty unless ``empty``."""
    if not isinstance(value, str) or (not value and not empty) or len(value) > max_len:
        need = "a string" if empty else "a non-empty string"
        raise ValidationError(f"{where} must be {need} of at most {max_len} characters")
    return value


def aware_utc(value: object, where: str) -> datetime:
    """A timezone-aware datetime, converted to UTC."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{where} must be a timezone-aware datetime")
    return value.astimezone(UTC)


def finite(value: object, where: str) -> float:
    """A finite int or float (not a bool), as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def unit_interval(value: object, where: str) -> float:
    """A finite number in [0, 1]."""
    number = finite(value, where)
    if not 0.0 <= number <= 1.0:
        raise ValidationError(f"{where} must be in [0, 1], got {number}")
    return number


def names(value: object, where: str, max_len: int = 200) -> tuple[str, ...]:
    """A non-empty sequence of non-empty strings, as a tuple."""
    if not isinstance(value, tuple | list) or not value:
        raise ValidationError(f"{where} must be a non-empty sequence of names")
    return tuple(text(item, f"{where}[{i}]", max_len) for i, item in enumerate(value))
