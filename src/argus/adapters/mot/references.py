"""Reference trackers, for comparing Argus's tracker on the same input in the same run.

``supervision`` 0.27 ``sv.ByteTrack`` and the roboflow ``trackers`` package's
``ByteTrackTracker``, ``SORTTracker`` and ``OCSORTTracker`` (2.6.1), with their
default settings and the sequence's frame rate. Their inputs (``sv.Detections``)
are built before the timed update call and their outputs read after it. Both
packages emit deprecation warnings on import, which are silenced here only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.errors import ConfigError

__all__ = ["REFERENCE_TRACKERS", "ReferenceTracker", "reference_tracker"]


def _import(module: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return __import__(module, fromlist=["_"])
        except ImportError as exc:
            raise ConfigError(
                f"reference tracker needs the {module!r} package "
                "(make venv installs it with --no-deps)"
            ) from exc


def _sv_bytetrack(frame_rate: float) -> tuple[Any, Callable[[Any, Any], Any]]:
    sv = _import("supervision")
    tracker = sv.ByteTrack(frame_rate=round(frame_rate))
    return tracker, lambda t, d: t.update_with_detections(d)


def _trackers_bytetrack(frame_rate: float) -> tuple[Any, Callable[[Any, Any], Any]]:
    trackers = _import("trackers")
    return trackers.ByteTrackTracker(frame_rate=frame_rate), lambda t, d: t.update(d)


def _trackers_sort(frame_rate: float) -> tuple[Any, Callable[[Any, Any], Any]]:
    trackers = _import("trackers")
    return trackers.SORTTracker(frame_rate=frame_rate), lambda t, d: t.update(d)


def _trackers_ocsort(frame_rate: float) -> tuple[Any, Callable[[Any, Any], Any]]:
    trackers = _import("trackers")
    return trackers.OCSORTTracker(frame_rate=frame_rate), lambda t, d: t.update(d)


REFERENCE_TRACKERS: dict[str, Callable[[float], tuple[Any, Callable[[Any, Any], Any]]]] = {
    "sv-bytetrack": _sv_bytetrack,
    "trackers-bytetrack": _trackers_bytetrack,
    "trackers-sort": _trackers_sort,
    "trackers-ocsort": _trackers_ocsort,
}
"""Reference tracker names and their builders (tracker, update call) per frame rate."""


class ReferenceTracker:
    """A reference tracker behind the service's ``EvalTracker`` interface.

    Args:
        name: One of ``REFERENCE_TRACKERS``.
    """

    def __init__(self, name: str) -> None:
        if name not in REFERENCE_TRACKERS:
            known = ", ".join(REFERENCE_TRACKERS)
            raise ConfigError(f"unknown reference tracker {name!r} (known: {known})")
        self._name = name
        self._sv = _import("supervision")
        self._tracker: Any = None
        self._call: Callable[[Any, Any], Any] | None = None

    @property
    def name(self) -> str:
        """Name in reports."""
        return self._name

    def start(self, frame_rate: float) -> None:
        """Build a fresh tracker for a sequence."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._tracker, self._call = REFERENCE_TRACKERS[self._name](frame_rate)

    def prepare(self, detections: Detections) -> Any:
        """Build the ``sv.Detections`` input (writable copies, so no tracker sees ours)."""
        return self._sv.Detections(
            xyxy=np.array(detections.xyxy, dtype=np.float32),
            confidence=np.array(detections.confidence, dtype=np.float32),
            class_id=np.array(detections.class_id, dtype=int),
        )

    def update(self, prepared: Any) -> Any:
        """Track one frame (the timed call)."""
        if self._call is None:
            raise RuntimeError("start() must be called before update()")
        return self._call(self._tracker, prepared)

    def collect(self, output: Any) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Boxes and ids of the tracked output; untracked rows carry -1 and are dropped later."""
        xyxy = np.asarray(output.xyxy, dtype=np.float32).reshape(-1, 4)
        ids = output.tracker_id
        if ids is None:
            return xyxy[:0], np.zeros(0, dtype=np.int64)
        return xyxy, np.asarray(ids, dtype=np.int64).reshape(-1)


def reference_tracker(name: str) -> ReferenceTracker:
    """Return the reference tracker called ``name``."""
    return ReferenceTracker(name)
