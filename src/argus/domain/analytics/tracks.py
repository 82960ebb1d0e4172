"""How long analytics remember a track that is no longer seen (their state stays bounded)."""

from __future__ import annotations

import math
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from argus.domain.detections import Detections
from argus.domain.errors import ConfigError

__all__ = ["Retention", "TrackSeen", "class_name_of"]

_T = TypeVar("_T", bound="TrackSeen")


class TrackSeen(Protocol):
    """Per-track state that records when its track was last observed."""

    last_frame: int
    last_time: float


@dataclass(frozen=True, slots=True)
class Retention:
    """When to forget a track that has not been observed.

    A track is forgotten once it has been missing for more than
    ``max_missing_frames`` calls of the analytics' verb, or for more than
    ``max_missing_seconds`` of stream time, whichever comes first. At least
    one of the two must be set, so the state of every analytics object stays
    bounded however many track ids pass by.

    Attributes:
        max_missing_frames: Frames a track may be missing, or ``None``.
        max_missing_seconds: Seconds a track may be missing, or ``None``.
    """

    max_missing_frames: int | None = 30
    max_missing_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.max_missing_frames is None and self.max_missing_seconds is None:
            raise ConfigError(
                "set max_missing_frames or max_missing_seconds (state must be bounded)"
            )
        if self.max_missing_frames is not None and self.max_missing_frames < 0:
            raise ConfigError("max_missing_frames must be >= 0")
        if self.max_missing_seconds is not None and not (
            math.isfinite(self.max_missing_seconds) and self.max_missing_seconds >= 0
        ):
            raise ConfigError("max_missing_seconds must be a finite number >= 0")

    def expired(self, seen: TrackSeen, frame: int, now: float) -> bool:
        """Return whether a track last seen as ``seen`` is to be forgotten at ``frame``/``now``."""
        if (
            self.max_missing_frames is not None
            and frame - seen.last_frame > self.max_missing_frames
        ):
            return True
        return (
            self.max_missing_seconds is not None and now - seen.last_time > self.max_missing_seconds
        )

    def sweep(
        self, tracks: MutableMapping[int, _T], frame: int, now: float
    ) -> list[tuple[int, _T]]:
        """Remove and return the expired tracks of ``tracks`` (in id order)."""
        stale = sorted(tid for tid, seen in tracks.items() if self.expired(seen, frame, now))
        return [(tid, tracks.pop(tid)) for tid in stale]


def class_name_of(detections: Detections, class_id: int) -> str:
    """Return the name of ``class_id`` in a detection set, or the id as text."""
    names = detections.class_names
    return names[class_id] if 0 <= class_id < len(names) else str(class_id)
