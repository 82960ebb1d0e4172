"""A memo of per-frame liveness measurements, so a sliding window measures each frame once.

:class:`argus.services.verification.FrameAnalyzer` scores a window of the last 8
frames on (nearly) every frame: without a memo each frame pair's tracks and each
frame's texture would be measured up to 8 times. The memo keys a measurement on
the identity of the frame arrays it came from (plus the face box and any other
input) and holds the frames only weakly, so an entry can never outlive its frame
and be confused with a new array at the same address: a hit requires every
weakly held frame to still be the very object passed in. Frames must not be
modified in place after they were measured (decoded frames never are).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["FrameMemo"]

T = TypeVar("T")


class FrameMemo:
    """Measurements keyed by the frames they were taken from (weakly held).

    Args:
        limit: Entries kept at most; past it the dead entries are dropped, and
            all of them if that is not enough.
    """

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._entries: dict[Hashable, tuple[tuple[weakref.ref[Any], ...], Any]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(
        self,
        kind: str,
        frames: Sequence[npt.NDArray[np.uint8]],
        extra: Hashable,
        compute: Callable[[], T],
    ) -> T:
        """The memoised value of ``compute()`` for these frame objects and ``extra``."""
        key = (kind, tuple(id(f) for f in frames), extra)
        with self._lock:
            found = self._entries.get(key)
        if found is not None and all(r() is f for r, f in zip(found[0], frames, strict=True)):
            return found[1]  # type: ignore[no-any-return]
        value = compute()
        refs = tuple(weakref.ref(f) for f in frames)
        with self._lock:
            if len(self._entries) >= self._limit:
                self._prune()
            self._entries[key] = (refs, value)
        return value

    def _prune(self) -> None:
        alive = {k: v for k, v in self._entries.items() if all(r() is not None for r in v[0])}
        self._entries = alive if len(alive) < self._limit else {}
