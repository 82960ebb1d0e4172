"""The allow-listed unpickler of torch checkpoints (see ``torch_pickle``).

Globals resolve only to the functions here (tensor rebuilds that build numpy
arrays from checked storages, plain ``OrderedDict``/``set``/``frozenset`` and
``torch.Size``), to storage type markers, or to inert ``ModuleRecord`` classes;
every other global raises ``UnsafePickleError`` before anything is called.
"""

from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from argus.adapters.modelpacks.torch_records import is_record_global, record_class
from argus.domain.errors import ModelBuildError, UnsafePickleError

__all__ = ["MAX_PICKLE_BYTES", "MAX_STORAGE_BYTES", "Storage", "StorageType", "loads_pickle"]

MAX_PICKLE_BYTES = 64 * 1024 * 1024
"""Largest pickle (``data.pkl``) read."""
MAX_STORAGE_BYTES = 4 * 1024**3
"""Largest storage or tensor built."""


@dataclass(frozen=True, slots=True)
class StorageType:
    """What ``torch.<Name>Storage`` stands for: a name and a numpy dtype."""

    name: str
    dtype: np.dtype[Any]

    def __call__(self, *_args: object, **_kwargs: object) -> None:
        raise UnsafePickleError(f"checkpoint tried to call storage type torch.{self.name}")


_STORAGE_DTYPES: dict[str, str] = {
    "HalfStorage": "f2",
    "FloatStorage": "f4",
    "DoubleStorage": "f8",
    "BFloat16Storage": "u2",  # widened to float32 in _storage_array
    "LongStorage": "i8",
    "IntStorage": "i4",
    "ShortStorage": "i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
    "UntypedStorage": "u1",
}


@dataclass(frozen=True, slots=True)
class Storage:
    """One storage of the archive as a flat, native-endian numpy array."""

    type_name: str
    data: npt.NDArray[Any]


def _storage_array(
    storage: object, offset: object, size: object, stride: object
) -> npt.NDArray[Any]:
    if not isinstance(storage, Storage):
        raise UnsafePickleError(f"tensor rebuild got {type(storage).__name__}, not a storage")
    shape = _int_tuple(size, "size")
    strides = _int_tuple(stride, "stride")
    if not isinstance(offset, int) or offset < 0 or len(shape) != len(strides):
        raise ModelBuildError(f"bad tensor geometry: offset={offset} size={shape} stride={strides}")
    flat = storage.data
    if any(s < 0 for s in shape) or any(s < 0 for s in strides):
        raise ModelBuildError(f"negative size or stride: {shape} {strides}")
    if int(np.prod(shape, dtype=np.float64)) * flat.itemsize > MAX_STORAGE_BYTES:
        raise ModelBuildError(f"tensor of shape {shape} is larger than allowed")
    if 0 in shape:
        arr: npt.NDArray[Any] = np.zeros(shape, dtype=flat.dtype)
    else:
        last = offset + sum((n - 1) * s for n, s in zip(shape, strides, strict=True))
        if last >= flat.size:
            raise ModelBuildError(f"tensor reaches element {last} of a {flat.size}-element storage")
        base = flat[offset:]
        byte_strides = tuple(s * flat.itemsize for s in strides)
        arr = np.lib.stride_tricks.as_strided(base, shape=shape, strides=byte_strides).copy()
    if storage.type_name == "BFloat16Storage":
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    return arr


def _int_tuple(value: object, what: str) -> tuple[int, ...]:
    if not isinstance(value, tuple | list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise ModelBuildError(f"tensor {what} must be a tuple of ints, got {value!r}")
    return tuple(value)


def _rebuild_tensor_v2(
    storage: object, offset: object, size: object, stride: object, *_rest: object
) -> npt.NDArray[Any]:
    return _storage_array(storage, offset, size, stride)


def _rebuild_tensor(
    storage: object, offset: object, size: object, stride: object
) -> npt.NDArray[Any]:
    return _storage_array(storage, offset, size, stride)


def _rebuild_parameter(data: object, *_rest: object) -> npt.NDArray[Any]:
    if not isinstance(data, np.ndarray):
        raise UnsafePickleError(f"parameter rebuild got {type(data).__name__}, not a tensor")
    return data


def _ordered_dict(*args: object) -> OrderedDict[Any, Any]:
    if not args:
        return OrderedDict()
    if len(args) == 1 and isinstance(args[0], list | tuple | dict):
        return OrderedDict(args[0])
    raise UnsafePickleError("collections.OrderedDict called with unexpected arguments")


def _plain_set(*args: object) -> set[Any]:
    if not args:
        return set()
    if len(args) == 1 and isinstance(args[0], list | tuple):
        return set(args[0])
    raise UnsafePickleError("set called with unexpected arguments")


def _plain_frozenset(*args: object) -> frozenset[Any]:
    return frozenset(_plain_set(*args))


def _torch_size(*args: object) -> tuple[int, ...]:
    return _int_tuple(args[0] if args else (), "size")


_ALLOWED_CALLABLES: dict[str, Callable[..., Any]] = {
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "collections.OrderedDict": _ordered_dict,
    "builtins.set": _plain_set,
    "__builtin__.set": _plain_set,
    "builtins.frozenset": _plain_frozenset,
    "__builtin__.frozenset": _plain_frozenset,
    "torch.Size": _torch_size,
}


class _SafeUnpickler(pickle.Unpickler):
    """Unpickler whose globals come only from the allow-list above."""

    def __init__(self, file: io.BytesIO, storages: Callable[[str, StorageType, int], Storage]):
        super().__init__(file)
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        path = f"{module}.{name}"
        if path in _ALLOWED_CALLABLES:
            return _ALLOWED_CALLABLES[path]
        if module == "torch" and name in _STORAGE_DTYPES:
            return StorageType(name, np.dtype(_STORAGE_DTYPES[name]))
        if is_record_global(module, name):
            return record_class(path)
        raise UnsafePickleError(f"checkpoint references global {path!r}, which is not allowed")

    def persistent_load(self, pid: Any) -> Any:
        if (
            not isinstance(pid, tuple)
            or len(pid) != 5
            or pid[0] != "storage"
            or not isinstance(pid[1], StorageType)
            or not isinstance(pid[2], str)
            or not isinstance(pid[4], int)
        ):
            raise UnsafePickleError(f"unexpected persistent id {pid!r:.80}")
        return self._storages(pid[2], pid[1], pid[4])


def _no_storages(key: str, _stype: StorageType, _numel: int) -> Storage:
    raise ModelBuildError(f"pickle references storage {key!r} but no archive holds it")


def loads_pickle(
    data: bytes, storages: Callable[[str, StorageType, int], Storage] = _no_storages
) -> Any:
    """Unpickle ``data`` through the allow-list; see the module doc.

    Raises:
        UnsafePickleError: a global outside the allow-list, or a forbidden call.
        ModelBuildError: the pickle is malformed.
    """
    if len(data) > MAX_PICKLE_BYTES:
        raise ModelBuildError(f"pickle of {len(data)} bytes is larger than allowed")
    try:
        return _SafeUnpickler(io.BytesIO(data), storages).load()
    except (UnsafePickleError, ModelBuildError):
        raise
    except Exception as exc:  # a malformed pickle can raise almost anything
        raise ModelBuildError(f"cannot unpickle checkpoint: {type(exc).__name__}: {exc}") from exc
