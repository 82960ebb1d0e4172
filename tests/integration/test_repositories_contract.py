"""One contract for every store: in-memory, SQLite (a temporary file) and PostgreSQL.

PostgreSQL runs on the local server (``scripts/services.sh`` makes the role
``argus`` and database ``argus_test``; ``ARGUS_TEST_POSTGRES_URL`` points
elsewhere). Each test gets a fresh schema there, created by the store's own
migrations and dropped afterwards, so runs never see each other's rows.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from argus.adapters.db import migrate
from argus.adapters.db.crypto import load_or_create_secret_key, resolve_secret_key
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.db.sql import SqlDatabase, async_url
from argus.adapters.db.tables import metadata
from argus.domain.cameras import Camera, Credentials, Line, Zone, new_id
from argus.domain.errors import (
    ConfigError,
    ConflictError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from argus.domain.event_stats import CountBucket, Interval
from argus.domain.events import (
    Crowding,
    Direction,
    DomainEvent,
    Envelope,
    EventSource,
    HeatmapMinute,
    LineCrossed,
    ZoneEntered,
    ZoneExited,
    new_event_id,
)
from argus.ports.paging import Page
from argus.ports.repositories import CameraRepository, Database, EventFilter, InsertResult

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

POSTGRES_URL = os.environ.get(
    "ARGUS_TEST_POSTGRES_URL", "postgresql://argus:argus@127.0.0.1:5432/argus_test"
)
SECRET = b"test-secret-key-0123456789abcdef"
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
PASSWORD = "pa55-w0rd-that-must-never-hit-the-disk"


@dataclass
class Store:
    """A store under test and, for SQL stores, how to reach its raw rows."""

    kind: str
    db: Database
    url: str = ""
    schema: str | None = None
    path: Path | None = None

    @property
    def sql(self) -> SqlDatabase:
        if not isinstance(self.db, SqlDatabase):
            pytest.skip("only SQL stores have rows, files and migrations")
        return self.db

    async def reopen(self, secret: bytes = SECRET) -> SqlDatabase:
        """A second connection to the same database (as another process would open it)."""
        return await SqlDatabase.open(self.url, secret_key=secret, schema=self.schema)


async def _drop_schema(schema: str) -> None:
    engine = create_async_engine(async_url(POSTGRES_URL))
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh, migrated store of each kind; closed (and its schema dropped) afterwards."""
    kind: str = request.param
    if kind == "memory":
        made = Store(kind, MemoryDatabase())
    elif kind == "sqlite":
        path = tmp_path / "argus.db"
        url = f"sqlite:///{path}"
        made = Store(kind, await SqlDatabase.open(url, secret_key=SECRET), url, path=path)
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        try:
            db = await SqlDatabase.open(POSTGRES_URL, secret_key=SECRET, schema=schema)
        except StorageError as exc:
            pytest.fail(f"PostgreSQL is not reachable ({exc}); run scripts/services.sh")
        made = Store(kind, db, POSTGRES_URL, schema=schema)
    try:
        yield made
    finally:
        await made.db.close()
        if made.schema is not None:
            await _drop_schema(made.schema)


def _camera(n: int = 0, **changes: Any) -> Camera:
    camera = Camera(
        id=new_id(),
        name=f"Gate {n}",
        stream_url=f"rtsp://10.0.0.{n % 250 + 1}:554/stream1",
        location="North fence",
        credentials=Credentials(username=f"viewer{n}", password=PASSWORD),
        detect_fps=5.0,
        created_at=T0 + timedelta(seconds=n),
        updated_at=T0 + timedelta(seconds=n),
    )
    return replace(camera, **changes)


def _line(camera_id: str, name: str = "gate", **changes: Any) -> Line:
    line = Line(
        id=new_id(),
        camera_id=camera_id,
        name=name,
        start=(10.0, 200.5),
        end=(630.0, 210.0),
        expected_direction="in",
        classes=("person", "bicycle"),
    )
    return replace(line, **changes)


def _zone(camera_id: str, name: str = "yard", **changes: Any) -> Zone:
    zone = Zone(
        id=new_id(),
        camera_id=camera_id,
        name=name,
        polygon=((0.0, 0.0), (100.0, 0.0), (100.0, 80.0), (0.0, 80.0)),
        loiter_seconds=30.0,
        crowd_threshold=5,
        criticality=0.8,
    )
    return replace(zone, **changes)


