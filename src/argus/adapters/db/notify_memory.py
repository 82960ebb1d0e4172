"""Notification channels, routes and the outbox in memory: the fake and the contract's reference.

Dicts of frozen values with the semantics of ``notify_sql`` and
``notify_outbox_sql``: channel names are unique, updates are optimistic on
``version``, enqueueing is idempotent on ``dedupe_key``, claims lease due items,
and ``record`` refuses an attempt number already counted. Secrets are kept in
clear (the process's own memory); only the SQL store encrypts them. Each
repository is given its store's ``check`` (raises ``StorageError`` once closed).
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from argus.adapters.db.notify_common import (
    check_claim,
    check_list,
    check_record,
    encode_cursor,
    recorded,
)
from argus.domain.checks import aware_utc
from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.notify import (
    NOTIFICATION_STATES,
    Channel,
    DeliveryAttempt,
    Notification,
    NotificationState,
    Route,
)
from argus.ports.paging import Page, check_page

__all__ = [
    "MemoryChannelRepository",
    "MemoryNotificationOutbox",
    "MemoryNotifyStore",
    "MemoryRouteRepository",
]


class _Versioned(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...

    @property
    def created_at(self) -> datetime: ...


V = TypeVar("V", bound=_Versioned)


class _VersionedDict(Generic[V]):
    """Entities by id, in creation order, updated optimistically."""

    def __init__(self, kind: str, check: Callable[[], None]) -> None:
        self._kind = kind
        self._check = check
        self.items: dict[str, V] = {}

    def _unique(self, value: V) -> None:
        """Refuse a value that clashes with another stored one (none by default)."""

    async def add(self, value: V) -> None:
        self._check()
        if value.id in self.items:
            raise ConflictError(f"{self._kind} {value.id} exists")
        self._unique(value)
        self.items[value.id] = value

    async def get(self, entity_id: str) -> V:
        self._check()
        if entity_id not in self.items:
            raise NotFoundError(f"no {self._kind} {entity_id}")
        return self.items[entity_id]

    async def list(self, *, limit: int = 100, offset: int = 0) -> Page[V]:
        self._check()
        check_page(limit, offset)
        ordered = sorted(self.items.values(), key=lambda v: (v.created_at, v.id))
        return Page(tuple(ordered[offset : offset + limit]), len(ordered))

    async def update(self, value: V) -> None:
        self._check()
        stored = self.items.get(value.id)
        if stored is None:
            raise NotFoundError(f"no {self._kind} {value.id}")
        if stored.version != value.version - 1:
            raise ConflictError(
                f"{self._kind} {value.id} is at version {stored.version}, "
                f"not {value.version - 1}: it changed meanwhile"
            )
        self._unique(value)
        self.items[value.id] = value

    async def delete(self, entity_id: str) -> None:
        self._check()
        if self.items.pop(entity_id, None) is None:
            raise NotFoundError(f"no {self._kind} {entity_id}")


class MemoryChannelRepository(_VersionedDict[Channel]):
    """Channels in a dict (see ``ChannelRepository``); names are unique."""

    def __init__(self, check: Callable[[], None]) -> None:
        super().__init__("channel", check)

    def _unique(self, value: Channel) -> None:
        if any(c.name == value.name and c.id != value.id for c in self.items.values()):
            raise ConflictError(f"a channel named {value.name!r} exists")


class MemoryRouteRepository(_VersionedDict[Route]):
    """Routes in a dict (see ``RouteRepository``)."""

    def __init__(self, check: Callable[[], None]) -> None:
        super().__init__("route", check)


class MemoryNotificationOutbox:
    """The outbox in dicts (see ``NotificationOutbox``)."""

    def __init__(self, check: Callable[[], None]) -> None:
        self._check = check
        self.items: dict[str, Notification] = {}
        self.keys: dict[str, str] = {}
        self.attempts: dict[str, tuple[DeliveryAttempt, ...]] = {}

    def _known(self, notification_id: str) -> Notification:
        item = self.items.get(notification_id)
        if item is None:
            raise NotFoundError(f"no notification {notification_id}")
        return item

    async def enqueue(self, items: Sequence[Notification]) -> int:
        self._check()
        stored = 0
        for item in items:
            if item.id in self.items or item.dedupe_key in self.keys:
                continue
            self.items[item.id] = item
            self.keys[item.dedupe_key] = item.id
            stored += 1
        return stored

    async def claim_due(
        self,
        now: datetime,
        *,
        owner: str,
        lease_s: float,
        limit: int,
        exclude_channels: Collection[str] = (),
    ) -> builtins.list[Notification]:
        self._check()
        now, excluded = check_claim(now, owner, lease_s, limit, exclude_channels)
        due = sorted(
            (
                item
                for item in self.items.values()
                if item.state == "pending"
                and item.next_attempt_at <= now
                and (item.leased_until is None or item.leased_until <= now)
                and item.channel_id not in excluded
            ),
            key=lambda item: (item.next_attempt_at, item.id),
        )[:limit]
        until = now + timedelta(seconds=lease_s)
        claimed = [dataclasses.replace(i, leased_until=until, lease_owner=owner) for i in due]
        self.items.update((item.id, item) for item in claimed)
        return claimed

    async def record(
        self,
        attempt: DeliveryAttempt,
        *,
        state: NotificationState,
        next_attempt_at: datetime | None,
        error: str | None,
    ) -> Notification:
        self._check()
        next_at = check_record(state, next_attempt_at)
        item = self._known(attempt.notification_id)
        changes: dict[str, Any] = recorded(item, attempt, state, next_at, error)
        updated = dataclasses.replace(item, **changes)
        self.items[item.id] = updated
        self.attempts[item.id] = (*self.attempts.get(item.id, ()), attempt)
        return updated

    async def get(self, notification_id: str) -> Notification:
        self._check()
        return self._known(notification_id)

    async def deliveries(
        self, alert_id: str
    ) -> builtins.list[tuple[Notification, tuple[DeliveryAttempt, ...]]]:
        self._check()
        items = sorted(
            (item for item in self.items.values() if item.alert_id == alert_id),
            key=lambda item: (item.created_at, item.id),
        )
        return [(item, self.attempts.get(item.id, ())) for item in items]

    async def list(
        self,
        *,
        state: NotificationState | None = None,
        channel_id: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Notification]:
        self._check()
        after = check_list(state, limit, cursor)
        matching = [
            item
            for item in self.items.values()
            if (state is None or item.state == state)
            and (channel_id is None or item.channel_id == channel_id)
        ]
        matching.sort(key=lambda item: (item.created_at, item.id), reverse=True)
        page = [item for item in matching if after is None or (item.created_at, item.id) < after][
            : limit + 1
        ]
        items = tuple(page[:limit])
        more = len(page) > limit
        next_cursor = encode_cursor(items[-1].created_at, items[-1].id) if more else None
        return Page(items, len(matching), next_cursor)

    async def retry(self, notification_id: str, now: datetime) -> Notification:
        self._check()
        now = aware_utc(now, "now")
        item = self._known(notification_id)
        if item.state != "dead":
            raise ConflictError(f"notification {notification_id} is {item.state}, not dead")
        updated = dataclasses.replace(
            item, state="pending", next_attempt_at=now, leased_until=None, lease_owner=None
        )
        self.items[item.id] = updated
        return updated

    async def counts(self) -> Mapping[str, int]:
        self._check()
        counted: dict[str, int] = dict.fromkeys(NOTIFICATION_STATES, 0)
        for item in self.items.values():
            counted[item.state] += 1
        return counted

    async def prune_before(self, cutoff: datetime, *, limit: int) -> int:
        self._check()
        cutoff = aware_utc(cutoff, "cutoff")
        check_page(limit)
        old = sorted(
            (
                item
                for item in self.items.values()
                if item.state in ("delivered", "dead") and item.created_at < cutoff
            ),
            key=lambda item: (item.created_at, item.id),
        )[:limit]
        for item in old:
            del self.items[item.id]
            self.keys.pop(item.dedupe_key, None)
            self.attempts.pop(item.id, None)
        return len(old)


class MemoryNotifyStore:
    """The notification side of the memory store (see ``NotifyStore``).

    Args:
        check: Raises ``StorageError`` once the store is closed.
    """

    def __init__(self, check: Callable[[], None]) -> None:
        self._channels = MemoryChannelRepository(check)
        self._routes = MemoryRouteRepository(check)
        self._outbox = MemoryNotificationOutbox(check)

    @property
    def channels(self) -> MemoryChannelRepository:
        """Stored channels."""
        return self._channels

    @property
    def routes(self) -> MemoryRouteRepository:
        """Stored routes."""
        return self._routes

    @property
    def outbox(self) -> MemoryNotificationOutbox:
        """The durable outbox."""
        return self._outbox

    def tables(self) -> tuple[dict[str, Any], ...]:
        """Every container a unit of work may change (restored on rollback)."""
        outbox = self._outbox
        return (
            self._channels.items,
            self._routes.items,
            outbox.items,
            outbox.keys,
            outbox.attempts,
        )
