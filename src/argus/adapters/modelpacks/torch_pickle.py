"""Read PyTorch ``.pt`` checkpoints without torch and without running their code.

A torch checkpoint is a zip archive holding ``<root>/data.pkl`` (a pickle of the
object graph), ``<root>/data/<key>`` (raw tensor storages) and, in newer files,
``<root>/byteorder``. Unpickling it with :mod:`pickle` would import and call any
global the file names, so this module unpickles with an explicit allow-list:

* torch's tensor rebuild functions become functions that build :mod:`numpy` arrays
  from the storages (offset, shape and strides checked against the storage);
* storage type markers (``torch.HalfStorage``...) become dtype descriptors;
* ``collections.OrderedDict`` and ``set``/``frozenset`` are rebuilt from plain data;
* module classes from the checkpoint's model code (``models.*``, ``utils.*``,
  ``torch.nn.modules.*``) become :class:`ModuleRecord` subclasses: inert records
  that only store the pickled ``__dict__`` and never call anything.

Every other global raises :class:`~argus.errors.UnsafePickleError` naming it, before
anything is called. Calling (REDUCE, INST, OBJ) a record class or a storage marker
is refused too, so the only code a pickle can reach is the handful of functions
defined here.
"""

from __future__ import annotations

import io
import pickle
import re
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

from argus.errors import ModelBuildError, UnsafePickleError

__all__ = [
    "Checkpoint",
    "ModuleRecord",
    "load_checkpoint",
    "loads_pickle",
]

#: Module paths whose CapWords globals are turned into inert records.
RECORD_MODULE_PREFIXES: tuple[str, ...] = ("models.", "utils.", "torch.nn.modules.")
_MODULE_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_CLASS_NAME = re.compile(r"[A-Z][A-Za-z0-9_]*\Z")
_MAX_PICKLE_BYTES = 64 * 1024 * 1024
_MAX_STORAGE_BYTES = 4 * 1024**3


@dataclass(frozen=True, slots=True)
class _StorageType:
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
class _Storage:
    """One storage of the archive as a flat, native-endian numpy array."""

    type_name: str
    data: npt.NDArray[Any]


class ModuleRecord:
    """Inert stand-in for a pickled ``nn.Module`` (or other model-code class).

    Subclasses are made per class path by the unpickler; ``class_path`` says which
    (``models.common.Conv``). ``state`` is the pickled ``__dict__``.
    """

    class_path: ClassVar[str] = ""
    state: dict[str, Any]

    def __init__(self, *_args: object, **_kwargs: object) -> None:
        # NEWOBJ builds records through __new__ only; reaching __init__ means the
        # pickle called the class (REDUCE/INST/OBJ), which real checkpoints never do.
        raise UnsafePickleError(f"checkpoint tried to call class {self.class_path}")

    def __call__(self, *_args: object, **_kwargs: object) -> None:
        raise UnsafePickleError(f"checkpoint tried to call an instance of {self.class_path}")

    def __setstate__(self, state: object) -> None:
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            state = {**(state[0] or {}), **state[1]}  # (dict, slots) form
        if not isinstance(state, dict):
            raise UnsafePickleError(f"unexpected state for {self.class_path}: {type(state)}")
        self.state = dict(state)

    def __repr__(self) -> str:
        return f"ModuleRecord({self.class_path})"

    @property
    def class_name(self) -> str:
        """Last component of ``class_path`` (``Conv``)."""
        return self.class_path.rsplit(".", 1)[-1]

    def get(self, key: str, default: Any = None) -> Any:
        """Return an attribute of the pickled module, or ``default``."""
        return getattr(self, "state", {}).get(key, default)

    def _dict_attr(self, key: str) -> Mapping[str, Any]:
        value = self.get(key)
        return value if isinstance(value, Mapping) else {}

    @property
    def children(self) -> dict[str, ModuleRecord]:
        """Sub-modules in registration order (``_modules``)."""
        return {k: v for k, v in self._dict_attr("_modules").items() if isinstance(v, ModuleRecord)}

    @property
    def tensors(self) -> dict[str, npt.NDArray[Any]]:
        """This module's own parameters and buffers (``None`` entries skipped)."""
        out: dict[str, npt.NDArray[Any]] = {}
        for key in ("_parameters", "_buffers"):
            out.update({k: v for k, v in self._dict_attr(key).items() if isinstance(v, np.ndarray)})
        return out

    def named_tensors(self, prefix: str = "") -> Iterator[tuple[str, npt.NDArray[Any]]]:
        """Yield ``(dotted.name, array)`` for this module and its children, like a state dict."""
        for name, arr in self.tensors.items():
            yield prefix + name, arr
        for name, child in self.children.items():
            yield from child.named_tensors(f"{prefix}{name}.")


