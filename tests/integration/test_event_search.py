"""Search in words end to end in-process: the real MiniLM encoder, SQLite, the API.

Events, an alert and an incident are indexed into the description store
(memory and SQLite) with a vector index; questions in words then find them
by filters and by meaning, within the caller's cameras.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from argus.adapters.db.search_memory import MemorySearchItemStore
from argus.adapters.db.search_sql import SqlSearchItemStore
from argus.adapters.db.sql import SqlDatabase
from argus.adapters.search import MemoryVectorIndex
from argus.adapters.text import LazyMiniLm
from argus.domain.cameras import Camera, Line, Zone
from argus.domain.event_payloads import Direction, LineCrossed, Loitering, ZoneEntered
from argus.domain.events import Envelope, EventSource
from argus.domain.identity import Principal
from argus.domain.site import Site
from argus.ports.repositories import Database
from argus.services.event_search import EventSearch
from argus.services.event_search_index import SearchIndexer
from tests.integration.api_support import STORES, api, eventually, open_store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

# Monday 7 December 2026, 09:00 UTC; the site is in UTC.
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
_ENCODER: list[LazyMiniLm] = []


def encoder() -> LazyMiniLm:
    """One real all-MiniLM-L6-v2 for the module (its weights load once)."""
    if not _ENCODER:
        _ENCODER.append(LazyMiniLm(backend="onnx", threads=1))
    return _ENCODER[0]


async def site() -> Site:
    return Site("UTC")


async def add_site(db: Database) -> None:
    """Two cameras: North gate (zone "gate", loitering) and Street (line "kerb")."""
    await db.cameras.add(Camera(id="cam-n", name="North gate", stream_url="rtsp://10.0.0.1/s"))
    await db.cameras.add(Camera(id="cam-s", name="Street", stream_url="rtsp://10.0.0.2/s"))
    square = ((0.0, 0.0), (100.0, 0.0), (100.0, 100.0))
    await db.zones.add(Zone(id="z1", camera_id="cam-n", name="gate", polygon=square))
    await db.lines.add(
        Line(
            id="l1",
            camera_id="cam-s",
            name="kerb",
            start=(0.0, 0.0),
            end=(0.0, 100.0),
            in_label="eastbound",
            out_label="westbound",
        )
    )


def history() -> list[Envelope]:
    """A person loitering at the gate last night, people entering it, cars on the kerb."""
    made: list[Envelope] = []
    night = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)
    loiter = Loitering("gate", 1, 0, "person", 5.0, 20.0, 15.0, confidence=0.9)
    made.append(Envelope.wrap(loiter, EventSource("argus", "cam-n"), night))
    for n in range(5):
        entered = ZoneEntered("gate", 10 + n, 0, "person", 1.0, confidence=0.8)
        moment = datetime(2026, 12, 7, 8, n, tzinfo=UTC)
        made.append(Envelope.wrap(entered, EventSource("argus", "cam-n"), moment))
    for n in range(6):
        direction: Direction = "in" if n % 2 == 0 else "out"
        crossed = LineCrossed("kerb", 20 + n, 2, "car", direction, 1.0, confidence=0.7)
        sunday = datetime(2026, 12, 6, 14, n, tzinfo=UTC)
        made.append(Envelope.wrap(crossed, EventSource("argus", "cam-s"), sunday))
    return made


@dataclass
class Rig:
    db: Database
    search: EventSearch


@pytest.fixture(params=["memory", "sqlite"])
async def rig(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Rig]:
    db = await open_store(request.param, tmp_path)
    items = (
        SqlSearchItemStore(db.engine) if isinstance(db, SqlDatabase) else MemorySearchItemStore()
    )
    model = encoder()
    indexer = SearchIndexer(db, items, MemoryVectorIndex(model.dim), model, site)
    try:
        await add_site(db)
        yield Rig(db, EventSearch(indexer, site, lambda: NOW))
    finally:
        await db.close()


async def test_questions_become_filters_and_find_their_events(rig: Rig) -> None:
    await rig.db.events.add_many(history())
    indexer = rig.search.indexer
    assert await indexer.backfill() == 12
    items, descriptions = await indexer.items.counts()
    assert (items, descriptions) == (12, 4)  # 12 events share 4 descriptions
    assert await indexer.index.count() == 4

    night = await rig.search.search(None, "person loitering at the north gate last night")
    assert night.ranking == "recency"
    assert [h.item.event_type for h in night.hits] == ["zone.loitering"]
    assert {u.field for u in night.parsed.understood} == {"class", "type", "camera", "time"}

    cars = await rig.search.search(None, "cars crossing the kerb line on Sunday")
    assert len(cars.hits) == 6
    assert all(h.item.camera_id == "cam-s" for h in cars.hits)

    east = await rig.search.search(None, "eastbound cars")
    assert {h.item.direction for h in east.hits} == {"in"}
    assert len(east.hits) == 3


async def test_leftover_words_rank_by_meaning(rig: Rig) -> None:
    await rig.db.events.add_many(history())
    await rig.search.indexer.backfill()
    # "automobile" names no filter: the car crossings' description is the nearest.
    result = await rig.search.search(None, "automobile driving past", limit=3)
    assert result.ranking == "similarity"
    assert result.parsed.text == "automobile driving past"
    assert [h.item.class_name for h in result.hits] == ["car", "car", "car"]
    scores = [h.score for h in result.hits]
    assert all(s is not None and 0.0 < s <= 1.0 for s in scores)
    lingering = await rig.search.search(None, "somebody waiting around for ages", limit=1)
    assert lingering.hits[0].item.event_type == "zone.loitering"


async def test_results_stay_within_the_callers_cameras(rig: Rig) -> None:
    await rig.db.events.add_many(history())
    await rig.search.indexer.backfill()
    scoped = Principal("user", "u1", "ops", frozenset({"view"}), cameras=frozenset({"cam-n"}))
    everything = await rig.search.search(scoped, "vehicles", limit=50)
    assert everything.hits == ()
    people = await rig.search.search(scoped, "automobile or person", limit=50)
    assert {h.item.camera_id for h in people.hits} == {"cam-n"}


async def test_live_events_are_indexed_once_per_text(rig: Rig) -> None:
    indexer = rig.search.indexer
    events = history()
    for envelope in events:
        await indexer.on_envelope(envelope)
    assert await indexer.items.counts() == (12, 4)
    await indexer.on_envelope(events[0])  # a redelivery replaces, never duplicates
    assert (await indexer.items.counts())[0] == 12


async def test_api_answers_with_what_it_understood(tmp_path: Path) -> None:
    async with api("sqlite", tmp_path) as app:
        client: httpx.AsyncClient = app.client
        db = app.plane.database
        await add_site(db)
        for envelope in history():
            await app.bus.publish(app.plane.events_subject, envelope)

        async def indexed() -> bool:
            response = await client.get("/api/v1/search", params={"q": "cars", "limit": 50})
            return response.status_code == 200 and len(response.json()["items"]) == 6

        await eventually(indexed, "the crossings to be indexed")
        response = await client.get(
            "/api/v1/search", params={"q": "red automobile at the street camera"}
        )
        body = response.json()
        assert response.status_code == 200, body
        assert body["ranking"] == "similarity"
        assert body["filters"]["camera_ids"] == ["cam-s"]
        assert {"field": "camera", "words": "street", "value": "cam-s"} in body["understood"]
        assert body["items"][0]["kind"] == "event"
        assert "car crossing line kerb" in body["items"][0]["description"]
        bad = await client.get("/api/v1/search", params={"q": ""})
        assert bad.status_code == 422


async def test_the_learning_loops_own_events_are_not_indexed(rig: Rig) -> None:
    from argus.adapters.pipelines.model_runs import MODEL_RUNNING
    from argus.domain.events import new_event_id
    from argus.domain.example_sampling import CANDIDATE_EVENT
    from argus.domain.model_trials import SHADOW_EVENT

    assert (CANDIDATE_EVENT, SHADOW_EVENT, MODEL_RUNNING) == (
        "example.candidate",
        "model.shadow",
        "model.running",
    )
    source = EventSource("argus", "cam-n")
    internal = [
        Envelope(
            event_id=new_event_id(NOW),
            type=kind,
            timestamp=NOW,
            source=source,
            payload={"class_name": "person", "model_ref": "yolov7-tiny@1.0.0"},
        )
        for kind in (CANDIDATE_EVENT, SHADOW_EVENT, MODEL_RUNNING)
    ]
    await rig.db.events.add_many([*internal, *history()])
    assert await rig.search.indexer.backfill() == 12  # only the history's events
    for envelope in internal:
        assert not await rig.search.indexer.items.has("event", envelope.event_id)
    assert await rig.search.indexer.event_items(internal) == []


def test_stores_cover_memory_and_sqlite() -> None:
    assert STORES == ("memory", "sqlite")
