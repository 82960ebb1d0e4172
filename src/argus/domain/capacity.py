"""Capacity management: clients to pipelines, a waiting queue, and idle scale-down.

Admission fills the busiest pipeline that still has room (packing clients keeps
other pipelines empty so they can scale down), starts a new pipeline below
``max_pipelines``, queues the client while the queue has room, and otherwise
rejects it with "system full". Blocked and paused clients are refused. Releasing a
client promotes the head of the queue into the freed slot and reports everyone's
new position. A pipeline left without clients for ``idle_seconds`` is removed by
:meth:`CapacityManager.scale_down`. Time is passed in; nothing reads a clock.

The whole state is a plain dict (:meth:`CapacityManager.to_dict`) so it can be
stored in a database or Redis and shared by several server processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argus.domain.errors import ValidationError

__all__ = [
    "Admission",
    "Assigned",
    "CapacityLimits",
    "CapacityManager",
    "Queued",
    "Rejected",
    "Release",
]

SYSTEM_FULL = "system full"


@dataclass(frozen=True, slots=True)
class CapacityLimits:
    """The system's limits.

    Attributes:
        max_clients_per_pipeline: Clients one pipeline serves.
        max_pipelines: Pipelines that may run at once.
        max_queue: Clients that may wait.
        idle_seconds: How long an empty pipeline lives on.
    """

    max_clients_per_pipeline: int = 8
    max_pipelines: int = 2
    max_queue: int = 16
    idle_seconds: float = 60.0

    def __post_init__(self) -> None:
        if min(self.max_clients_per_pipeline, self.max_pipelines) < 1 or self.max_queue < 0:
            raise ValidationError("need at least one pipeline and one client per pipeline")
        if self.idle_seconds < 0:
            raise ValidationError("idle_seconds must not be negative")


@dataclass(frozen=True, slots=True)
class Assigned:
    """The client is served by ``pipeline``."""

    pipeline: int


@dataclass(frozen=True, slots=True)
class Queued:
    """The client waits; ``position`` 1 is next."""

    position: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """The client was turned away."""

    reason: str


Admission = Assigned | Queued | Rejected


@dataclass(frozen=True, slots=True)
class Release:
    """What releasing a client changed.

    Attributes:
        promoted: ``(client, pipeline)`` for clients moved from the queue to a pipeline.
        positions: New queue position of every client still waiting.
    """

    promoted: tuple[tuple[str, int], ...]
    positions: dict[str, int]


class CapacityManager:
    """Who runs where and who waits (see the module doc).

    Args:
        limits: The system's limits.
    """

    def __init__(self, limits: CapacityLimits | None = None) -> None:
        self.limits = limits if limits is not None else CapacityLimits()
        self._pipelines: dict[int, list[str]] = {}
        self._idle_since: dict[int, float] = {}
        self._queue: list[str] = []
        self._refused: dict[str, str] = {}

    # -- queries ---------------------------------------------------------------------------

    def pipelines(self) -> dict[int, tuple[str, ...]]:
        """Running pipelines and their clients."""
        return {p: tuple(c) for p, c in sorted(self._pipelines.items())}

    def queue(self) -> tuple[str, ...]:
        """Waiting clients, first in line first."""
        return tuple(self._queue)

    def status(self, client: str) -> Admission | None:
        """Where ``client`` is now, or ``None`` when unknown."""
        for pipeline, clients in self._pipelines.items():
            if client in clients:
                return Assigned(pipeline)
        if client in self._queue:
            return Queued(self._queue.index(client) + 1)
        return None

    # -- verbs -----------------------------------------------------------------------------

    def refuse(self, client: str, reason: str) -> Release:
        """Mark ``client`` blocked or paused (``reason``) and release it if it was admitted."""
        self._refused[client] = reason
        return self.release(client, None)

    def allow(self, client: str) -> None:
        """Lift a block or pause."""
        self._refused.pop(client, None)

    def admit(self, client: str) -> Admission:
        """Assign ``client`` to a pipeline, queue it, or reject it."""
        if client in self._refused:
            return Rejected(f"client is {self._refused[client]}")
        current = self.status(client)
        if current is not None:
            return current
        room = [
            p for p, c in self._pipelines.items() if len(c) < self.limits.max_clients_per_pipeline
        ]
        if room and not self._queue:
            pipeline = max(room, key=lambda p: (len(self._pipelines[p]), -p))
            return self._assign(client, pipeline)
        if len(self._pipelines) < self.limits.max_pipelines and not self._queue:
            pipeline = min(set(range(len(self._pipelines) + 1)) - set(self._pipelines))
            self._pipelines[pipeline] = []
            return self._assign(client, pipeline)
        if len(self._queue) < self.limits.max_queue:
            self._queue.append(client)
            return Queued(len(self._queue))
        return Rejected(SYSTEM_FULL)

    def release(self, client: str, now: float | None) -> Release:
        """Remove ``client`` (it left); promote waiting clients into the freed slot.

        Args:
            client: The leaving client.
            now: The time, to start an emptied pipeline's idle clock (``None``: 0).
        """
        promoted: list[tuple[str, int]] = []
        if client in self._queue:
            self._queue.remove(client)
        for pipeline, clients in self._pipelines.items():
            if client in clients:
                clients.remove(client)
                while self._queue and len(clients) < self.limits.max_clients_per_pipeline:
                    head = self._queue.pop(0)
                    clients.append(head)
                    promoted.append((head, pipeline))
                if not clients:
                    self._idle_since[pipeline] = 0.0 if now is None else now
                break
        return Release(tuple(promoted), {c: i + 1 for i, c in enumerate(self._queue)})

    def scale_down(self, now: float) -> tuple[int, ...]:
        """Remove pipelines empty for at least ``idle_seconds``; return their ids."""
        gone = tuple(
            p
            for p, clients in sorted(self._pipelines.items())
            if not clients
            and p in self._idle_since
            and now - self._idle_since[p] >= self.limits.idle_seconds
        )
        for p in gone:
            del self._pipelines[p]
            del self._idle_since[p]
        return gone

    def _assign(self, client: str, pipeline: int) -> Assigned:
        self._pipelines[pipeline].append(client)
        self._idle_since.pop(pipeline, None)
        return Assigned(pipeline)

    # -- persistence -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The state as plain JSON-compatible data."""
        return {
            "limits": {
                "max_clients_per_pipeline": self.limits.max_clients_per_pipeline,
                "max_pipelines": self.limits.max_pipelines,
                "max_queue": self.limits.max_queue,
                "idle_seconds": self.limits.idle_seconds,
            },
            "pipelines": {str(p): list(c) for p, c in sorted(self._pipelines.items())},
            "idle_since": {str(p): t for p, t in sorted(self._idle_since.items())},
            "queue": list(self._queue),
            "refused": dict(self._refused),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CapacityManager:
        """Rebuild a manager from :meth:`to_dict` output."""
        try:
            manager = cls(CapacityLimits(**data["limits"]))
            manager._pipelines = {
                int(p): [str(c) for c in cs] for p, cs in data["pipelines"].items()
            }
            manager._idle_since = {int(p): float(t) for p, t in data["idle_since"].items()}
            manager._queue = [str(c) for c in data["queue"]]
            manager._refused = {str(c): str(r) for c, r in data["refused"].items()}
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValidationError(f"not a capacity state: {exc}") from exc
        return manager