def _event(
    offset_s: float = 0.0,
    *,
    camera: str = "cam-1",
    edge: str = "edge-1",
    type_: str = "line.crossed",
    class_name: str | None = "person",
    track_id: int | None = 7,
) -> Envelope:
    when = T0 + timedelta(seconds=offset_s)
    payload: dict[str, object] = {"line": "gate", "direction": "in", "score": 0.875}
    if class_name is not None:
        payload["class_name"] = class_name
    if track_id is not None:
        payload["track_id"] = track_id
    return Envelope(
        event_id=new_event_id(when),
        type=type_,
        timestamp=when,
        source=EventSource(edge_node_id=edge, camera_id=camera),
        payload=payload,
    )


# --- migrations ------------------------------------------------------------------------------


async def test_migration_upgrades_an_empty_database_to_the_schema(
    store: Store, tmp_path: Path
) -> None:
    db = store.sql
    assert await migrate.current_revision(db.engine) == migrate.head_revision()

    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    async with db.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
        tables = await connection.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
    assert {"cameras", "lines", "zones", "events", "alembic_version"} <= tables
    await db.migrate()  # a second run is a no-op
    assert await migrate.current_revision(db.engine) == migrate.head_revision()


async def test_migrations_start_from_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    db = await SqlDatabase.open(url, secret_key=SECRET, run_migrations=False)
    try:
        assert await migrate.current_revision(db.engine) is None
        await db.migrate()
        assert await migrate.current_revision(db.engine) == migrate.head_revision()
        await db.cameras.add(_camera())
    finally:
        await db.close()


# --- cameras ---------------------------------------------------------------------------------


async def test_camera_crud(store: Store) -> None:
    repo = store.db.cameras
    camera = _camera(1)
    await repo.add(camera)
    assert await repo.get(camera.id) == camera
    changed = replace(
        camera,
        name="Gate 1 (moved)",
        enabled=False,
        credentials=None,
        detect_fps=2.5,
        model="yolov7",
        updated_at=T0 + timedelta(hours=1),
        detect_stream_url="rtsp://10.0.0.2:554/stream2",
        record=False,
    )
    await repo.update(changed)
    assert await repo.get(camera.id) == changed
    await repo.delete(camera.id)
    with pytest.raises(NotFoundError):
        await repo.get(camera.id)


async def _operate(repo: CameraRepository, operation: str, camera: Camera) -> None:
    if operation == "get":
        await repo.get(camera.id)
    elif operation == "update":
        await repo.update(camera)
    else:
        await repo.delete(camera.id)


@pytest.mark.parametrize(
    "operation",
    ["get", "update", "delete"],
    ids=["get", "update", "delete"],
)
async def test_unknown_camera_is_not_found(store: Store, operation: str) -> None:
    with pytest.raises(NotFoundError):
        await _operate(store.db.cameras, operation, _camera())


async def test_adding_a_camera_twice_is_a_conflict(store: Store) -> None:
    camera = _camera()
    await store.db.cameras.add(camera)
    with pytest.raises(ConflictError):
        await store.db.cameras.add(replace(camera, name="other"))
    assert (await store.db.cameras.get(camera.id)).name == camera.name


async def test_cameras_page_in_creation_order_with_total(store: Store) -> None:
    cameras = [_camera(n, enabled=n % 3 != 0) for n in range(7)]
    for camera in reversed(cameras):
        await store.db.cameras.add(camera)
    pages = [await store.db.cameras.list(limit=3, offset=offset) for offset in (0, 3, 6, 9)]
    assert [p.total for p in pages] == [7, 7, 7, 7]
    assert [len(p.items) for p in pages] == [3, 3, 1, 0]
    assert [c for p in pages for c in p.items] == cameras
    enabled = await store.db.cameras.list(enabled=True)
    disabled = await store.db.cameras.list(enabled=False)
    assert enabled.items == tuple(c for c in cameras if c.enabled)
    assert disabled.total == 3
    assert all(p.next_cursor is None for p in pages)


@pytest.mark.parametrize(
    ("limit", "offset"), [(0, 0), (1001, 0), (10, -1)], ids=["zero", "too-big", "negative"]
)
async def test_bad_paging_is_a_validation_error(store: Store, limit: int, offset: int) -> None:
    with pytest.raises(ValidationError):
        await store.db.cameras.list(limit=limit, offset=offset)


