"""The inbox's repository contract: triage order, summaries, and the escalation column.

Triage order (``domain.alerts.triage``): high severity first; within a
severity escalated alerts still waiting (most escalations first), then
waiting, acknowledged and closed ones; then the oldest first. Alerts and alert
groups sort so on every store (memory, SQLite, PostgreSQL, through the
``store`` fixture of the repository contract) and page by offset only.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from argus.adapters.db import migrate
from argus.adapters.db.sql import SqlDatabase
from argus.adapters.db.tables import alerts as alerts_table
from argus.domain.alerts import ALERT_STATES, SEVERITIES, Alert, AlertState, Severity
from argus.domain.alerts.triage import attention, triage_key
from argus.domain.errors import ValidationError
from argus.ports.alert_groups import GroupFilter
from argus.ports.alerts import AlertFilter
from tests.integration import test_repositories_contract as contract
from tests.integration.test_alert_groups_contract import _group
from tests.integration.test_alerts_contract import _alert
from tests.integration.test_repositories_contract import SECRET, T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store


def _in(
    name: str,
    offset_s: float,
    severity: Severity,
    state: AlertState = "notified",
    level: int = 0,
    **changes: object,
) -> Alert:
    alert = _alert(offset_s, severity=severity, state=state, escalation_level=level, version=2)
    return replace(alert, id=name, **changes)  # type: ignore[arg-type]


# The inbox of the issue, small: named so that the expected order reads as a sentence.
INBOX = (
    _in("high-new-old", 10, "high"),
    _in("high-escalated-once", 30, "high", "escalated", 1),
    _in("high-acknowledged", 5, "high", "acknowledged", 3),
    _in("high-escalated-thrice", 50, "high", "escalated", 3),
    _in("high-new-young", 90, "high"),
    _in("high-closed", 1, "high", "false_positive", 2),
    _in("medium-escalated", 70, "medium", "escalated", 2),
    _in("medium-old", 2, "medium"),
    _in("low-escalated", 80, "low", "escalated", 3),
    _in("low-new", 3, "low", "new"),
)
TRIAGED = [
    "high-escalated-thrice",
    "high-escalated-once",
    "high-new-old",
    "high-new-young",
    "high-acknowledged",
    "high-closed",
    "medium-escalated",
    "medium-old",
    "low-escalated",
    "low-new",
]


async def _stored(store: Store, alerts: tuple[Alert, ...] = INBOX) -> None:
    for alert in alerts:
        assert await store.db.alerts.add(alert)


@pytest.mark.parametrize(
    ("state", "level", "expected"),
    [
        ("notified", 0, 1),
        ("new", 0, 1),
        ("escalated", 3, 4),
        ("acknowledged", 2, 0),
        ("confirmed", 0, -1),
        ("false_positive", 1, -1),
        ("cleared", 0, -1),
    ],
    ids=["notified", "new", "escalated-3", "acknowledged", "confirmed", "dismissed", "cleared"],
)
def test_attention_puts_escalated_waiting_alerts_first(
    state: AlertState, level: int, expected: int
) -> None:
    assert attention(state, level) == expected


def test_the_reference_key_gives_the_triage_order() -> None:
    assert [a.id for a in sorted(INBOX, key=triage_key)] == TRIAGED


async def test_alerts_list_in_triage_order_on_every_store(store: Store) -> None:
    await _stored(store)
    page = await store.db.alerts.list(order="triage")
    assert [a.id for a in page.items] == TRIAGED
    assert page.total == len(INBOX)
    assert page.next_cursor is None
    newest = await store.db.alerts.list()  # the default stays newest first
    assert [a.id for a in newest.items] == [
        a.id for a in sorted(INBOX, key=lambda a: a.created_at, reverse=True)
    ]


async def test_triage_pages_by_offset_and_refuses_a_cursor(store: Store) -> None:
    await _stored(store)
    repo = store.db.alerts
    pages = [await repo.list(limit=3, offset=offset, order="triage") for offset in (0, 3, 6, 9)]
    assert [a.id for p in pages for a in p.items] == TRIAGED
    assert {p.total for p in pages} == {len(INBOX)}
    assert all(p.next_cursor is None for p in pages)
    cursor = (await repo.list(limit=2)).next_cursor
    assert cursor is not None
    with pytest.raises(ValidationError):
        await repo.list(cursor=cursor, order="triage")


async def test_triage_keeps_the_filters(store: Store) -> None:
    await _stored(store)
    waiting: tuple[AlertState, ...] = ("new", "notified", "escalated")
    page = await store.db.alerts.list(
        AlertFilter(states=waiting, severities=("high", "medium")), order="triage"
    )
    assert [a.id for a in page.items] == [
        "high-escalated-thrice",
        "high-escalated-once",
        "high-new-old",
        "high-new-young",
        "medium-escalated",
        "medium-old",
    ]
    assert page.total == 6


async def test_an_escalation_moves_an_alert_up_after_its_update(store: Store) -> None:
    await _stored(store)
    repo = store.db.alerts
    young = await repo.get("high-new-young")
    moved = young.transition("escalated", T0 + timedelta(minutes=5), "system", escalation_level=4)
    await repo.update(moved)
    first = (await repo.list(limit=1, order="triage")).items[0]
    assert first.id == "high-new-young"
    assert first.escalation_level == 4


async def test_summary_counts_per_severity_and_state(store: Store) -> None:
    empty = await store.db.alerts.summary()
    assert empty.total == 0
    assert dict(empty.by_severity) == dict.fromkeys(SEVERITIES, 0)
    assert dict(empty.by_state) == dict.fromkeys(ALERT_STATES, 0)
    await _stored(store)
    summary = await store.db.alerts.summary()
    assert summary.total == len(INBOX)
    assert dict(summary.by_severity) == {"high": 6, "medium": 2, "low": 2}
    assert dict(summary.by_state) == {
        **dict.fromkeys(ALERT_STATES, 0),
        "new": 1,
        "notified": 3,
        "escalated": 4,
        "acknowledged": 1,
        "false_positive": 1,
    }
    open_high = await store.db.alerts.summary(
        AlertFilter(severities=("high",), states=("new", "notified", "escalated"))
    )
    assert open_high.total == 4
    assert open_high.by_severity["high"] == 4
    assert open_high.by_state["escalated"] == 2
    other = await store.db.alerts.summary(AlertFilter(camera_id="cam-9"))
    assert other.total == 0


async def test_groups_list_in_triage_order(store: Store) -> None:
    groups = store.db.alert_groups
    # (group, highest severity, first seen s, its alerts' states and levels)
    plan: list[tuple[str, Severity, float, list[tuple[AlertState, int]]]] = [
        ("grp-high-acknowledged", "high", 0, [("acknowledged", 2)]),
        ("grp-high-escalated", "high", 60, [("escalated", 2), ("notified", 0)]),
        ("grp-high-waiting", "high", 30, [("notified", 0), ("false_positive", 0)]),
        ("grp-medium-old", "medium", 5, [("notified", 0)]),
        ("grp-medium-escalated", "medium", 50, [("escalated", 1)]),
        ("grp-low-closed", "low", 1, [("false_positive", 0)]),
    ]
    for n, (group_id, severity, first_s, states) in enumerate(plan):
        group = _group(
            n,
            id=group_id,
            max_severity=severity,
            first_seen=T0 + timedelta(seconds=first_s),
            last_seen=T0 + timedelta(seconds=100 - n),
        )
        await groups.add(group)
        for m, (state, level) in enumerate(states):
            alert = _in(f"{group_id}-{m}", first_s + m, severity, state, level, group_id=group_id)
            assert await store.db.alerts.add(alert)
    page = await groups.list(order="triage")
    expected = [
        "grp-high-escalated",
        "grp-high-waiting",
        "grp-high-acknowledged",
        "grp-medium-escalated",
        "grp-medium-old",
        "grp-low-closed",
    ]
    assert [g.id for g in page.items] == expected
    assert page.total == len(plan)
    assert page.next_cursor is None
    second = await groups.list(limit=2, offset=2, order="triage")
    assert [g.id for g in second.items] == expected[2:4]
    medium = await groups.list(GroupFilter(severities=("medium",)), order="triage")
    assert [g.id for g in medium.items] == expected[3:5]
    newest = await groups.list(limit=2, offset=1)  # newest last_seen first, by offset too
    assert [g.id for g in newest.items] == [plan[1][0], plan[2][0]]
    with pytest.raises(ValidationError):
        await groups.list(cursor=newest.next_cursor or "x", order="triage")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_the_migration_copies_escalation_levels_from_stored_alerts(
    kind: str, tmp_path: Path
) -> None:
    if kind == "sqlite":
        url, schema = f"sqlite:///{tmp_path / 'old.db'}", None
    else:
        url, schema = contract.POSTGRES_URL, f"t_triage_{uuid.uuid4().hex[:12]}"
    db = await SqlDatabase.open(url, secret_key=SECRET, run_migrations=False, schema=schema)
    try:
        await migrate.upgrade(db.engine, "0012", schema=schema)
        escalated = _in("old-escalated", 1, "high", "escalated", 2)
        plain = _in("old-plain", 2, "low")
        table = (
            alerts_table
            if schema is None
            else alerts_table.to_metadata(sa.MetaData(), schema=schema)
        )
        async with db.engine.begin() as connection:
            for alert in (escalated, plain):
                row = {
                    "id": alert.id,
                    "rule_id": alert.rule_id,
                    "camera_id": alert.camera_id,
                    "event_id": alert.event_id,
                    "state": alert.state,
                    "severity": alert.severity,
                    "risk_score": alert.risk.score,
                    "created_at": alert.created_at,
                    "updated_at": alert.updated_at,
                    "ack_deadline": None,
                    "version": alert.version,
                    "body": alert.to_dict(),
                }
                await connection.execute(sa.insert(table).values(row))
        await migrate.upgrade(db.engine, schema=schema)
        async with db.engine.connect() as connection:
            levels = dict(
                (await connection.execute(sa.select(table.c.id, table.c.escalation_level))).all()
            )
        assert levels == {"old-escalated": 2, "old-plain": 0}
        listed = await db.alerts.list(order="triage")
        assert [a.id for a in listed.items] == ["old-escalated", "old-plain"]
    finally:
        await db.close()
        if schema is not None:
            await contract._drop_schema(schema)