_RECORD_CLASSES: dict[str, type[ModuleRecord]] = {}


def _record_class(path: str) -> type[ModuleRecord]:
    cls = _RECORD_CLASSES.get(path)
    if cls is None:
        name = path.rsplit(".", 1)[-1]
        cls = type(name, (ModuleRecord,), {"class_path": path, "__module__": __name__})
        _RECORD_CLASSES[path] = cls
    return cls


def _storage_array(
    storage: object, offset: object, size: object, stride: object
) -> npt.NDArray[Any]:
    if not isinstance(storage, _Storage):
        raise UnsafePickleError(f"tensor rebuild got {type(storage).__name__}, not a storage")
    shape = _int_tuple(size, "size")
    strides = _int_tuple(stride, "stride")
    if not isinstance(offset, int) or offset < 0 or len(shape) != len(strides):
        raise ModelBuildError(f"bad tensor geometry: offset={offset} size={shape} stride={strides}")
    flat = storage.data
    if any(s < 0 for s in shape) or any(s < 0 for s in strides):
        raise ModelBuildError(f"negative size or stride: {shape} {strides}")
    if int(np.prod(shape, dtype=np.float64)) * flat.itemsize > _MAX_STORAGE_BYTES:
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


def _is_record_global(module: str, name: str) -> bool:
    return (
        module.startswith(RECORD_MODULE_PREFIXES)
        and _MODULE_PATH.match(module) is not None
        and _CLASS_NAME.match(name) is not None
    )


class _SafeUnpickler(pickle.Unpickler):
    """Unpickler whose globals come only from the allow-list above."""

    def __init__(self, file: io.BytesIO, storages: Callable[[str, _StorageType, int], _Storage]):
        super().__init__(file)
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        path = f"{module}.{name}"
        if path in _ALLOWED_CALLABLES:
            return _ALLOWED_CALLABLES[path]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name, np.dtype(_STORAGE_DTYPES[name]))
        if _is_record_global(module, name):
            return _record_class(path)
        raise UnsafePickleError(f"checkpoint references global {path!r}, which is not allowed")

    def persistent_load(self, pid: Any) -> Any:
        if (
            not isinstance(pid, tuple)
            or len(pid) != 5
            or pid[0] != "storage"
            or not isinstance(pid[1], _StorageType)
            or not isinstance(pid[2], str)
            or not isinstance(pid[4], int)
        ):
            raise UnsafePickleError(f"unexpected persistent id {pid!r:.80}")
        return self._storages(pid[2], pid[1], pid[4])


def _no_storages(key: str, _stype: _StorageType, _numel: int) -> _Storage:
    raise ModelBuildError(f"pickle references storage {key!r} but no archive holds it")


def loads_pickle(
    data: bytes, storages: Callable[[str, _StorageType, int], _Storage] = _no_storages
) -> Any:
    """Unpickle ``data`` through the allow-list; see the module doc.

    Raises:
        UnsafePickleError: a global outside the allow-list, or a forbidden call.
        ModelBuildError: the pickle is malformed.
    """
    if len(data) > _MAX_PICKLE_BYTES:
        raise ModelBuildError(f"pickle of {len(data)} bytes is larger than allowed")
    try:
        return _SafeUnpickler(io.BytesIO(data), storages).load()
    except (UnsafePickleError, ModelBuildError):
        raise
    except Exception as exc:  # a malformed pickle can raise almost anything
        raise ModelBuildError(f"cannot unpickle checkpoint: {type(exc).__name__}: {exc}") from exc


