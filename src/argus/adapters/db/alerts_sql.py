"""SQL repositories of the alerting side: rules, alerts and incidents (see ``ports.alerts``).

Each entity is stored whole as JSON (its ``to_dict``) next to the columns that
queries filter and sort on, so a new field needs no migration while lists stay
indexed. Reads parse the JSON back; a stored value that no longer parses is a
``StorageError``, not a ``ValidationError`` of the caller's input.

Alerts and incidents are updated optimistically with ``UPDATE ... WHERE id = ?
AND version = ?``: zero rows means the id is unknown (``NotFoundError``) or the
stored version moved on (``ConflictError``), told apart in the same
transaction. Alerts are inserted with ``ON CONFLICT (rule_id, event_id) DO
NOTHING``, so a redelivered event raises no second alert even between servers.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

import argus.adapters.db.tables_groups  # noqa: F401 (adds alerts.group_id)
from argus.adapters.db._common import decode_cursor, encode_cursor
from argus.adapters.db._sqlcore import Bind, count_rows, delete_by_id, insert_for, transaction
from argus.adapters.db.tables import alerts, incidents, rules
from argus.adapters.db.tables_triage import attention_of, severity_rank, summary_of
from argus.domain.alerts import OPEN_ALERT_STATES, Alert, Incident, IncidentStatus
from argus.domain.alerts.triage import AlertOrder
from argus.domain.checks import aware_utc
from argus.domain.errors import ConflictError, NotFoundError, StorageError, ValidationError
from argus.domain.rules import Rule
from argus.ports.alerts import AlertFilter, AlertSummary
from argus.ports.paging import Page, check_page

__all__ = ["SqlAlertRepository", "SqlIncidentRepository", "SqlRuleRepository"]

T = TypeVar("T")
Row = sa.Row[Any]


def _parse(kind: str, parse: Callable[[Mapping[str, object]], T], data: Any) -> T:
    """Parse a stored JSON body, blaming the store (not the caller) when it does not parse."""
    try:
        return parse(data)
    except ValidationError as exc:
        raise StorageError(f"a stored {kind} is unreadable: {exc}") from exc


async def _update_version(
    connection: AsyncConnection, table: sa.Table, kind: str, row: dict[str, Any]
) -> None:
    """Write ``row`` over the stored one at ``row["version"] - 1``; tell missing from stale."""
    entity_id, version = row["id"], row["version"]
    values = {key: value for key, value in row.items() if key != "id"}
    result = await connection.execute(
        sa.update(table)
        .where(table.c.id == entity_id, table.c.version == version - 1)
        .values(values)
    )
    if result.rowcount == 0:
        stored = await connection.scalar(sa.select(table.c.version).where(table.c.id == entity_id))
        if stored is None:
            raise NotFoundError(f"no {kind} {entity_id}")
        raise ConflictError(
            f"{kind} {entity_id} is at version {stored}, not {version - 1}: it changed meanwhile"
        )


# --- rules -------------------------------------------------------------------------------------


def _rule_row(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "camera_id": rule.camera_id,
        "enabled": rule.enabled,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
        "definition": rule.to_dict(),
    }


def _rule(row: Row) -> Rule:
    return _parse("rule", Rule.from_dict, row.definition)


class SqlRuleRepository:
    """Rules in the ``rules`` table (see ``RuleRepository``)."""

    def __init__(self, engine: Bind) -> None:
        self._engine = engine

    async def add(self, rule: Rule) -> None:
        async with transaction(self._engine, f"adding rule {rule.id}") as connection:
            await connection.execute(sa.insert(rules).values(_rule_row(rule)))

    async def get(self, rule_id: str) -> Rule:
        async with transaction(self._engine, "reading a rule") as connection:
            row = (await connection.execute(sa.select(rules).where(rules.c.id == rule_id))).first()
        if row is None:
            raise NotFoundError(f"no rule {rule_id}")
        return _rule(row)

    async def list(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        camera_id: str | None = None,
        enabled: bool | None = None,
    ) -> Page[Rule]:
        check_page(limit, offset)
        where: builtins.list[Any] = []
        if camera_id is not None:
            where.append(sa.or_(rules.c.camera_id == camera_id, rules.c.camera_id.is_(None)))
        if enabled is not None:
            where.append(rules.c.enabled.is_(enabled))
        query = (
            sa.select(rules)
            .where(*where)
            .order_by(rules.c.created_at, rules.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with transaction(self._engine, "listing rules") as connection:
            total = await count_rows(connection, rules, *where)
            rows = (await connection.execute(query)).all()
        return Page(tuple(_rule(row) for row in rows), total)

    async def update(self, rule: Rule) -> None:
        values = _rule_row(rule)
        del values["id"]
        async with transaction(self._engine, f"updating rule {rule.id}") as connection:
            result = await connection.execute(
                sa.update(rules).where(rules.c.id == rule.id).values(values)
            )
        if result.rowcount == 0:
            raise NotFoundError(f"no rule {rule.id}")

    async def delete(self, rule_id: str) -> None:
        await delete_by_id(self._engine, rules, "rule", rule_id)


# --- alerts ------------------------------------------------------------------------------------


def _alert_row(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "rule_id": alert.rule_id,
        "camera_id": alert.camera_id,
        "event_id": alert.event_id,
        "state": alert.state,
        "severity": alert.severity,
        "risk_score": alert.risk.score,
        "created_at": alert.created_at,
        "updated_at": alert.updated_at,
        "ack_deadline": alert.ack_deadline,
        "version": alert.version,
        "group_id": alert.group_id,
        "escalation_level": alert.escalation_level,
        "body": alert.to_dict(),
    }


def _alert(row: Row) -> Alert:
    return _parse("alert", Alert.from_dict, row.body)


def _alert_conditions(where: AlertFilter) -> builtins.list[Any]:
    conditions: builtins.list[Any] = []
    if where.camera_id is not None:
        conditions.append(alerts.c.camera_id == where.camera_id)
    if where.camera_ids is not None:
        conditions.append(alerts.c.camera_id.in_(where.camera_ids))
    if where.rule_id is not None:
        conditions.append(alerts.c.rule_id == where.rule_id)
    if where.states is not None:
        conditions.append(alerts.c.state.in_(where.states))
    if where.severities is not None:
        conditions.append(alerts.c.severity.in_(where.severities))
    if where.since is not None:
        conditions.append(alerts.c.created_at >= where.since)
    if where.until is not None:
        conditions.append(alerts.c.created_at < where.until)
    if where.group_id is not None:
        conditions.append(alerts.c.group_id == where.group_id)
    return conditions


class SqlAlertRepository:
    """Alerts in the ``alerts`` table (see ``AlertRepository``)."""

    def __init__(self, engine: Bind) -> None:
        self._engine = engine
        self._insert = insert_for(engine)

    async def add(self, alert: Alert) -> bool:
        same_event = (alerts.c.rule_id == alert.rule_id, alerts.c.event_id == alert.event_id)
        # The duplicate check comes first so that a redelivery is reported as one (False)
        # on every backend, even when it also reuses the alert id; ON CONFLICT covers the
        # race with another server inserting the same (rule, event) meanwhile.
        statement = (
            self._insert(alerts)
            .values(_alert_row(alert))
            .on_conflict_do_nothing(index_elements=[alerts.c.rule_id, alerts.c.event_id])
            .returning(alerts.c.id)
        )
        async with transaction(self._engine, f"adding alert {alert.id}") as connection:
            if await connection.scalar(sa.select(sa.literal(1)).where(*same_event)):
                return False
            stored = await connection.scalar(statement)
        return stored is not None

    async def get(self, alert_id: str) -> Alert:
        async with transaction(self._engine, "reading an alert") as connection:
            row = (
                await connection.execute(sa.select(alerts).where(alerts.c.id == alert_id))
            ).first()
        if row is None:
            raise NotFoundError(f"no alert {alert_id}")
        return _alert(row)

    async def find(self, rule_id: str, event_id: str) -> Alert | None:
        query = sa.select(alerts).where(alerts.c.rule_id == rule_id, alerts.c.event_id == event_id)
        async with transaction(self._engine, "finding an alert") as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else _alert(row)

    async def list(
        self,
        where: AlertFilter | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
        cursor: str | None = None,
        order: AlertOrder = "newest",
    ) -> Page[Alert]:
        check_page(limit, offset)
        conditions = _alert_conditions(where or AlertFilter())
        after: builtins.list[Any] = []
        sort: tuple[Any, ...] = (alerts.c.created_at.desc(), alerts.c.id.desc())
        if order == "triage":
            if cursor:
                raise ValidationError("triage order pages by offset, not by cursor")
            sort = (
                severity_rank(alerts.c.severity).desc(),
                attention_of(alerts.c.state, alerts.c.escalation_level).desc(),
                alerts.c.created_at,
                alerts.c.id,
            )
        elif cursor:
            if offset:
                raise ValidationError("page by cursor or by offset, not both")
            stamp, alert_id = decode_cursor(cursor)
            after.append(
                sa.or_(
                    alerts.c.created_at < stamp,
                    sa.and_(alerts.c.created_at == stamp, alerts.c.id < alert_id),
                )
            )
        query = (
            sa.select(alerts)
            .where(*conditions, *after)
            .order_by(*sort)
            .limit(limit + 1)
            .offset(offset)
        )
        async with transaction(self._engine, "listing alerts") as connection:
            total = await count_rows(connection, alerts, *conditions)
            rows = (await connection.execute(query)).all()
        items = tuple(_alert(row) for row in rows[:limit])
        more = len(rows) > limit and order == "newest"
        next_cursor = encode_cursor(items[-1].created_at, items[-1].id) if more else None
        return Page(items, total, next_cursor)

    async def summary(self, where: AlertFilter | None = None) -> AlertSummary:
        async with transaction(self._engine, "summing up alerts") as connection:
            return await summary_of(connection, _alert_conditions(where or AlertFilter()))

    async def update(self, alert: Alert) -> None:
        async with transaction(self._engine, f"updating alert {alert.id}") as connection:
            await _update_version(connection, alerts, "alert", _alert_row(alert))

    async def due(self, now: datetime, *, limit: int = 100) -> Sequence[Alert]:
        check_page(limit)
        now = aware_utc(now, "now")
        query = (
            sa.select(alerts)
            .where(
                alerts.c.state.in_(sorted(OPEN_ALERT_STATES)),
                alerts.c.ack_deadline.is_not(None),
                alerts.c.ack_deadline <= now,
            )
            .order_by(alerts.c.ack_deadline, alerts.c.id)
            .limit(limit)
        )
        async with transaction(self._engine, "reading due alerts") as connection:
            rows = (await connection.execute(query)).all()
        return tuple(_alert(row) for row in rows)

    async def count_since(self, rule_id: str, camera_id: str, since: datetime) -> int:
        since = aware_utc(since, "since")
        async with transaction(self._engine, "counting alerts") as connection:
            return await count_rows(
                connection,
                alerts,
                alerts.c.rule_id == rule_id,
                alerts.c.camera_id == camera_id,
                alerts.c.created_at >= since,
            )


# --- incidents ---------------------------------------------------------------------------------


def _incident_row(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "status": incident.status,
        "camera_id": incident.camera_id,
        "created_at": incident.created_at,
        "updated_at": incident.updated_at,
        "version": incident.version,
        "body": incident.to_dict(),
    }


def _incident(row: Row) -> Incident:
    return _parse("incident", Incident.from_dict, row.body)


class SqlIncidentRepository:
    """Incidents in the ``incidents`` table (see ``IncidentRepository``)."""

    def __init__(self, engine: Bind) -> None:
        self._engine = engine

    async def add(self, incident: Incident) -> None:
        async with transaction(self._engine, f"adding incident {incident.id}") as connection:
            await connection.execute(sa.insert(incidents).values(_incident_row(incident)))

    async def get(self, incident_id: str) -> Incident:
        async with transaction(self._engine, "reading an incident") as connection:
            row = (
                await connection.execute(sa.select(incidents).where(incidents.c.id == incident_id))
            ).first()
        if row is None:
            raise NotFoundError(f"no incident {incident_id}")
        return _incident(row)

    async def list(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        status: IncidentStatus | None = None,
        camera_id: str | None = None,
        camera_ids: tuple[str, ...] | None = None,
    ) -> Page[Incident]:
        check_page(limit, offset)
        where: builtins.list[Any] = []
        if status is not None:
            where.append(incidents.c.status == status)
        if camera_id is not None:
            where.append(incidents.c.camera_id == camera_id)
        if camera_ids is not None:
            where.append(incidents.c.camera_id.in_(camera_ids))
        query = (
            sa.select(incidents)
            .where(*where)
            .order_by(incidents.c.created_at.desc(), incidents.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with transaction(self._engine, "listing incidents") as connection:
            total = await count_rows(connection, incidents, *where)
            rows = (await connection.execute(query)).all()
        return Page(tuple(_incident(row) for row in rows), total)

    async def update(self, incident: Incident) -> None:
        async with transaction(self._engine, f"updating incident {incident.id}") as connection:
            await _update_version(connection, incidents, "incident", _incident_row(incident))

    async def delete(self, incident_id: str) -> None:
        await delete_by_id(self._engine, incidents, "incident", incident_id)