async def test_credentials_are_never_stored_in_plaintext(store: Store) -> None:
    db = store.sql
    camera = _camera(3, credentials=Credentials(username="operator-xyz", password=PASSWORD))
    await db.cameras.add(camera)
    async with db.engine.connect() as connection:
        raw = (
            await connection.execute(
                sa.text("SELECT credentials, stream_url FROM cameras WHERE id = :id"),
                {"id": camera.id},
            )
        ).one()
    blob = bytes(raw.credentials)
    assert PASSWORD.encode() not in blob
    assert b"operator-xyz" not in blob
    assert len(blob) > len(PASSWORD)
    assert PASSWORD not in raw.stream_url
    assert (await db.cameras.get(camera.id)).credentials == camera.credentials
    if store.path is not None:  # the SQLite file and its write-ahead log, byte by byte
        await db.close()
        for path in store.path.parent.glob(f"{store.path.name}*"):
            assert PASSWORD.encode() not in path.read_bytes(), path.name


async def test_credentials_do_not_decrypt_under_another_key(store: Store) -> None:
    camera = _camera()
    await store.sql.cameras.add(camera)
    other = await store.reopen(secret=b"a-different-secret-key-entirely!")
    try:
        with pytest.raises(StorageError, match="not decrypt"):
            await other.cameras.get(camera.id)
    finally:
        await other.close()


def test_a_password_in_the_stream_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="credentials"):
        _camera(stream_url="rtsp://admin:secret@10.0.0.1/stream")


def test_source_url_puts_quoted_credentials_in() -> None:
    camera = _camera(
        stream_url="rtsp://10.0.0.9:554/s1?a=1",
        credentials=Credentials(username="ad min", password="p@ss:/word"),
    )
    assert camera.source_url() == "rtsp://ad%20min:p%40ss%3A%2Fword@10.0.0.9:554/s1?a=1"
    assert "p@ss" not in repr(camera)


# --- lines and zones --------------------------------------------------------------------------


E = TypeVar("E", Line, Zone)


class _PerCameraRepository(Protocol[E]):
    """What ``LineRepository`` and ``ZoneRepository`` have in common."""

    async def add(self, entity: E, /) -> None: ...
    async def get(self, entity_id: str, /) -> E: ...
    async def list(self, camera_id: str, *, limit: int = ..., offset: int = ...) -> Page[E]: ...
    async def update(self, entity: E, /) -> None: ...
    async def delete(self, entity_id: str, /) -> None: ...


async def _check_per_camera_crud(
    store: Store, repo: _PerCameraRepository[E], make: Callable[[str, str], E]
) -> None:
    camera, other = _camera(1), _camera(2)
    await store.db.cameras.add(camera)
    await store.db.cameras.add(other)
    entities = [make(camera.id, name) for name in ("c", "a", "b")]
    for entity in entities:
        await repo.add(entity)
    await repo.add(make(other.id, "a"))  # names are unique per camera only
    first: Page[E] = await repo.list(camera.id, limit=2)
    second: Page[E] = await repo.list(camera.id, limit=2, offset=2)
    assert [e.name for e in (*first.items, *second.items)] == ["a", "b", "c"]
    assert (first.total, second.total) == (3, 3)
    assert await repo.get(entities[0].id) == entities[0]
    with pytest.raises(ConflictError):
        await repo.add(make(camera.id, "a"))
    with pytest.raises(ConflictError):
        await repo.update(replace(entities[0], name="b"))
    with pytest.raises(NotFoundError):
        await repo.add(make("no-such-camera", "x"))
    renamed = replace(entities[0], name="z")
    await repo.update(renamed)
    assert await repo.get(renamed.id) == renamed
    await repo.delete(renamed.id)
    with pytest.raises(NotFoundError):
        await repo.get(renamed.id)
    with pytest.raises(NotFoundError):
        await repo.delete(renamed.id)


async def test_lines_crud_per_camera(store: Store) -> None:
    await _check_per_camera_crud(store, store.db.lines, _line)


async def test_zones_crud_per_camera(store: Store) -> None:
    await _check_per_camera_crud(store, store.db.zones, _zone)


