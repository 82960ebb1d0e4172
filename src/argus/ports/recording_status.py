"""Continuous recording as the API sees it: whether it is on, and each camera's recorder.

``argus.bootstrap.recording.RecordingRuntime`` implements it over the
recorders of ``argus serve``; the readiness check, ``/metrics`` and the
recordings API read it.
"""

from __future__ import annotations

from typing import Protocol

from argus.domain.recording import RecordingStatus

__all__ = ["RecordingMonitor"]


class RecordingMonitor(Protocol):
    """Reads the state of this server's continuous recording."""

    @property
    def enabled(self) -> bool:
        """Whether this server records (``ARGUS_RECORDING``)."""
        ...

    def status(self, camera_id: str) -> RecordingStatus | None:
        """The camera's recording, ``None`` when recording is off or the camera is unknown."""
        ...

    def statuses(self) -> list[RecordingStatus]:
        """Every camera's recording (cameras with segments on disk included), by camera id."""
        ...
