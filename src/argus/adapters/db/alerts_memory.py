"""In-memory repositories of the alerting side: rules, alerts and incidents.

The fakes for service tests and the contract's reference: dicts of frozen
values, with the ordering, filters, uniqueness per ``(rule_id, event_id)`` and
optimistic versions of the SQL store (``alerts_sql``). Each repository is
given its store's ``check`` (raises ``StorageError`` once the store is closed).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from argus.adapters.db._common import decode_cursor, encode_cursor
from argus.domain.alerts import ALERT_STATES, SEVERITIES, Alert, Incident, IncidentStatus
from argus.domain.alerts.triage import AlertOrder, triage_key
from argus.domain.checks import aware_utc
from argus.domain.errors import ConflictError, NotFoundError, ValidationError
from argus.domain.rules import Rule
from argus.ports.alerts import AlertFilter, AlertSummary
from argus.ports.paging import Page, check_page

__all__ = ["MemoryAlertRepository", "MemoryIncidentRepository", "MemoryRuleRepository"]

T = TypeVar("T")


class _Versioned(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=_Versioned)


def _page(items: builtins.list[T], limit: int, offset: int) -> Page[T]:
    check_page(limit, offset)
    return Page(tuple(items[offset : offset + limit]), len(items))


def _get(table: dict[str, T], kind: str, entity_id: str) -> T:
    try:
        return table[entity_id]
    except KeyError:
        raise NotFoundError(f"no {kind} {entity_id}") from None


def _check_version(table: dict[str, V], kind: str, entity: V) -> None:
    stored = _get(table, kind, entity.id)
    if stored.version != entity.version - 1:
        raise ConflictError(
            f"{kind} {entity.id} is at version {stored.version}, not {entity.version - 1}: "
            "it changed meanwhile"
        )


class MemoryRuleRepository:
    """Rules in a dict (see ``RuleRepository``)."""

    def __init__(self, check: Callable[[], None]) -> None:
        self._check = check
        self._rules: dict[str, Rule] = {}

    def tables(self) -> tuple[dict[str, Any], ...]:
        """The containers of its state (a unit of work restores them on rollback)."""
        return (self._rules,)

    async def add(self, rule: Rule) -> None:
        self._check()
        if rule.id in self._rules:
            raise ConflictError(f"rule {rule.id} already exists")
        self._rules[rule.id] = rule

    async def get(self, rule_id: str) -> Rule:
        self._check()
        return _get(self._rules, "rule", rule_id)

    async def list(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        camera_id: str | None = None,
        enabled: bool | None = None,
    ) -> Page[Rule]:
        self._check()
        items = sorted(
            (
                r
                for r in self._rules.values()
                if (camera_id is None or r.camera_id in (None, camera_id))
                and (enabled is None or r.enabled is enabled)
            ),
            key=lambda r: (r.created_at, r.id),
        )
        return _page(items, limit, offset)

    async def update(self, rule: Rule) -> None:
        await self.get(rule.id)
        self._rules[rule.id] = rule

    async def delete(self, rule_id: str) -> None:
        await self.get(rule_id)
        del self._rules[rule_id]


def _matches(alert: Alert, where: AlertFilter) -> bool:
    checks = (
        where.camera_id is None or alert.camera_id == where.camera_id,
        where.camera_ids is None or alert.camera_id in where.camera_ids,
        where.rule_id is None or alert.rule_id == where.rule_id,
        where.states is None or alert.state in where.states,
        where.severities is None or alert.severity in where.severities,
        where.since is None or alert.created_at >= where.since,
        where.until is None or alert.created_at < where.until,
        where.group_id is None or alert.group_id == where.group_id,
    )
    return all(checks)


def triage_page(
    items: builtins.list[Alert], limit: int, offset: int, cursor: str | None
) -> Page[Alert]:
    """A page of alerts in triage order, by offset only (see the port)."""
    check_page(limit, offset)
    if cursor:
        raise ValidationError("triage order pages by offset, not by cursor")
    ordered = sorted(items, key=triage_key)
    return Page(tuple(ordered[offset : offset + limit]), len(ordered))


def summarize(items: Sequence[Alert]) -> AlertSummary:
    """Counts of ``items`` per severity and per state."""
    by_severity = dict.fromkeys(SEVERITIES, 0)
    by_state = dict.fromkeys(ALERT_STATES, 0)
    for alert in items:
        by_severity[alert.severity] += 1
        by_state[alert.state] += 1
    return AlertSummary(len(items), by_severity, by_state)


def keyset_page(
    items: builtins.list[Alert], limit: int, offset: int, cursor: str | None
) -> Page[Alert]:
    """A page of alerts sorted newest first, by offset or after a cursor (see the port)."""
    check_page(limit, offset)
    total = len(items)
    if cursor:
        if offset:
            raise ValidationError("page by cursor or by offset, not both")
        stamp, after = decode_cursor(cursor)
        items = [a for a in items if (a.created_at, a.id) < (stamp, after)]
    window = items[offset : offset + limit + 1]
    page = tuple(window[:limit])
    more = len(window) > limit
    next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if more and page else None
    return Page(page, total, next_cursor)


class MemoryAlertRepository:
    """Alerts in a dict keyed by id (see ``AlertRepository``)."""

    def __init__(self, check: Callable[[], None]) -> None:
        self._check = check
        self._alerts: dict[str, Alert] = {}

    def tables(self) -> tuple[dict[str, Any], ...]:
        """The containers of its state (a unit of work restores them on rollback)."""
        return (self._alerts,)

    def _holder(self, alert: Alert) -> Alert | None:
        """The other stored alert of ``alert``'s rule and event, if any."""
        for other in self._alerts.values():
            if (other.rule_id, other.event_id) == (alert.rule_id, alert.event_id) and (
                other.id != alert.id
            ):
                return other
        return None

    async def add(self, alert: Alert) -> bool:
        self._check()
        # A redelivery is reported as one (False) even when it reuses the alert id.
        if await self.find(alert.rule_id, alert.event_id) is not None:
            return False
        if alert.id in self._alerts:
            raise ConflictError(f"alert {alert.id} already exists")
        self._alerts[alert.id] = alert
        return True

    async def get(self, alert_id: str) -> Alert:
        self._check()
        return _get(self._alerts, "alert", alert_id)

    async def find(self, rule_id: str, event_id: str) -> Alert | None:
        self._check()
        for alert in self._alerts.values():
            if alert.rule_id == rule_id and alert.event_id == event_id:
                return alert
        return None

    async def list(
        self,
        where: AlertFilter | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
        cursor: str | None = None,
        order: AlertOrder = "newest",
    ) -> Page[Alert]:
        self._check()
        where = where or AlertFilter()
        matching = [a for a in self._alerts.values() if _matches(a, where)]
        if order == "triage":
            return triage_page(matching, limit, offset, cursor)
        items = sorted(matching, key=lambda a: (a.created_at, a.id), reverse=True)
        return keyset_page(items, limit, offset, cursor)

    async def summary(self, where: AlertFilter | None = None) -> AlertSummary:
        self._check()
        where = where or AlertFilter()
        return summarize([a for a in self._alerts.values() if _matches(a, where)])

    def of_group(self, group_id: str) -> builtins.list[Alert]:
        """The stored alerts of a group (the group store's triage order reads them)."""
        return [a for a in self._alerts.values() if a.group_id == group_id]

    async def update(self, alert: Alert) -> None:
        self._check()
        _check_version(self._alerts, "alert", alert)
        if self._holder(alert) is not None:
            raise ConflictError(f"rule {alert.rule_id} already alerted on event {alert.event_id}")
        self._alerts[alert.id] = alert

    async def due(self, now: datetime, *, limit: int = 100) -> Sequence[Alert]:
        self._check()
        check_page(limit)
        now = aware_utc(now, "now")
        due = [a for a in self._alerts.values() if a.is_due(now)]
        due.sort(key=lambda a: (a.ack_deadline, a.id))
        return tuple(due[:limit])

    async def count_since(self, rule_id: str, camera_id: str, since: datetime) -> int:
        self._check()
        since = aware_utc(since, "since")
        return sum(
            1
            for a in self._alerts.values()
            if a.rule_id == rule_id and a.camera_id == camera_id and a.created_at >= since
        )