async def test_deleting_a_camera_deletes_its_lines_and_zones(store: Store) -> None:
    camera, other = _camera(1), _camera(2)
    await store.db.cameras.add(camera)
    await store.db.cameras.add(other)
    line, zone, kept = _line(camera.id), _zone(camera.id), _line(other.id)
    await store.db.lines.add(line)
    await store.db.zones.add(zone)
    await store.db.lines.add(kept)
    await store.db.cameras.delete(camera.id)
    with pytest.raises(NotFoundError):
        await store.db.lines.get(line.id)
    with pytest.raises(NotFoundError):
        await store.db.zones.get(zone.id)
    assert await store.db.lines.get(kept.id) == kept


# --- events ----------------------------------------------------------------------------------


async def test_event_insert_is_idempotent(store: Store) -> None:
    events = store.db.events
    envelope = _event()
    assert await events.add(envelope) is True
    assert await events.add(envelope) is False
    page = await events.query()
    assert page.total == 1
    assert page.items == (envelope,)
    assert await events.exists(envelope.event_id)
    assert not await events.exists(new_event_id())


async def test_batched_insert_reports_new_and_duplicate_ids(store: Store) -> None:
    old, a, b = _event(0), _event(1), _event(2)
    await store.db.events.add(old)
    result = await store.db.events.add_many([a, old, b, a])
    assert result == InsertResult(
        inserted=(a.event_id, b.event_id), duplicates=(old.event_id, a.event_id)
    )
    assert (await store.db.events.query()).total == 3
    assert await store.db.events.add_many([]) == InsertResult()


async def test_a_large_batch_is_stored_in_chunks(store: Store) -> None:
    batch = [_event(i * 0.001, track_id=i) for i in range(1234)]
    result = await store.db.events.add_many(batch)
    assert len(result.inserted) == 1234
    assert result.duplicates == ()
    again = await store.db.events.add_many([*batch[1000:], _event(99)])
    assert (len(again.inserted), len(again.duplicates)) == (1, 234)
    assert (await store.db.events.query(limit=1)).total == 1235


async def test_event_round_trips_exactly(store: Store) -> None:
    envelope = Envelope(
        event_id=new_event_id(),
        type="zone.exited",
        timestamp=datetime(2026, 7, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=2))),
        source=EventSource(edge_node_id="edge-ß", camera_id="cam/ü"),
        payload={"nested": {"xs": [1, 2.5, None, True]}, "big": 2**53, "text": "✓"},
    )
    await store.db.events.add(envelope)
    stored = await store.db.events.get(envelope.event_id)
    assert stored == envelope
    assert stored.timestamp.tzinfo == UTC
    with pytest.raises(NotFoundError):
        await store.db.events.get(new_event_id())


def _dataset() -> list[Envelope]:
    rows = [
        (0, "cam-1", "edge-1", "line.crossed", "person"),
        (10, "cam-1", "edge-1", "line.crossed", "car"),
        (20, "cam-2", "edge-1", "zone.entered", "person"),
        (30, "cam-2", "edge-2", "zone.exited", "person"),
        (40, "cam-1", "edge-2", "zone.entered", None),
        (50, "cam-3", "edge-2", "line.crossed", "bicycle"),
        (60, "cam-1", "edge-1", "zone.crowding", None),
    ]
    return [
        _event(t, camera=camera, edge=edge, type_=type_, class_name=cls)
        for t, camera, edge, type_, cls in rows
    ]


@pytest.mark.parametrize(
    "where",
    [
        EventFilter(),
        EventFilter(camera_id="cam-1"),
        EventFilter(types=("zone.entered", "zone.exited")),
        EventFilter(class_name="person"),
        EventFilter(since=T0 + timedelta(seconds=20)),
        EventFilter(until=T0 + timedelta(seconds=20)),
        EventFilter(since=T0 + timedelta(seconds=10), until=T0 + timedelta(seconds=50)),
        EventFilter(edge_node_id="edge-2"),
        EventFilter(camera_id="cam-1", class_name="person", types=("line.crossed",)),
        EventFilter(camera_id="nobody"),
        EventFilter(since=(T0 + timedelta(seconds=30)).astimezone(timezone(timedelta(hours=-5)))),
    ],
    ids=[
        "all",
        "camera",
        "types",
        "class",
        "since-inclusive",
        "until-exclusive",
        "range",
        "edge",
        "combined",
        "none",
        "since-other-zone",
    ],
)
async def test_event_filters(store: Store, where: EventFilter) -> None:
    data = _dataset()
    await store.db.events.add_many(data)

    def matches(e: Envelope) -> bool:
        return (
            (where.camera_id is None or e.source.camera_id == where.camera_id)
            and (where.edge_node_id is None or e.source.edge_node_id == where.edge_node_id)
            and (where.types is None or e.type in where.types)
            and (where.class_name is None or e.payload.get("class_name") == where.class_name)
            and (where.since is None or e.timestamp >= where.since)
            and (where.until is None or e.timestamp < where.until)
        )

    expected = sorted((e for e in data if matches(e)), key=lambda e: e.timestamp, reverse=True)
    page = await store.db.events.query(where)
    assert page.items == tuple(expected)
    assert page.total == len(expected)


