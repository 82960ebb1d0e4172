"""Small value checks shared by the edge wire types (``argus.domain.edge``).

Each returns the checked (and normalised) value or raises ``ValidationError``
naming the field, like ``argus.domain.checks``; these add what only the edge
types need: node ids, counts, bounded JSON objects and string maps.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from types import MappingProxyType

from argus.domain.checks import finite, text
from argus.domain.errors import ValidationError

__all__ = [
    "NODE_ID_PATTERN",
    "check_node_id",
    "count",
    "int_map",
    "interval",
    "json_object",
    "non_negative",
    "optional_non_negative",
    "str_map",
    "text_tuple",
]

NODE_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
"""An edge node id: lower-case letters, digits, ``.``, ``_``, ``-``; 1 to 64 characters."""

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_JSON_DEPTH = 32


def check_node_id(value: object, where: str = "node_id") -> str:
    """``value`` when it is a valid edge node id (``NODE_ID_PATTERN``).

    Raises:
        ValidationError: It is not.
    """
    if not isinstance(value, str) or not NODE_ID_PATTERN.fullmatch(value):
        raise ValidationError(
            f"{where} must match [a-z0-9][a-z0-9._-]{{0,63}} (lower case), got {value!r}"
        )
    return value


def count(value: object, where: str) -> int:
    """A non-negative int (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{where} must be a non-negative integer, got {value!r}")
    return value


def non_negative(value: object, where: str, maximum: float = math.inf) -> float:
    """A finite number in ``[0, maximum]``, as a float."""
    number = finite(value, where)
    if not 0.0 <= number <= maximum:
        raise ValidationError(f"{where} must be in [0, {maximum}], got {number}")
    return number


def interval(value: object, where: str, minimum_exclusive: bool) -> float:
    """A finite number of seconds in ``[0, 86400]`` (``(0, 86400]`` when ``minimum_exclusive``)."""
    number = finite(value, where)
    if number < 0 or (minimum_exclusive and number == 0) or number > 86_400:
        bound = "(0" if minimum_exclusive else "[0"
        raise ValidationError(f"{where} must be in {bound}, 86400], got {number}")
    return number


def optional_non_negative(value: object, where: str) -> float | None:
    """``None``, or a finite number >= 0 as a float."""
    return None if value is None else non_negative(value, where)


def text_tuple(value: object, where: str, max_items: int, max_len: int = 200) -> tuple[str, ...]:
    """A sequence (possibly empty) of at most ``max_items`` non-empty strings, as a tuple."""
    if not isinstance(value, tuple | list):
        raise ValidationError(f"{where} must be a list of strings")
    if len(value) > max_items:
        raise ValidationError(f"{where} holds {len(value)} items; at most {max_items}")
    return tuple(text(item, f"{where}[{i}]", max_len) for i, item in enumerate(value))


def _check_json(value: object, where: str, depth: int) -> None:
    if depth > _JSON_DEPTH:
        raise ValidationError(f"{where} nests deeper than {_JSON_DEPTH} levels")
    if isinstance(value, str):
        if _UNSTORABLE.search(value) is not None:
            raise ValidationError(f"{where} holds a NUL character or a lone surrogate")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"{where} is not a finite number")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]", depth + 1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(f"{where} has a non-string key {key!r}")
            _check_json(key, f"{where} key", depth + 1)
            _check_json(item, f"{where}.{key}", depth + 1)
    elif value is not None and not isinstance(value, bool | int):
        raise ValidationError(f"{where} holds a {type(value).__name__}, which is not JSON")


def json_object(value: object, where: str) -> Mapping[str, object]:
    """A JSON object (string keys, finite numbers, storable strings), as a read-only mapping.

    Raises:
        ValidationError: ``value`` is not a mapping or holds something JSON cannot carry.
    """
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where} must be an object")
    _check_json(value, where, 0)
    return MappingProxyType(dict(value))


def str_map(value: object, where: str, max_items: int = 64) -> Mapping[str, str]:
    """A mapping of at most ``max_items`` short names to strings, as a read-only mapping."""
    if not isinstance(value, Mapping) or len(value) > max_items:
        raise ValidationError(f"{where} must be an object of at most {max_items} entries")
    return MappingProxyType(
        {
            text(key, f"{where} key", 64): text(item, f"{where}.{key}", 200, empty=True)
            for key, item in value.items()
        }
    )


def int_map(value: object, where: str, max_items: int = 64) -> Mapping[str, int]:
    """A mapping of at most ``max_items`` short names to non-negative ints, read-only."""
    if not isinstance(value, Mapping) or len(value) > max_items:
        raise ValidationError(f"{where} must be an object of at most {max_items} entries")
    return MappingProxyType(
        {
            text(key, f"{where} key", 64): count(item, f"{where}.{key}")
            for key, item in value.items()
        }
    )
