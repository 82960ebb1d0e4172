"""The alert group repositories' contract: groups, snoozes, windows, alert cursors.

The same cases run against the in-memory store, SQLite (a temporary file) and
PostgreSQL (a fresh schema per test), through the ``store`` fixture of the
repository contract (``test_repositories_contract``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa

from argus.domain.alerts import Alert
from argus.domain.alerts.groups import AlertGroup
from argus.domain.alerts.suppression import MaintenanceWindow, Snooze
from argus.domain.errors import ConflictError, NotFoundError, ValidationError
from argus.ports.alert_groups import AlertGroupRepository, GroupFilter, SuppressionRepository
from argus.ports.alerts import AlertFilter
from tests.integration import test_repositories_contract as contract
from tests.integration.test_alerts_contract import _alert
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store


def _group(n: int = 0, *, last_s: float = 0.0, **changes: object) -> AlertGroup:
    group = AlertGroup(
        id=f"grp-{n:03d}",
        key=f"rule-{n % 2}|cam-{n % 3}|yard",
        rule_id=f"rule-{n % 2}",
        rule_name="Loitering",
        camera_id=f"cam-{n % 3}",
        subject="yard",
        first_seen=T0,
        last_seen=T0 + timedelta(seconds=last_s),
        count=3,
        open_count=2,
        latest_alert_id=f"A{n}-3",
        first_alert_id=f"A{n}-1",
        max_severity="medium",
        notified_severity="low",
    )
    return replace(group, **changes)  # type: ignore[arg-type]


async def test_migration_creates_the_group_tables(store: Store) -> None:
    db = store.sql
    async with db.engine.connect() as connection:
        names = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        columns = await connection.run_sync(
            lambda c: [col["name"] for col in sa.inspect(c).get_columns("alerts")]
        )
    assert {"alert_groups", "alert_snoozes", "maintenance_windows"} <= set(names)
    assert "group_id" in columns


async def test_the_store_implements_the_group_ports(store: Store) -> None:
    assert isinstance(store.db.alert_groups, AlertGroupRepository)
    assert isinstance(store.db.suppressions, SuppressionRepository)
    async with store.db.unit_of_work() as unit:
        assert isinstance(unit.alert_groups, AlertGroupRepository)
        assert isinstance(unit.suppressions, SuppressionRepository)


async def test_group_round_trips_and_updates_optimistically(store: Store) -> None:
    groups = store.db.alert_groups
    group = _group(notified_severity=None)
    await groups.add(group)
    assert await groups.get(group.id) == group
    with pytest.raises(ConflictError):
        await groups.add(group)
    closed = group.with_open(0)
    await groups.update(closed)
    assert await groups.get(group.id) == closed
    assert closed.state == "closed"
    with pytest.raises(ConflictError):
        await groups.update(closed)  # version 2 again: stale
    with pytest.raises(NotFoundError):
        await groups.update(_group(9, version=2))
    with pytest.raises(NotFoundError):
        await groups.get("nope")


async def test_find_open_takes_the_newest_open_group_of_the_key_in_the_window(
    store: Store,
) -> None:
    groups = store.db.alert_groups
    old = _group(0, last_s=0)
    new = _group(6, id="grp-new", last_s=300)  # same key as 0 (6 % 2, 6 % 3)
    closed = _group(12, id="grp-closed", last_s=400, state="closed", open_count=0)
    for group in (old, new, closed):
        await groups.add(group)
    assert await groups.find_open(old.key, T0 - timedelta(minutes=10)) == new
    assert await groups.find_open(old.key, T0 + timedelta(seconds=301)) is None
    assert await groups.find_open("rule-9|cam-9|", T0) is None


async def test_groups_page_by_cursor_newest_last_seen_first(store: Store) -> None:
    groups = store.db.alert_groups
    made = [_group(n, last_s=n * 10 if n != 4 else 30) for n in range(7)]  # a tie at 30 s
    for group in made:
        await groups.add(group)
    expected = sorted(made, key=lambda g: (g.last_seen, g.id), reverse=True)
    seen: list[AlertGroup] = []
    cursor: str | None = None
    while True:
        page = await groups.list(limit=3, cursor=cursor)
        assert page.total == 7
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected
    only = await groups.list(GroupFilter(camera_ids=("cam-0",), rule_id="rule-0"))
    assert [g.id for g in only.items] == [
        g.id for g in expected if g.key.startswith("rule-0|cam-0")
    ]
    assert (await groups.list(GroupFilter(state="closed"))).total == 0
    assert (await groups.list(GroupFilter(severities=("high",)))).total == 0
    with pytest.raises(ValidationError):
        await groups.list(cursor="not a cursor")


async def test_alerts_page_by_cursor_and_filter_by_group(store: Store) -> None:
    alerts = store.db.alerts
    made = [_alert(n, group_id="g-1" if n % 2 else "g-2") for n in range(5)]
    made.append(_alert(2, id="ZZZZ-tie"))  # the same created_at as another: ordered by id
    for alert in made:
        assert await alerts.add(alert)
    expected = sorted(made, key=lambda a: (a.created_at, a.id), reverse=True)
    seen: list[Alert] = []
    cursor: str | None = None
    while True:
        page = await alerts.list(limit=2, cursor=cursor)
        assert page.total == 6
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected
    offset_page = await alerts.list(limit=2, offset=2)
    assert offset_page.items == tuple(expected[2:4])
    assert offset_page.next_cursor is not None  # offset pages hand a cursor on too
    grouped = await alerts.list(AlertFilter(group_id="g-1"))
    assert [a.id for a in grouped.items] == [a.id for a in expected if a.group_id == "g-1"]
    assert all(a.group_id == "g-1" for a in grouped.items)
    with pytest.raises(ValidationError):
        await alerts.list(limit=2, offset=1, cursor=page.next_cursor or offset_page.next_cursor)


async def test_alert_group_fields_round_trip(store: Store) -> None:
    alert = _alert(group_id="g-9", repeat=True, suppressed="maintenance: roof works")
    await store.db.alerts.add(alert)
    assert await store.db.alerts.get(alert.id) == alert


async def test_snoozes_and_windows_round_trip_list_and_delete(store: Store) -> None:
    repo = store.db.suppressions
    snoozes = [
        Snooze(f"s{n}", "rule-1", None, T0 + timedelta(hours=n + 1), "noisy", "ann", T0)
        for n in range(3)
    ]
    for snooze in snoozes:
        await repo.add_snooze(snooze)
    with pytest.raises(ConflictError):
        await repo.add_snooze(snoozes[0])
    page = await repo.list_snoozes()
    assert page.items == tuple(reversed(snoozes))
    active = await repo.list_snoozes(active_at=T0 + timedelta(hours=2))
    assert [s.id for s in active.items] == ["s2"]
    assert await repo.delete_snooze("s1") == snoozes[1]
    with pytest.raises(NotFoundError):
        await repo.delete_snooze("s1")
    window = MaintenanceWindow(
        "w1", "roof", ("cam-1", "cam-2"), T0, T0 + timedelta(hours=4), "", "admin", T0
    )
    everywhere = replace(window, id="w2", camera_ids=(), start=T0 + timedelta(hours=1))
    await repo.add_window(window)
    await repo.add_window(everywhere)
    assert (await repo.list_windows()).items == (everywhere, window)
    assert (await repo.list_windows(active_at=T0 + timedelta(hours=5))).total == 0
    assert await repo.delete_window("w1") == window
    with pytest.raises(NotFoundError):
        await repo.delete_window("w1")


async def test_a_unit_rolls_back_the_group_with_the_alert(store: Store) -> None:
    group = _group()

    class BoomError(Exception):
        pass

    async def store_then_fail() -> None:
        async with store.db.unit_of_work() as unit:
            await unit.alert_groups.add(group)
            await unit.alerts.add(_alert(group_id=group.id))
            raise BoomError

    with pytest.raises(BoomError):
        await store_then_fail()
    with pytest.raises(NotFoundError):
        await store.db.alert_groups.get(group.id)
    assert (await store.db.alerts.list()).total == 0