class MemoryIncidentRepository:
    """Incidents in a dict (see ``IncidentRepository``)."""

    def __init__(self, check: Callable[[], None]) -> None:
        self._check = check
        self._incidents: dict[str, Incident] = {}

    def tables(self) -> tuple[dict[str, Any], ...]:
        """The containers of its state (a unit of work restores them on rollback)."""
        return (self._incidents,)

    async def add(self, incident: Incident) -> None:
        self._check()
        if incident.id in self._incidents:
            raise ConflictError(f"incident {incident.id} already exists")
        self._incidents[incident.id] = incident

    async def get(self, incident_id: str) -> Incident:
        self._check()
        return _get(self._incidents, "incident", incident_id)

    async def list(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        status: IncidentStatus | None = None,
        camera_id: str | None = None,
        camera_ids: tuple[str, ...] | None = None,
    ) -> Page[Incident]:
        self._check()
        items = sorted(
            (
                i
                for i in self._incidents.values()
                if (status is None or i.status == status)
                and (camera_id is None or i.camera_id == camera_id)
                and (camera_ids is None or i.camera_id in camera_ids)
            ),
            key=lambda i: (i.created_at, i.id),
            reverse=True,
        )
        return _page(items, limit, offset)

    async def update(self, incident: Incident) -> None:
        self._check()
        _check_version(self._incidents, "incident", incident)
        self._incidents[incident.id] = incident

    async def delete(self, incident_id: str) -> None:
        await self.get(incident_id)
        del self._incidents[incident_id]