class _ZipStorages:
    """Serves ``data/<key>`` entries of a torch zip as typed arrays, each read once."""

    def __init__(self, archive: zipfile.ZipFile, root: str, big_endian: bool) -> None:
        self._archive = archive
        self._root = root
        self._order: Literal["<", ">"] = ">" if big_endian else "<"
        self._cache: dict[str, _Storage] = {}

    def __call__(self, key: str, stype: _StorageType, numel: int) -> _Storage:
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if not re.fullmatch(r"[A-Za-z0-9_]+", key):
            raise UnsafePickleError(f"bad storage key {key!r:.40}")
        try:
            info = self._archive.getinfo(f"{self._root}/data/{key}")
        except KeyError as exc:
            raise ModelBuildError(f"storage {key!r} missing from checkpoint") from exc
        if info.file_size > _MAX_STORAGE_BYTES:
            raise ModelBuildError(f"storage {key!r} of {info.file_size} bytes is too large")
        raw = self._archive.read(info)
        dtype = stype.dtype.newbyteorder(self._order) if stype.dtype.itemsize > 1 else stype.dtype
        if numel < 0 or numel * dtype.itemsize > len(raw):
            raise ModelBuildError(f"storage {key!r}: {numel} elements do not fit {len(raw)} bytes")
        arr = np.frombuffer(raw, dtype=dtype, count=numel).astype(stype.dtype.newbyteorder("="))
        storage = _Storage(stype.name, arr)
        self._cache[key] = storage
        return storage


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint: the top-level object and helpers for YOLO-style models.

    Attributes:
        raw: The unpickled top-level object (a dict for YOLOv5/v7 checkpoints).
        path: Where it was read from.
    """

    raw: Any
    path: Path | None = None

    @property
    def model(self) -> ModuleRecord:
        """The model record (``raw['model']``, else ``raw['ema']``, else ``raw`` itself)."""
        candidates = (
            [self.raw.get(k) for k in ("model", "ema")] if isinstance(self.raw, dict) else []
        )
        for c in [*candidates, self.raw]:
            if isinstance(c, ModuleRecord):
                return c
        raise ModelBuildError("checkpoint holds no model record")

    @property
    def yaml(self) -> dict[str, Any]:
        """The architecture dict the model was built from (``model.yaml``)."""
        value = self.model.get("yaml")
        if not isinstance(value, dict):
            raise ModelBuildError("model record has no yaml architecture dict")
        return value

    @property
    def layers(self) -> list[ModuleRecord]:
        """Top-level layers in execution order (``model.model`` children)."""
        seq = self.model.children.get("model")
        if seq is None:
            raise ModelBuildError("model record has no 'model' layer sequence")
        return list(seq.children.values())

    @property
    def names(self) -> list[str]:
        """Class names indexed by class id."""
        names = self.model.get("names")
        if isinstance(names, dict):
            names = [names[k] for k in sorted(names)]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ModelBuildError("model record has no list of class names")
        return names

    @property
    def strides(self) -> list[float]:
        """Detection strides (``model.stride``), e.g. ``[8, 16, 32]``."""
        stride = self.model.get("stride")
        if not isinstance(stride, np.ndarray):
            raise ModelBuildError("model record has no stride tensor")
        return [float(s) for s in stride.reshape(-1)]

    def state_dict(self) -> dict[str, npt.NDArray[np.float32]]:
        """Floating-point parameters and buffers by dotted name, as float32."""
        return {
            name: arr.astype(np.float32)
            for name, arr in self.model.named_tensors()
            if np.issubdtype(arr.dtype, np.floating)
        }


def _archive_root(archive: zipfile.ZipFile) -> str:
    roots = [n[: -len("/data.pkl")] for n in archive.namelist() if n.endswith("/data.pkl")]
    roots = [r for r in roots if r and "/" not in r]
    if len(roots) != 1:
        raise ModelBuildError(f"expected one <root>/data.pkl in the archive, found {len(roots)}")
    return roots[0]


def load_checkpoint(path: Path) -> Checkpoint:
    """Load a torch ``.pt`` zip checkpoint (or a bare pickle) safely; see the module doc.

    Raises:
        UnsafePickleError: the pickle names a global outside the allow-list.
        ModelBuildError: the file is missing, not a checkpoint, or malformed.
    """
    try:
        is_zip = zipfile.is_zipfile(path)
        if not is_zip:
            return Checkpoint(loads_pickle(path.read_bytes()), path)
        with zipfile.ZipFile(path) as archive:
            root = _archive_root(archive)
            names = set(archive.namelist())
            big = (
                f"{root}/byteorder" in names and archive.read(f"{root}/byteorder").strip() == b"big"
            )
            info = archive.getinfo(f"{root}/data.pkl")
            if info.file_size > _MAX_PICKLE_BYTES:
                raise ModelBuildError(f"data.pkl of {info.file_size} bytes is larger than allowed")
            data = archive.read(info)
            raw = loads_pickle(data, _ZipStorages(archive, root, big))
    except OSError as exc:
        raise ModelBuildError(f"cannot read checkpoint {path}: {exc}") from exc
    except zipfile.BadZipFile as exc:
        raise ModelBuildError(f"corrupt checkpoint archive {path}: {exc}") from exc
    return Checkpoint(raw, path)
