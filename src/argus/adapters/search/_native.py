"""Make the C++ runtime shared before usearch's extension loads.

usearch's compiled module links its own copy of libstdc++ statically and
exports that copy's symbols, among them the ``STB_GNU_UNIQUE`` ones (the ids of
the locale facets) that the dynamic linker binds process-wide whatever
``RTLD_LOCAL`` says. A C++ extension loaded after it that uses the system
``libstdc++.so.6`` (ONNX Runtime, on its first import) then mixes the two
runtimes and crashes in ``std::codecvt`` with a segmentation fault, on any
thread. Loading the system ``libstdc++.so.6`` globally first makes every later
extension, usearch included, bind to that one copy. Without glibc's
libstdc++ (macOS, musl) there is nothing to do.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

__all__ = ["CXX_RUNTIME", "share_cxx_runtime"]

log = logging.getLogger(__name__)


def share_cxx_runtime() -> str | None:
    """Load the system ``libstdc++`` with ``RTLD_GLOBAL``; its name, or ``None`` if absent."""
    name = ctypes.util.find_library("stdc++")
    for candidate in ("libstdc++.so.6", name):
        if not candidate:
            continue
        try:
            ctypes.CDLL(candidate, mode=ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        return candidate
    log.debug("no system libstdc++ to share: usearch keeps its own runtime")
    return None


CXX_RUNTIME = share_cxx_runtime()
