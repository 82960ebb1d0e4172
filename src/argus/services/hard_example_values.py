"""Values of the hard-example queue's service: what collection keeps, counts, its background."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

__all__ = ["Background", "CollectPolicy", "Counters", "ExampleSummary"]


@dataclass(frozen=True, slots=True)
class CollectPolicy:
    """What collection keeps.

    Attributes:
        enabled: Whether anything is collected.
        max_queued: Most unlabelled examples per camera and source.
        frame_tolerance: Largest gap between the wanted moment and the frame
            (or the remembered boxes) used for it.
        retention: Examples captured longer ago are removed (not accepted ones);
            ``None`` keeps them.
    """

    enabled: bool = True
    max_queued: int = 500
    frame_tolerance: timedelta = timedelta(seconds=0.5)
    retention: timedelta | None = None


@dataclass(frozen=True, slots=True)
class ExampleSummary:
    """Counts of the examples a caller sees.

    Attributes:
        total: Every example.
        by_state: Per state (every state named, zero included).
        by_source: Per source (every source named).
        by_camera: Per camera that has any.
    """

    total: int
    by_state: Mapping[str, int]
    by_source: Mapping[str, int]
    by_camera: Mapping[str, int]


class Background(Protocol):
    """A background part started and stopped with the control plane."""

    def start(self) -> None:
        """Start it (once)."""
        ...

    async def stop(self) -> None:
        """Stop it."""
        ...


@dataclass(slots=True)
class Counters:
    """What collection did since start (for logs and tests)."""

    collected: int = 0
    duplicate: int = 0
    full: int = 0
    no_frame: int = 0
    failed: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
