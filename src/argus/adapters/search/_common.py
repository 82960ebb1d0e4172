"""Checks shared by every vector index: keys, vector shapes, the query and ``k``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError

__all__ = ["MAX_K", "check_k", "check_keys", "check_query", "check_vectors", "unit_rows"]

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

MAX_K = 4096  # sqlite-vec's ceiling for one nearest-neighbour query; the same everywhere
_KEY_MIN, _KEY_MAX = 0, 2**63 - 1


def check_keys(keys: Sequence[int]) -> I64:
    """``keys`` as int64, each in ``0 .. 2**63 - 1`` and distinct."""
    if any(isinstance(key, bool) or not isinstance(key, int | np.integer) for key in keys):
        raise ValidationError("vector keys must be integers")
    if any(not _KEY_MIN <= int(key) <= _KEY_MAX for key in keys):
        raise ValidationError("vector keys must lie in 0 .. 2**63 - 1")
    array = np.asarray([int(key) for key in keys], dtype=np.int64)
    if len(np.unique(array)) != len(array):
        raise ValidationError("vector keys of one upsert must be distinct")
    return array


def unit_rows(vectors: F32) -> F32:
    """Rows divided by their length (zero or non-finite rows are refused)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if not np.all(np.isfinite(norms)) or np.any(norms < 1e-12):
        raise ValidationError("vectors must be finite and non-zero")
    out: F32 = np.ascontiguousarray(vectors / norms, dtype=np.float32)
    return out


def check_vectors(count: int, vectors: npt.ArrayLike, dim: int) -> F32:
    """``vectors`` as unit float32 rows of shape ``(count, dim)``."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.shape != (count, dim):
        raise ValidationError(f"vectors have shape {array.shape}, expected ({count}, {dim})")
    return unit_rows(array)


def check_query(vector: npt.ArrayLike, dim: int) -> F32:
    """The query as a unit float32 row of shape ``(dim,)``."""
    array = np.asarray(vector, dtype=np.float32)
    if array.shape != (dim,):
        raise ValidationError(f"query has shape {array.shape}, expected ({dim},)")
    out: F32 = unit_rows(array[None, :])[0]
    return out


def check_k(k: int) -> int:
    """``k`` in ``1 .. MAX_K``."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ValidationError(f"k must be an integer in 1..{MAX_K}")
    return k
