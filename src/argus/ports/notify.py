"""Notification ports: stored channels and routes, the durable outbox, and senders.

The conventions of ``argus.ports.repositories`` hold: every method is one
transaction; unknown ids raise ``NotFoundError``; taken ids ``ConflictError``;
a failing database ``StorageError``. Channels and routes are updated
optimistically: ``update`` stores the value only over the stored version
``version - 1`` and raises ``ConflictError`` otherwise.

The outbox is the one place delivery state lives, so it survives restarts:

* ``enqueue`` is idempotent on ``Notification.dedupe_key`` (a second item with
  a stored key is skipped, never an error), so replaying the decision to notify
  never sends twice;
* ``claim_due`` leases due items to one dispatcher (``owner``) for ``lease_s``
  seconds; a dispatcher that dies loses its lease and another one takes over;
* ``record`` appends an attempt and moves the item on (``pending`` again with a
  later ``next_attempt_at``, ``delivered`` or ``dead``), clearing the lease.

Stores keep channel secrets encrypted at rest; what they return has them in
clear for the senders, and the API shows only whether each is set.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from argus.domain.notify import (
    Channel,
    ChannelKind,
    DeliveryAttempt,
    DeliveryError,
    Message,
    Notification,
    NotificationState,
    Route,
)
from argus.ports.paging import Page

__all__ = [
    "ChannelRepository",
    "DeliveryError",
    "Message",
    "NotificationOutbox",
    "NotifyStore",
    "RouteRepository",
    "Sender",
]


@runtime_checkable
class ChannelRepository(Protocol):
    """Stored notification channels."""

    async def add(self, channel: Channel) -> None:
        """Store a new channel (``ConflictError`` if its id or name is taken)."""
        ...

    async def get(self, channel_id: str) -> Channel:
        """Return a channel, secrets in clear (``NotFoundError`` if unknown)."""
        ...

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[Channel]:
        """Channels in creation order (then id)."""
        ...

    async def update(self, channel: Channel) -> None:
        """Store ``channel`` over the stored version ``channel.version - 1``.

        Raises:
            NotFoundError: Unknown id.
            ConflictError: The stored version is not ``channel.version - 1``,
                or the new name is taken.
        """
        ...

    async def delete(self, channel_id: str) -> None:
        """Delete a channel (``NotFoundError`` if unknown); its outbox items stay."""
        ...


@runtime_checkable
class RouteRepository(Protocol):
    """Stored notification routes."""

    async def add(self, route: Route) -> None:
        """Store a new route (``ConflictError`` if its id is taken)."""
        ...

    async def get(self, route_id: str) -> Route:
        """Return a route (``NotFoundError`` if unknown)."""
        ...

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[Route]:
        """Routes in creation order (then id)."""
        ...

    async def update(self, route: Route) -> None:
        """Store ``route`` over the stored version ``route.version - 1``.

        Raises:
            NotFoundError: Unknown id.
            ConflictError: The stored version is not ``route.version - 1``.
        """
        ...

    async def delete(self, route_id: str) -> None:
        """Delete a route (``NotFoundError`` if unknown)."""
        ...


@runtime_checkable
class NotificationOutbox(Protocol):
    """Durable notification items and their delivery attempts."""

    async def enqueue(self, items: Sequence[Notification]) -> int:
        """Store new items; returns how many were stored.

        An item whose ``dedupe_key`` (or id) is already stored is skipped, never an error.
        """
        ...

    async def claim_due(
        self,
        now: datetime,
        *,
        owner: str,
        lease_s: float,
        limit: int,
        exclude_channels: Collection[str] = (),
    ) -> list[Notification]:
        """Lease up to ``limit`` due items to ``owner`` for ``lease_s`` seconds.

        Due: ``pending``, ``next_attempt_at <= now``, not leased or the lease
        expired, channel not in ``exclude_channels``; oldest ``next_attempt_at``
        first. The returned items carry the new lease.
        """
        ...

    async def record(
        self,
        attempt: DeliveryAttempt,
        *,
        state: NotificationState,
        next_attempt_at: datetime | None,
        error: str | None,
    ) -> Notification:
        """Append ``attempt`` and move its item on; returns the updated item.

        Sets ``attempts`` to ``attempt.number``, ``state``, ``next_attempt_at``
        (kept when ``None``), ``last_error`` to ``error``, ``delivered_at`` to
        ``attempt.at`` when delivered, and clears the lease.

        Raises:
            NotFoundError: The item is unknown.
            ConflictError: ``attempt.number`` is not beyond the attempts already
                recorded (another dispatcher recorded this attempt).
        """
        ...

    async def get(self, notification_id: str) -> Notification:
        """Return one item (``NotFoundError`` if unknown)."""
        ...

    async def deliveries(
        self, alert_id: str
    ) -> list[tuple[Notification, tuple[DeliveryAttempt, ...]]]:
        """Every item about ``alert_id`` with its attempts (oldest item first)."""
        ...

    async def list(
        self,
        *,
        state: NotificationState | None = None,
        channel_id: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Notification]:
        """Items, newest first (by ``created_at``, then id), keyset-paginated by ``cursor``.

        Raises:
            ValidationError: A bad ``limit`` or an unreadable ``cursor``.
        """
        ...

    async def retry(self, notification_id: str, now: datetime) -> Notification:
        """Move a ``dead`` item back to ``pending``, due at ``now``; attempts are kept.

        Raises:
            NotFoundError: Unknown id.
            ConflictError: The item is not dead.
        """
        ...

    async def counts(self) -> Mapping[str, int]:
        """How many items are in each state (every state named, zeros included)."""
        ...

    async def prune_before(self, cutoff: datetime, *, limit: int) -> int:
        """Delete up to ``limit`` delivered or dead items created before ``cutoff``.

        Their attempts go with them; returns how many items were deleted.
        """
        ...


@runtime_checkable
class NotifyStore(Protocol):
    """The notification side of a database."""

    @property
    def channels(self) -> ChannelRepository:
        """Stored channels."""
        ...

    @property
    def routes(self) -> RouteRepository:
        """Stored routes."""
        ...

    @property
    def outbox(self) -> NotificationOutbox:
        """The durable outbox."""
        ...


@runtime_checkable
class Sender(Protocol):
    """Delivers rendered messages over channels of one kind."""

    kind: ChannelKind

    async def send(self, channel: Channel, message: Message) -> None:
        """Deliver ``message`` over ``channel``.

        Raises:
            DeliveryError: Not delivered; ``permanent`` when retrying cannot help.
        """
        ...
