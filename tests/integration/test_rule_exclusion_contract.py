"""A rule's exclusion areas on every store (memory, SQLite, PostgreSQL).

The areas are part of the rule's stored definition (``rules.definition``, the
JSON of ``Rule.to_dict``) like every other condition, so no column of their
own: these cases pin that they round-trip, that a row written before they
existed reads as a rule without areas, and that another connection reads them.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from argus.domain.rules import Rule
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store

AREAS = [
    [[0.0, 0.0], [0.25, 0.0], [0.25, 0.2], [0.0, 0.2]],
    [[0.5, 0.5], [0.9, 0.55], [0.7, 0.95]],
]


def _rule(**fields: object) -> Rule:
    values: dict[str, object] = {"id": "rule-x", "name": "Kerb", "camera_id": "cam-1"}
    values |= {"created_at": T0, "updated_at": T0} | fields
    return Rule(**values)  # type: ignore[arg-type]


async def test_exclusion_areas_round_trip_and_change(store: Store) -> None:
    rule = _rule(exclude_areas=AREAS)
    await store.db.rules.add(rule)
    stored = await store.db.rules.get(rule.id)
    assert stored == rule
    assert stored.exclude_areas[1] == ((0.5, 0.5), (0.9, 0.55), (0.7, 0.95))
    fewer = _rule(exclude_areas=AREAS[:1], updated_at=T0 + timedelta(seconds=5))
    await store.db.rules.update(fewer)
    assert (await store.db.rules.get(rule.id)).exclude_areas == fewer.exclude_areas
    listed = await store.db.rules.list(camera_id="cam-1")
    assert [r.exclude_areas for r in listed.items] == [fewer.exclude_areas]


async def test_areas_are_stored_in_the_definition_and_read_by_another_connection(
    store: Store,
) -> None:
    db = store.sql
    rule = _rule(exclude_areas=AREAS)
    await db.rules.add(rule)
    async with db.engine.connect() as connection:
        raw = await connection.scalar(
            sa.text("SELECT definition FROM rules WHERE id = :id"), {"id": rule.id}
        )
    definition = json.loads(raw) if isinstance(raw, str) else raw
    assert definition["exclude_areas"] == AREAS
    other = await store.reopen()
    try:
        assert (await other.rules.get(rule.id)).exclude_areas == rule.exclude_areas
    finally:
        await other.close()


async def test_a_rule_stored_before_exclusion_areas_reads_without_any(store: Store) -> None:
    db = store.sql
    rule = _rule(min_confidence=0.4)
    assert "exclude_areas" not in rule.to_dict()  # older readers keep reading rules without
    await db.rules.add(rule)
    old = {**rule.to_dict(), "exclude_areas": [list(map(list, AREAS[0]))]}
    await db.rules.update(Rule.from_dict(old))
    del old["exclude_areas"]  # as a rule stored before areas existed
    async with db.engine.begin() as connection:
        await connection.execute(
            sa.text("UPDATE rules SET definition = :definition WHERE id = :id"),
            {"definition": json.dumps(old), "id": rule.id},
        )
    stored = await db.rules.get(rule.id)
    assert stored.exclude_areas == ()
    assert stored == rule
