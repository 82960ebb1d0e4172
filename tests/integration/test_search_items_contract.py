"""The search item store's contract, on memory, SQLite and PostgreSQL.

The ``store`` fixture of the repository contract gives a fresh, migrated
database of each kind; the search store runs on its engine (or in memory).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from argus.adapters.db.search_memory import MemorySearchItemStore
from argus.adapters.db.search_sql import SqlSearchItemStore
from argus.adapters.db.sql import SqlDatabase
from argus.domain.errors import ValidationError
from argus.ports.search_items import ItemFilter, SearchItem, SearchItemStore
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store


def _items(store: Store) -> SearchItemStore:
    if isinstance(store.db, SqlDatabase):
        return SqlSearchItemStore(store.db.engine)
    return MemorySearchItemStore()


def _item(item_id: str, text: str, minutes: int = 0, **fields: object) -> SearchItem:
    at = T0 + timedelta(minutes=minutes)
    values: dict[str, object] = {"camera_id": "cam-1", "event_type": "line.crossed"}
    values.update(fields)
    return SearchItem(
        kind="event",
        item_id=item_id,
        occurred_at=at,
        local_hour=at.hour,
        text=text,
        **values,  # type: ignore[arg-type]
    )


async def test_texts_are_interned_once_and_items_replace_by_id(store: Store) -> None:
    items = _items(store)
    await items.add([_item("e1", "person crossing"), _item("e2", "person crossing", 1)])
    await items.add([_item("e3", "car crossing", 2), _item("e1", "person crossing")])
    assert await items.counts() == (3, 2)
    assert await items.has("event", "e1")
    assert not await items.has("alert", "e1")
    found = await items.find(ItemFilter(), None, limit=10)
    assert [i.item_id for i in found] == ["e3", "e2", "e1"]
    assert found[0].text == "car crossing"
    assert found[1].description_id == found[2].description_id != found[0].description_id
    await items.add([_item("e1", "car crossing")])
    assert await items.counts() == (3, 2)
    only_car = await items.find(ItemFilter(), [found[0].description_id], limit=10)
    assert [i.item_id for i in only_car] == ["e3", "e1"]
    assert await items.find(ItemFilter(), [], limit=10) == ()


async def test_pending_descriptions_follow_the_model(store: Store) -> None:
    items = _items(store)
    await items.add([_item("e1", "a"), _item("e2", "b"), _item("e3", "c")])
    pending = await items.pending("m@1")
    assert [d.text for d in pending] == ["a", "b", "c"]
    await items.mark_indexed([pending[0].id, pending[1].id], "m@1")
    assert [d.text for d in await items.pending("m@1")] == ["c"]
    assert len(await items.pending("m@2")) == 3
    assert [d.text for d in await items.pending("m@1", limit=1)] == ["c"]
    await items.reset_indexed()
    assert len(await items.pending("m@1")) == 3


async def test_filters(store: Store) -> None:
    items = _items(store)
    await items.add(
        [
            _item("p1", "person", 0, class_name="person", zone="gate", camera_id="c1"),
            _item("p2", "person", 60, class_name="person", direction="in", line="kerb"),
            _item("c1", "car", 120, class_name="car", event_type="zone.entered", zone="lot"),
            _item("c2", "car", 600, class_name="car", camera_id="c2"),
        ]
    )

    async def ids(where: ItemFilter) -> list[str]:
        return [i.item_id for i in await items.find(where, None, limit=100)]

    assert await ids(ItemFilter(classes=("car",))) == ["c2", "c1"]
    assert await ids(ItemFilter(since=T0 + timedelta(minutes=60))) == ["c2", "c1", "p2"]
    assert await ids(ItemFilter(until=T0 + timedelta(minutes=60))) == ["p1"]
    assert await ids(ItemFilter(hours=(T0.hour + 1, T0.hour + 3))) == ["c1", "p2"]
    assert await ids(ItemFilter(hours=(T0.hour + 2, T0.hour))) == ["c2", "c1"]
    assert await ids(ItemFilter(camera_ids=("c1",))) == ["p1"]
    assert await ids(ItemFilter(scope=("c2",))) == ["c2"]
    assert await ids(ItemFilter(scope=())) == []
    assert await ids(ItemFilter(types=("zone.entered",))) == ["c1"]
    assert await ids(ItemFilter(zones=("gate", "lot"))) == ["c1", "p1"]
    assert await ids(ItemFilter(lines=("kerb",), directions=("in",))) == ["p2"]
    assert await ids(ItemFilter(kinds=("alert",))) == []
    assert [i.item_id for i in await items.find(ItemFilter(), None, limit=2)] == ["c2", "c1"]
    with pytest.raises(ValidationError):
        await items.find(ItemFilter(), None, limit=0)


async def test_keyword_matches_every_word_in_the_description(store: Store) -> None:
    items = _items(store)
    await items.add(
        [
            _item("e1", "red car crossing line kerb", 0),
            _item("e2", "person crossing line kerb", 1),
            _item("e3", "Red van_1 100% leaving", 2),
        ]
    )

    async def ids(*words: str) -> list[str]:
        return [i.item_id for i in await items.keyword(ItemFilter(), words, limit=10)]

    assert await ids("crossing", "kerb") == ["e2", "e1"]
    assert await ids("red") == ["e3", "e1"]
    assert await ids("100%") == ["e3"]
    assert await ids("_1") == ["e3"]
    assert await ids("bus") == []


async def test_remove_forgets_items_but_keeps_descriptions(store: Store) -> None:
    items = _items(store)
    await items.add([_item("e1", "a"), _item("e2", "a", 1)])
    await items.remove("event", ["e1", "unknown"])
    assert await items.counts() == (1, 1)
    assert not await items.has("event", "e1")


async def test_purge_forgets_what_the_filter_matches_except_kept_ids(store: Store) -> None:
    items = _items(store)
    await items.add(
        [
            _item("e1", "a"),
            _item("e2", "a", 10),
            _item("e3", "b", 20),
            _item("e4", "b", 30),
            _item("e5", "b", 10, camera_id="cam-2"),
        ]
    )
    where = ItemFilter(
        since=T0 + timedelta(minutes=5),
        until=T0 + timedelta(minutes=30),
        camera_ids=("cam-1",),
        kinds=("event",),
    )
    assert await items.purge(where, keep=["e3"]) == 1
    left = {i.item_id for i in await items.find(ItemFilter(), None, limit=10)}
    assert left == {"e1", "e3", "e4", "e5"}
    assert await items.purge(ItemFilter(kinds=("alert",))) == 0
    assert await items.purge(ItemFilter()) == 4
    assert await items.counts() == (0, 2)


async def test_purge_pages_through_more_items_than_a_batch(store: Store) -> None:
    items = _items(store)
    await items.add([_item(f"e{n:04d}", "a", n % 50) for n in range(1203)])
    keep = [f"e{n:04d}" for n in range(0, 1203, 2)]
    assert await items.purge(ItemFilter(), keep=keep) == 601
    assert await items.counts() == (602, 1)


async def test_item_ids_page_by_id_before_a_moment(store: Store) -> None:
    items = _items(store)
    await items.add([_item(f"e{n}", "a", n) for n in range(5)])
    await items.add([replace(_item("a1", "a"), kind="alert")])
    until = T0 + timedelta(minutes=4)
    assert await items.item_ids("event", until=until, limit=10) == ("e0", "e1", "e2", "e3")
    assert await items.item_ids("event", until=until, after="e1", limit=1) == ("e2",)
    assert await items.item_ids("alert", until=until, limit=10) == ("a1",)
    with pytest.raises(ValidationError):
        await items.item_ids("event", until=until, limit=0)
