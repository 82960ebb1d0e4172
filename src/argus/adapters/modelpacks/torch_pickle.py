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

Every other global raises :class:`~argus.domain.errors.UnsafePickleError` naming it, before
anything is called. Calling (REDUCE, INST, OBJ) a record class or a storage marker
is refused too, so the only code a pickle can reach is the handful of functions
defined here.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from argus.adapters.modelpacks.torch_records import ModuleRecord
from argus.adapters.modelpacks.torch_unpickler import (
    MAX_PICKLE_BYTES,
    MAX_STORAGE_BYTES,
    Storage,
    StorageType,
    loads_pickle,
)
from argus.domain.errors import ModelBuildError, UnsafePickleError

__all__ = [
    "Checkpoint",
    "ModuleRecord",
    "load_checkpoint",
    "loads_pickle",
]


class _ZipStorages:
    """Serves ``data/<key>`` entries of a torch zip as typed arrays, each read once."""

    def __init__(self, archive: zipfile.ZipFile, root: str, big_endian: bool) -> None:
        self._archive = archive
        self._root = root
        self._order: Literal["<", ">"] = ">" if big_endian else "<"
        self._cache: dict[str, Storage] = {}

    def __call__(self, key: str, stype: StorageType, numel: int) -> Storage:
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if not re.fullmatch(r"[A-Za-z0-9_]+", key):
            raise UnsafePickleError(f"bad storage key {key!r:.40}")
        try:
            info = self._archive.getinfo(f"{self._root}/data/{key}")
        except KeyError as exc:
            raise ModelBuildError(f"storage {key!r} missing from checkpoint") from exc
        if info.file_size > MAX_STORAGE_BYTES:
            raise ModelBuildError(f"storage {key!r} of {info.file_size} bytes is too large")
        raw = self._archive.read(info)
        dtype = stype.dtype.newbyteorder(self._order) if stype.dtype.itemsize > 1 else stype.dtype
        if numel < 0 or numel * dtype.itemsize > len(raw):
            raise ModelBuildError(f"storage {key!r}: {numel} elements do not fit {len(raw)} bytes")
        arr = np.frombuffer(raw, dtype=dtype, count=numel).astype(stype.dtype.newbyteorder("="))
        storage = Storage(stype.name, arr)
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
            if info.file_size > MAX_PICKLE_BYTES:
                raise ModelBuildError(f"data.pkl of {info.file_size} bytes is larger than allowed")
            data = archive.read(info)
            raw = loads_pickle(data, _ZipStorages(archive, root, big))
    except OSError as exc:
        raise ModelBuildError(f"cannot read checkpoint {path}: {exc}") from exc
    except zipfile.BadZipFile as exc:
        raise ModelBuildError(f"corrupt checkpoint archive {path}: {exc}") from exc
    return Checkpoint(raw, path)
