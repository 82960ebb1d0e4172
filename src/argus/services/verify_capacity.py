"""The shared capacity state of the verify hub, changed by compare-and-set.

The document holds :class:`argus.domain.capacity.CapacityManager`'s dict under
``manager``, and per admitted or waiting client a lease expiry (seconds since
the epoch) under ``leases`` and the owning hub's token under ``owners``. The
limits in force are the configured ones, whatever the document says (they may
have been changed since it was written).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeVar

from argus.domain.capacity import CapacityLimits, CapacityManager, Release
from argus.domain.errors import ArgusError, StorageError
from argus.ports.workstations import CapacityStore, VersionedState

__all__ = ["CapacityView", "Place", "SharedCapacity", "SharedState"]

T = TypeVar("T")

Place = Literal["assigned", "queued", "offline"]
"""Where a client is: served by a pipeline, waiting, or not connected."""

MAX_ATTEMPTS = 100
"""Compare-and-set attempts before giving up (another process keeps writing)."""


@dataclass(slots=True)
class SharedState:
    """The decoded document: the manager, leases and owners (mutable, for one change)."""

    manager: CapacityManager
    leases: dict[str, float]
    owners: dict[str, str]

    def document(self) -> dict[str, Any]:
        """The JSON document to store."""
        return {"manager": self.manager.to_dict(), "leases": self.leases, "owners": self.owners}

    def give_back(self, client_id: str, owner: str, now: float) -> Release | None:
        """Release the client's place if ``owner`` holds it (else ``None``: taken over)."""
        if self.owners.get(client_id) != owner:
            return None
        self.owners.pop(client_id, None)
        self.leases.pop(client_id, None)
        return self.manager.release(client_id, now)


@dataclass(frozen=True, slots=True)
class CapacityView:
    """The shared capacity state as the admin API shows it.

    Attributes:
        limits: The limits in force.
        pipelines: Running pipelines and their clients.
        queue: Waiting clients, first in line first.
    """

    limits: CapacityLimits
    pipelines: dict[int, tuple[str, ...]]
    queue: tuple[str, ...]

    def place(self, client_id: str) -> tuple[Place, int | None]:
        """``("assigned", pipeline)``, ``("queued", position)`` or ``("offline", None)``."""
        for number, clients in self.pipelines.items():
            if client_id in clients:
                return "assigned", number
        if client_id in self.queue:
            return "queued", self.queue.index(client_id) + 1
        return "offline", None


class SharedCapacity:
    """Reads and changes the shared document (see the module doc).

    Args:
        store: Where the document lives (the database or Redis).
        limits: The limits in force.
    """

    def __init__(self, store: CapacityStore, limits: CapacityLimits) -> None:
        self.store = store
        self.limits = limits
        self._lock = asyncio.Lock()

    def decode(self, stored: VersionedState | None) -> SharedState:
        """The state of a stored document (an empty one when nothing is stored).

        Raises:
            StorageError: The document does not parse.
        """
        if stored is None:
            return SharedState(CapacityManager(self.limits), {}, {})
        try:
            data = stored.state
            manager = CapacityManager.from_dict({**data["manager"], "limits": asdict(self.limits)})
            leases = {str(c): float(t) for c, t in data.get("leases", {}).items()}
            owners = {str(c): str(o) for c, o in data.get("owners", {}).items()}
        except (ArgusError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StorageError(f"the shared capacity state is unreadable: {exc}") from exc
        return SharedState(manager, leases, owners)

    async def read(self) -> SharedState:
        """The state now (not for changing: use ``change``)."""
        return self.decode(await self.store.load())

    async def view(self) -> CapacityView:
        """The state now, for display."""
        state = await self.read()
        return CapacityView(self.limits, state.manager.pipelines(), state.manager.queue())

    async def change(self, edit: Callable[[SharedState], tuple[T, bool]]) -> T:
        """Apply ``edit`` (it returns its result and whether it changed anything) by
        compare-and-set, reading again whenever another process wrote first.

        Raises:
            StorageError: The store failed, or others kept writing for every attempt.
        """
        async with self._lock:  # no contention with ourselves; other processes may race
            for attempt in range(MAX_ATTEMPTS):
                stored = await self.store.load()
                state = self.decode(stored)
                result, dirty = edit(state)
                if not dirty:
                    return result
                version = 0 if stored is None else stored.version
                if await self.store.save(state.document(), version):
                    return result
                await asyncio.sleep(0.005 * min(attempt + 1, 20))
        raise StorageError("the shared capacity state kept changing; try again")