async def test_event_cursor_walks_every_event_once_newest_first(store: Store) -> None:
    # Ties on the timestamp are ordered by event id, so no page boundary loses one.
    data = [_event(t) for t in (0, 5, 5, 5, 10, 10, 20, 30, 30, 40)]
    await store.db.events.add_many(data)
    walked: list[Envelope] = []
    cursor: str | None = None
    totals: set[int] = set()
    for _ in range(10):
        page = await store.db.events.query(limit=3, cursor=cursor)
        walked.extend(page.items)
        totals.add(page.total)
        cursor = page.next_cursor
        if cursor is None:
            break
    expected = sorted(data, key=lambda e: (e.timestamp, e.event_id), reverse=True)
    assert walked == expected
    assert totals == {10}
    newer = _event(100)
    await store.db.events.add(newer)  # new events do not shift a walk in progress
    first = await store.db.events.query(limit=3)
    resumed = await store.db.events.query(limit=3, cursor=first.next_cursor)
    assert first.items[0] == newer
    assert resumed.items == tuple(expected[2:5])


@pytest.mark.parametrize("cursor", ["nonsense", "W10", "WyJ4IiwxXQ"], ids=repr)
async def test_a_bad_cursor_is_a_validation_error(store: Store, cursor: str) -> None:
    with pytest.raises(ValidationError, match="cursor"):
        await store.db.events.query(cursor=cursor)


async def test_stores_share_state_across_connections(store: Store) -> None:
    camera, envelope = _camera(), _event()
    await store.sql.cameras.add(camera)
    await store.sql.events.add(envelope)
    other = await store.reopen()
    try:
        assert await other.cameras.get(camera.id) == camera
        assert await other.events.add(envelope) is False
        await other.ping()
    finally:
        await other.close()


# --- analytics over events --------------------------------------------------------------------


def _wrap(event: DomainEvent | HeatmapMinute, offset_s: float, camera: str = "cam-1") -> Envelope:
    return Envelope.wrap(event, EventSource("edge-1", camera), T0 + timedelta(seconds=offset_s))


def _crossing(offset_s: float, direction: Direction = "in", **kw: Any) -> Envelope:
    cls = kw.pop("class_name", "person")
    event = LineCrossed("gate", 1, 0, cls, direction, 0.0, confidence=kw.pop("score", 0.5))
    return _wrap(event, offset_s, **kw)


def _entry(offset_s: float, zone: str = "yard", **kw: Any) -> Envelope:
    cls = kw.pop("class_name", "person")
    return _wrap(ZoneEntered(zone, 2, 0, cls, 0.0, confidence=kw.pop("score", 0.5)), offset_s, **kw)


def _exit(offset_s: float, dwell: float, zone: str = "yard", **kw: Any) -> Envelope:
    cls = kw.pop("class_name", "person")
    event = ZoneExited(zone, 2, 0, cls, 0.0, dwell, confidence=0.5)
    return _wrap(event, offset_s, **kw)


def _counting_dataset() -> list[Envelope]:
    return [
        _crossing(0),
        _crossing(30),
        _crossing(59, "out"),
        _crossing(61, class_name="car"),
        _crossing(3600 + 5),
        _entry(10),
        _entry(70),
        _entry(11 * 3600 + 59 * 60),  # 23:59 UTC, the next day in Berlin
        _crossing(20, camera="cam-2"),
        _exit(40, 3.0),  # not counted: only crossings and entries are
    ]


def _count_rows(
    buckets: tuple[CountBucket, ...],
) -> list[tuple[str, str, str, str | None, str, int]]:
    return [
        (b.start.isoformat(), b.camera_id, b.name, b.direction, b.class_name, b.count)
        for b in buckets
    ]


