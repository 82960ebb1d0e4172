"""Class names of a detection model: from a names file or ONNX metadata.

Sources, in order of preference:

1. a names file, one name per line (``coco.names``, ``labels.txt``); line
   endings may be ``\\n`` or ``\\r\\n`` and trailing blank lines are ignored;
2. the ``names`` entry of the ONNX model's ``metadata_props``, either a JSON
   list (``["person", "bicycle"]``), a JSON object keyed by id, or the Python
   dict literal Ultralytics writes (``"{0: 'person', 1: 'bicycle'}"``), which
   is parsed with ``ast.literal_eval`` and never evaluated as code.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from pathlib import Path

from argus.adapters.detectors.ort_session import open_session
from argus.domain.errors import ModelError

__all__ = ["load_class_names", "names_from_metadata", "parse_names", "read_names_file"]

NAMES_KEY = "names"


def _from_mapping(mapping: Mapping[object, object]) -> tuple[str, ...]:
    try:
        by_id = {int(str(k)): v for k, v in mapping.items()}
    except ValueError as exc:
        raise ModelError(f"class names are keyed by non-integer ids: {exc}") from exc
    if sorted(by_id) != list(range(len(by_id))):
        raise ModelError(f"class ids must run 0..{len(by_id) - 1}, got {sorted(by_id)}")
    return _checked([by_id[i] for i in range(len(by_id))])


def _checked(values: list[object]) -> tuple[str, ...]:
    if not values:
        raise ModelError("class names are empty")
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise ModelError("every class name must be a non-empty string")
    return tuple(str(v).strip() for v in values)


def parse_names(text: str) -> tuple[str, ...]:
    """Parse a ``names`` metadata value.

    Args:
        text: A JSON list, a JSON object keyed by id, or a Python dict/list
            literal such as ``"{0: 'person', 1: 'bicycle'}"``.

    Returns:
        Names indexed by class id.

    Raises:
        ModelError: The value is none of those, or ids are not ``0..C-1``.
    """
    value: object
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
            raise ModelError(f"cannot parse class names {text[:80]!r}: {exc}") from exc
    if isinstance(value, dict):
        return _from_mapping(value)
    if isinstance(value, list | tuple):
        return _checked(list(value))
    raise ModelError(f"class names must be a list or a dict, got {type(value).__name__}")


def names_from_metadata(metadata: Mapping[str, str]) -> tuple[str, ...] | None:
    """Return the class names stored in model metadata, or ``None`` if absent.

    Raises:
        ModelError: A ``names`` entry exists but cannot be parsed.
    """
    text = metadata.get(NAMES_KEY)
    return None if text is None else parse_names(text)


def read_names_file(path: str | Path) -> tuple[str, ...]:
    """Read a names file, one class name per line.

    Raises:
        ModelError: The file cannot be read, is empty, or has a blank line
            between names (which would shift every later id).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read class names file {path}: {exc}") from exc
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if "" in lines:
        raise ModelError(f"blank line {lines.index('') + 1} in class names file {path}")
    return _checked(list(lines))


def load_class_names(
    path_or_none: str | Path | None, model_path: str | Path | None = None
) -> tuple[str, ...]:
    """Load class names from a names file, or else from ONNX model metadata.

    Args:
        path_or_none: A names file, or ``None`` to read the model's metadata.
        model_path: The ONNX model, read when no names file is given.

    Returns:
        Names indexed by class id.

    Raises:
        ModelError: Neither source gives names, or a source is malformed.
    """
    if path_or_none is not None:
        return read_names_file(path_or_none)
    if model_path is None:
        raise ModelError("no class names: give a names file or an ONNX model with metadata")
    session = open_session(model_path, intra_op_num_threads=1, optimize=False)
    names = names_from_metadata(dict(session.get_modelmeta().custom_metadata_map))
    if names is None:
        raise ModelError(
            f"ONNX model {model_path} has no {NAMES_KEY!r} metadata; pass class names "
            "or a names file"
        )
    return names
