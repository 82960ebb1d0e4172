"""Detectors shared between a worker's cameras: one per distinct detect setting.

An ONNX Runtime session may be run from several threads at once, so cameras
with the same model and settings share one, across restarts too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from argus.ports.detector import Detector
from argus.scene import DetectSpec

__all__ = ["DetectorCache"]


class DetectorCache:
    """One detector per distinct detect setting, built on first use (thread-safe).

    Args:
        build: Builds the detector of a detect setting.
    """

    def __init__(self, build: Callable[[DetectSpec], Detector]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._detectors: dict[object, Detector] = {}

    @staticmethod
    def _key(spec: DetectSpec) -> object:
        # ``fps`` does not change the detector, so cameras at different rates share it.
        return (
            spec.model,
            spec.input_size,
            spec.confidence,
            spec.iou,
            spec.classes,
            tuple(sorted(spec.class_confidence.items())),
        )

    def get(self, spec: DetectSpec) -> Detector:
        """The detector of ``spec``, built on its first use."""
        key = self._key(spec)
        with self._lock:
            detector = self._detectors.get(key)
            if detector is None:
                detector = self._build(spec)
                self._detectors[key] = detector
            return detector