@pytest.mark.parametrize(
    ("interval", "tz", "expected"),
    [
        (
            "minute",
            UTC,
            [
                ("2026-03-01T12:00:00+00:00", "cam-1", "gate", "in", "person", 2),
                ("2026-03-01T12:00:00+00:00", "cam-1", "gate", "out", "person", 1),
                ("2026-03-01T12:00:00+00:00", "cam-1", "yard", None, "person", 1),
                ("2026-03-01T12:00:00+00:00", "cam-2", "gate", "in", "person", 1),
                ("2026-03-01T12:01:00+00:00", "cam-1", "gate", "in", "car", 1),
                ("2026-03-01T12:01:00+00:00", "cam-1", "yard", None, "person", 1),
                ("2026-03-01T13:00:00+00:00", "cam-1", "gate", "in", "person", 1),
                ("2026-03-01T23:59:00+00:00", "cam-1", "yard", None, "person", 1),
            ],
        ),
        (
            "hour",
            UTC,
            [
                ("2026-03-01T12:00:00+00:00", "cam-1", "gate", "in", "car", 1),
                ("2026-03-01T12:00:00+00:00", "cam-1", "gate", "in", "person", 2),
                ("2026-03-01T12:00:00+00:00", "cam-1", "gate", "out", "person", 1),
                ("2026-03-01T12:00:00+00:00", "cam-1", "yard", None, "person", 2),
                ("2026-03-01T12:00:00+00:00", "cam-2", "gate", "in", "person", 1),
                ("2026-03-01T13:00:00+00:00", "cam-1", "gate", "in", "person", 1),
                ("2026-03-01T23:00:00+00:00", "cam-1", "yard", None, "person", 1),
            ],
        ),
        (
            "day",
            ZoneInfo("Europe/Berlin"),
            [
                ("2026-03-01T00:00:00+01:00", "cam-1", "gate", "in", "car", 1),
                ("2026-03-01T00:00:00+01:00", "cam-1", "gate", "in", "person", 3),
                ("2026-03-01T00:00:00+01:00", "cam-1", "gate", "out", "person", 1),
                ("2026-03-01T00:00:00+01:00", "cam-1", "yard", None, "person", 2),
                ("2026-03-01T00:00:00+01:00", "cam-2", "gate", "in", "person", 1),
                ("2026-03-02T00:00:00+01:00", "cam-1", "yard", None, "person", 1),
            ],
        ),
    ],
    ids=["minute-utc", "hour-utc", "day-berlin"],
)
async def test_counts_per_interval_camera_name_direction_and_class(
    store: Store, interval: Interval, tz: tzinfo, expected: list[tuple[Any, ...]]
) -> None:
    await store.db.events.add_many(_counting_dataset())
    buckets = await store.db.events.counts(EventFilter(), interval=interval, tz=tz)
    assert _count_rows(buckets) == expected
    assert {b.type for b in buckets} == {"line.crossed", "zone.entered"}


@pytest.mark.parametrize(
    ("where", "total"),
    [
        (EventFilter(camera_id="cam-2"), 1),
        (EventFilter(class_name="car"), 1),
        (EventFilter(types=("zone.entered", "zone.exited")), 3),
        (EventFilter(types=("zone.exited",)), 0),
        (EventFilter(since=T0 + timedelta(seconds=30), until=T0 + timedelta(hours=1)), 4),
    ],
    ids=["camera", "class", "types-narrow", "types-none-counted", "range"],
)
async def test_counts_honour_the_filter(store: Store, where: EventFilter, total: int) -> None:
    await store.db.events.add_many(_counting_dataset())
    buckets = await store.db.events.counts(where, interval="day")
    assert sum(b.count for b in buckets) == total


async def test_counts_stream_more_events_than_one_fetch(store: Store) -> None:
    await store.db.events.add_many([_crossing(i * 0.5) for i in range(2500)])
    buckets = await store.db.events.counts(EventFilter(), interval="minute")
    assert [b.count for b in buckets] == [120] * 20 + [100]


