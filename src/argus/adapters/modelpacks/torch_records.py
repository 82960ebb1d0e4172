"""Inert records of the model-code classes a torch checkpoint pickles.

A checkpoint's pickle names classes of the model code that wrote it
(``models.common.Conv``). The unpickler (``torch_unpickler``) never imports
them: each such global becomes a ``ModuleRecord`` subclass that only stores the
pickled ``__dict__`` and refuses to be called.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from argus.domain.errors import UnsafePickleError

__all__ = ["RECORD_MODULE_PREFIXES", "ModuleRecord", "is_record_global", "record_class"]

#: Module paths whose CapWords globals are turned into inert records.
RECORD_MODULE_PREFIXES: tuple[str, ...] = ("models.", "utils.", "torch.nn.modules.")
_MODULE_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_CLASS_NAME = re.compile(r"[A-Z][A-Za-z0-9_]*\Z")


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


def record_class(path: str) -> type[ModuleRecord]:
    """The record class standing for the model-code class at ``path`` (one per path)."""
    cls = _RECORD_CLASSES.get(path)
    if cls is None:
        name = path.rsplit(".", 1)[-1]
        cls = type(name, (ModuleRecord,), {"class_path": path, "__module__": __name__})
        _RECORD_CLASSES[path] = cls
    return cls


def is_record_global(module: str, name: str) -> bool:
    """Whether ``module.name`` is a model-code class that becomes a record."""
    return (
        module.startswith(RECORD_MODULE_PREFIXES)
        and _MODULE_PATH.match(module) is not None
        and _CLASS_NAME.match(name) is not None
    )
