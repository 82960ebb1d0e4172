"""The notification outbox in SQL (see ``argus.ports.notify.NotificationOutbox``).

Items live in ``notifications`` (``dedupe_key`` unique: enqueueing is insert-or-
ignore), their attempts in ``notification_attempts``. Claiming selects due
ids and leases them in one transaction: on PostgreSQL the select locks its rows
(``FOR UPDATE SKIP LOCKED``, so concurrent claimers take different items); on
SQLite the transaction holds the write lock from its start. The lease update
re-checks that each item is still due, so two dispatchers never lease one item.

``record`` updates only while the stored attempt count is below the attempt's
number, and the attempt's key is ``(notification, number)``, so two dispatchers
recording the same attempt conflict instead of counting twice.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from argus.adapters.db._sqlcore import Bind, count_rows, insert_for, transaction
from argus.adapters.db.notify_common import (
    check_claim,
    check_list,
    check_record,
    encode_cursor,
    recorded,
)
from argus.adapters.db.tables_notify import notification_attempts, notifications
from argus.domain.checks import aware_utc
from argus.domain.errors import ConflictError, NotFoundError, StorageError
from argus.domain.notify import (
    NOTIFICATION_STATES,
    DeliveryAttempt,
    Notification,
    NotificationState,
)
from argus.ports.paging import Page, check_page

__all__ = ["SqlNotificationOutbox"]

_BATCH = 500

Row = sa.Row[Any]


def _notification_row(item: Notification) -> dict[str, Any]:
    doc = item.to_dict()
    row = {name: getattr(item, name) for name in notifications.c.keys()}  # noqa: SIM118
    row["recipients"], row["payload"] = doc["recipients"], doc["payload"]
    return row


def _notification(row: Row) -> Notification:
    values = dict(row._mapping)
    values["recipients"] = tuple(values["recipients"])
    try:
        return Notification(**values)
    except (ValueError, TypeError) as exc:
        raise StorageError(f"a stored notification is unreadable: {exc}") from exc


def _attempt(row: Row) -> DeliveryAttempt:
    return DeliveryAttempt(**dict(row._mapping))


class SqlNotificationOutbox:
    """The outbox in ``notifications`` and ``notification_attempts``."""

    def __init__(self, engine: Bind) -> None:
        self._engine = engine
        self._insert = insert_for(engine)

    async def enqueue(self, items: Sequence[Notification]) -> int:
        stored = 0
        async with transaction(self._engine, "enqueueing notifications") as connection:
            for start in range(0, len(items), _BATCH):
                rows = [_notification_row(item) for item in items[start : start + _BATCH]]
                statement = (
                    self._insert(notifications)
                    .values(rows)
                    .on_conflict_do_nothing()
                    .returning(notifications.c.id)
                )
                stored += len((await connection.execute(statement)).all())
        return stored

    async def claim_due(
        self,
        now: datetime,
        *,
        owner: str,
        lease_s: float,
        limit: int,
        exclude_channels: Collection[str] = (),
    ) -> list[Notification]:
        now, excluded = check_claim(now, owner, lease_s, limit, exclude_channels)
        due = [
            notifications.c.state == "pending",
            notifications.c.next_attempt_at <= now,
            sa.or_(notifications.c.leased_until.is_(None), notifications.c.leased_until <= now),
        ]
        if excluded:
            due.append(notifications.c.channel_id.not_in(sorted(excluded)))
        candidates = (
            sa.select(notifications.c.id)
            .where(*due)
            .order_by(notifications.c.next_attempt_at, notifications.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with transaction(self._engine, "claiming notifications") as connection:
            if connection.dialect.name == "sqlite":
                # Take the write lock before reading, so the update below cannot meet a
                # snapshot another claimer made stale (SQLITE_BUSY_SNAPSHOT).
                await connection.execute(
                    sa.update(notifications).where(sa.false()).values(id=notifications.c.id)
                )
            ids = list((await connection.execute(candidates)).scalars())
            if not ids:
                return []
            statement = (
                sa.update(notifications)
                .where(notifications.c.id.in_(ids), *due)
                .values(leased_until=now + timedelta(seconds=lease_s), lease_owner=owner)
                .returning(*notifications.c)
            )
            rows = (await connection.execute(statement)).all()
        claimed = [_notification(row) for row in rows]
        claimed.sort(key=lambda item: (item.next_attempt_at, item.id))
        return claimed

    async def record(
        self,
        attempt: DeliveryAttempt,
        *,
        state: NotificationState,
        next_attempt_at: datetime | None,
        error: str | None,
    ) -> Notification:
        next_at = check_record(state, next_attempt_at)
        where = notifications.c.id == attempt.notification_id
        async with transaction(self._engine, "recording a delivery attempt") as connection:
            row = (await connection.execute(sa.select(notifications).where(where))).first()
            if row is None:
                raise NotFoundError(f"no notification {attempt.notification_id}")
            changes = recorded(_notification(row), attempt, state, next_at, error)
            await connection.execute(
                sa.update(notifications)
                .where(where, notifications.c.attempts < attempt.number)
                .values(changes)
            )
            await connection.execute(sa.insert(notification_attempts).values(_attempt_row(attempt)))
            row = (await connection.execute(sa.select(notifications).where(where))).one()
        return _notification(row)

    async def get(self, notification_id: str) -> Notification:
        query = sa.select(notifications).where(notifications.c.id == notification_id)
        async with transaction(self._engine, "reading a notification") as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            raise NotFoundError(f"no notification {notification_id}")
        return _notification(row)

    async def deliveries(
        self, alert_id: str
    ) -> builtins.list[tuple[Notification, tuple[DeliveryAttempt, ...]]]:
        items_query = (
            sa.select(notifications)
            .where(notifications.c.alert_id == alert_id)
            .order_by(notifications.c.created_at, notifications.c.id)
        )
        async with transaction(self._engine, "reading deliveries") as connection:
            items = [_notification(row) for row in (await connection.execute(items_query)).all()]
            attempts_query = (
                sa.select(notification_attempts)
                .where(notification_attempts.c.notification_id.in_([i.id for i in items]))
                .order_by(notification_attempts.c.notification_id, notification_attempts.c.number)
            )
            rows = (await connection.execute(attempts_query)).all() if items else []
        by_item: dict[str, builtins.list[DeliveryAttempt]] = {item.id: [] for item in items}
        for row in rows:
            by_item[row.notification_id].append(_attempt(row))
        return [(item, tuple(by_item[item.id])) for item in items]

    async def list(
        self,
        *,
        state: NotificationState | None = None,
        channel_id: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Notification]:
        after = check_list(state, limit, cursor)
        where: builtins.list[Any] = []
        if state is not None:
            where.append(notifications.c.state == state)
        if channel_id is not None:
            where.append(notifications.c.channel_id == channel_id)
        page_where = list(where)
        if after is not None:
            at, last_id = after
            page_where.append(
                sa.or_(
                    notifications.c.created_at < at,
                    sa.and_(notifications.c.created_at == at, notifications.c.id < last_id),
                )
            )
        query = (
            sa.select(notifications)
            .where(*page_where)
            .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
            .limit(limit + 1)
        )
        async with transaction(self._engine, "listing notifications") as connection:
            total = await count_rows(connection, notifications, *where)
            rows = (await connection.execute(query)).all()
        items = tuple(_notification(row) for row in rows[:limit])
        more = len(rows) > limit
        next_cursor = encode_cursor(items[-1].created_at, items[-1].id) if more else None
        return Page(items, total, next_cursor)

    async def retry(self, notification_id: str, now: datetime) -> Notification:
        now = aware_utc(now, "now")
        where = notifications.c.id == notification_id
        async with transaction(self._engine, f"retrying notification {notification_id}") as conn:
            result = await conn.execute(
                sa.update(notifications)
                .where(where, notifications.c.state == "dead")
                .values(state="pending", next_attempt_at=now, leased_until=None, lease_owner=None)
            )
            row = (await conn.execute(sa.select(notifications).where(where))).first()
        if row is None:
            raise NotFoundError(f"no notification {notification_id}")
        if result.rowcount == 0:
            raise ConflictError(f"notification {notification_id} is {row.state}, not dead")
        return _notification(row)

    async def counts(self) -> Mapping[str, int]:
        query = sa.select(notifications.c.state, sa.func.count()).group_by(notifications.c.state)
        async with transaction(self._engine, "counting notifications") as connection:
            rows = (await connection.execute(query)).all()
        counted: dict[str, int] = dict.fromkeys(NOTIFICATION_STATES, 0)
        counted.update({str(state): int(number) for state, number in rows})
        return counted

    async def prune_before(self, cutoff: datetime, *, limit: int) -> int:
        cutoff = aware_utc(cutoff, "cutoff")
        check_page(limit)
        old = (
            sa.select(notifications.c.id)
            .where(
                notifications.c.state.in_(("delivered", "dead")),
                notifications.c.created_at < cutoff,
            )
            .order_by(notifications.c.created_at, notifications.c.id)
            .limit(limit)
        )
        async with transaction(self._engine, "pruning notifications") as connection:
            ids = list((await connection.execute(old)).scalars())
            if not ids:
                return 0
            await connection.execute(
                sa.delete(notification_attempts).where(
                    notification_attempts.c.notification_id.in_(ids)
                )
            )
            result = await connection.execute(
                sa.delete(notifications).where(notifications.c.id.in_(ids))
            )
        return int(result.rowcount)


def _attempt_row(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {name: getattr(attempt, name) for name in notification_attempts.c.keys()}  # noqa: SIM118