async def test_dwell_statistics_per_zone_and_class(store: Store) -> None:
    data = [_exit(i, d) for i, d in enumerate([4.0, 1.0, 10.0, 2.0, 3.0])]
    data += [_exit(10, 5.0, class_name="car"), _exit(11, 7.0, zone="till")]
    data += [_entry(12), _exit(13, 9.0, camera="cam-2")]
    malformed = _crossing(14)
    data.append(replace(malformed, type="zone.exited"))  # no zone nor dwell: left out
    await store.db.events.add_many(data)
    stats = await store.db.events.dwell(EventFilter(camera_id="cam-1"))
    assert [(s.zone, s.class_name, s.count) for s in stats] == [
        ("till", "person", 1),
        ("yard", "car", 1),
        ("yard", "person", 5),
    ]
    yard = stats[2]
    assert (yard.mean_seconds, yard.p50_seconds, yard.p90_seconds, yard.max_seconds) == (
        4.0,
        3.0,
        7.6,
        10.0,
    )
    only_till = await store.db.events.dwell(EventFilter(), zone="till")
    assert [(s.camera_id, s.zone, s.max_seconds) for s in only_till] == [("cam-1", "till", 7.0)]
    assert await store.db.events.dwell(EventFilter(class_name="bicycle")) == ()


async def test_detection_metrics_per_type_and_class(store: Store) -> None:
    old = _event(5, type_="line.crossed", class_name="person")  # stored before confidences
    data = [_crossing(0, score=0.5), _crossing(1, score=0.75), old, _entry(2, score=0.25)]
    data.append(_wrap(Crowding("yard", 0.0, 5, 4), 3))
    await store.db.events.add_many(data)
    stats = await store.db.events.detections(EventFilter(camera_id="cam-1"))
    assert [(s.type, s.class_name, s.count, s.scored, s.mean_confidence) for s in stats] == [
        ("line.crossed", "person", 3, 2, 0.625),
        ("zone.crowding", None, 1, 0, None),
        ("zone.entered", "person", 1, 1, 0.25),
    ]


async def test_heatmap_sums_the_minutes_of_a_camera_and_period(store: Store) -> None:
    def minute(cells: tuple[tuple[int, int], ...], frames: int, size: int = 64) -> HeatmapMinute:
        return HeatmapMinute(size, 36, 1280, 720, frames, cells)

    data = [
        _wrap(minute(((0, 1),), 10, size=32), 0),  # older, before a resolution change
        _wrap(minute(((0, 2), (100, 5)), 100), 60),
        _wrap(minute(((100, 1), (2303, 7)), 120), 120),
        _wrap(minute(((5, 5),), 50), 180, camera="cam-2"),
        _wrap(minute(((5, 5),), 50), 3600),  # after the period
    ]
    await store.db.events.add_many(data)
    grid = await store.db.events.heatmap("cam-1", T0, T0 + timedelta(minutes=30))
    assert grid is not None
    assert (grid.grid_width, grid.grid_height, grid.frame_width, grid.frame_height) == (
        64,
        36,
        1280,
        720,
    )
    assert (grid.frames, grid.minutes, grid.skipped) == (220, 2, 1)
    assert grid.counts.shape == (36, 64)
    flat = grid.counts.ravel()
    assert {int(i): int(flat[i]) for i in flat.nonzero()[0]} == {0: 2, 100: 6, 2303: 7}
    assert float(grid.normalised().max()) == 1.0
    assert (
        await store.db.events.heatmap("cam-1", T0 + timedelta(hours=2), T0 + timedelta(hours=3))
        is None
    )
    with pytest.raises(ValidationError):
        await store.db.events.heatmap("cam-1", T0.replace(tzinfo=None), T0)


# --- configuration and failures ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_postgresql_is_a_storage_error() -> None:
    url = f"postgresql://argus:argus@127.0.0.1:{_free_port()}/argus_test"
    with pytest.raises(StorageError, match="migrating"):
        await SqlDatabase.open(url, secret_key=SECRET, engine_options={"pool_pre_ping": False})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u:p@h/db", "postgresql+asyncpg://u:***@h/db"),
        ("postgres://u@h:6543/db", "postgresql+asyncpg://u@h:6543/db"),
    ],
    ids=["sqlite", "postgresql", "postgres-alias"],
)
def test_async_url_picks_the_async_driver(url: str, expected: str) -> None:
    assert str(async_url(url)) == expected


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"], ids=["mysql", "garbage"])
def test_unsupported_database_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError):
        async_url(url)


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    key = resolve_secret_key(None, tmp_path)
    assert len(key) == 32
    assert resolve_secret_key(None, tmp_path) == key
    assert load_or_create_secret_key(tmp_path / "secret.key") == key
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert resolve_secret_key("x" * 16, tmp_path) == b"x" * 16
    with pytest.raises(ConfigError):
        resolve_secret_key("short", tmp_path)
