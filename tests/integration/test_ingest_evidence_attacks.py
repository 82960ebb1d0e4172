"""Attacks on ingest and evidence (issue 15): forged floods, a failing store, a tampered row.

Each test performs the attack as it was found:

* a camera-scoped ingest key posts events of another camera, and an ingest
  key posts more events than its rate allows (finding 8);
* 300 forged low alerts flood the evidence capture while it is busy, then
  genuine high alerts arrive (finding 8: "captures busy" skipped them);
* the evidence store fails for real (its directory is a regular file, so every
  write fails with ``ENOTDIR``, as a full or lost disk fails them) and the
  alert must say that its evidence is missing (finding 3);
* one evidence row is edited with SQL in SQLite and PostgreSQL, and the
  listing must report that row and list the rest (finding 11).

Everything runs on real components: the API in-process over SQLite or
PostgreSQL, the in-memory bus, the file blob store and the evidence crypto.
The capture's pipelines are ``MemoryPipelines`` with a gate, so "busy" is a
state the test sets, not a race it hopes to win.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.audit_memory import MemoryAuditLog
from argus.adapters.db.evidence_sql import SqlEvidenceRepository
from argus.adapters.db.sql import SqlDatabase
from argus.adapters.evidence.crypto import Keyring
from argus.adapters.evidence.fs import FileBlobStore
from argus.adapters.evidence.signing import Ed25519Signer
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.api.testing import running
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from argus.domain.audit import chain_key
from argus.domain.cameras import Camera
from argus.domain.errors import StorageError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.ports.evidence import EvidenceFilter
from argus.ports.pipelines import Capture
from argus.services.alerts import ALERTS_SUBJECT
from argus.services.evidence import EvidenceService
from argus.services.evidence_capture import EVIDENCE_EVENT, EvidenceCapture
from tests.auth_support import admin_token, bearer, settings_for
from tests.integration.api_support import STORES, Api, api, crossing, eventually
from tests.integration.ingest_support import register_cameras
from tests.integration.test_repositories_contract import POSTGRES_URL, _drop_schema

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

EVENTS = "/api/v1/events"
SECRET = b"attack-test-secret-0123456789abc"
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _batch(*envelopes: Envelope) -> dict[str, Any]:
    return {"events": [e.to_dict() for e in envelopes]}


async def _ingest_key(app: Api, name: str, cameras: list[str] | None) -> dict[str, str]:
    made = await app.client.post(
        "/api/v1/api-keys", json={"name": name, "permissions": ["ingest"], "cameras": cameras}
    )
    assert made.status_code == 201, made.text
    return {"X-API-Key": made.json()["key"]}


async def _stored(app: Api, camera_id: str) -> int:
    listed = await app.client.get(EVENTS, params={"camera_id": camera_id})
    assert listed.status_code == 200, listed.text
    total: int = listed.json()["total"]
    return total


# --- finding 8: ingest scope and rate -------------------------------------------------------------


@pytest.mark.parametrize("kind", STORES)
async def test_a_scoped_key_posting_for_another_camera_is_refused_whole(
    kind: str, tmp_path: Path
) -> None:
    async with api(kind, tmp_path) as app:
        await register_cameras(app.plane.database, "cam-a", "demo")
        key = await _ingest_key(app, "edge-a", ["cam-a"])
        # Its own camera's events hide a forged one of another camera in the same batch.
        mixed = [crossing("cam-a", second=1), crossing("demo", second=2), crossing("cam-a")]
        refused = await app.client.post(EVENTS, json=_batch(*mixed), headers=key)
        assert refused.status_code == 403, refused.text
        assert "demo" in refused.json()["detail"]
        assert await _stored(app, "cam-a") == 0
        assert await _stored(app, "demo") == 0

        own = await app.client.post(EVENTS, json=_batch(mixed[0], mixed[2]), headers=key)
        assert own.status_code == 200, own.text
        assert await _stored(app, "cam-a") == 2


async def test_a_burst_beyond_the_keys_rate_gets_429_and_nothing_is_dropped(
    tmp_path: Path,
) -> None:
    # 10 events at once, then one per 1000 s: no refill can happen during the test.
    settings = settings_for(tmp_path, ingest_events_per_s=0.001, ingest_events_burst=10)
    async with api("memory", tmp_path, settings=settings) as app:
        await register_cameras(app.plane.database, "demo")
        key, other = await _ingest_key(app, "edge-1", None), await _ingest_key(app, "edge-2", None)
        first = [crossing("demo", second=i) for i in range(8)]
        answer = await app.client.post(EVENTS, json=_batch(*first), headers=key)
        assert answer.status_code == 200, answer.text

        flood = [crossing("demo", second=20 + i) for i in range(5)]
        limited = await app.client.post(EVENTS, json=_batch(*flood), headers=key)
        assert limited.status_code == 429, limited.text
        assert int(limited.headers["Retry-After"]) >= 1
        assert await _stored(app, "demo") == 8, "a refused batch must store nothing"

        # The producer kept the refused batch; what the bucket still holds goes through.
        rest = await app.client.post(EVENTS, json=_batch(*flood[:2]), headers=key)
        assert rest.status_code == 200, rest.text
        assert await _stored(app, "demo") == 10

        too_big = [crossing("demo", second=40 + i) for i in range(11)]
        split = await app.client.post(EVENTS, json=_batch(*too_big), headers=other)
        assert split.status_code == 422, split.text
        assert "split" in split.text

        # The rate is per key: another key's bucket is untouched by the first one's flood.
        own = await app.client.post(EVENTS, json=_batch(*flood), headers=other)
        assert own.status_code == 200, own.text
        assert await _stored(app, "demo") == 13


# --- finding 8: evidence capture under a flood ----------------------------------------------------


class GatedPipelines(MemoryPipelines):
    """``MemoryPipelines`` whose captures wait at a gate; records which alert began when.

    While the gate is shut every capture in flight waits, which is exactly
    "the capture is busy"; opening it lets them all run.
    """

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.began: list[datetime] = []

    async def capture(
        self, camera_id: str, at: datetime, *, pre_s: float, post_s: float
    ) -> Capture | None:
        self.began.append(at)
        await self.gate.wait()
        return await super().capture(camera_id, at, pre_s=pre_s, post_s=post_s)


@dataclass
class Rig:
    """An evidence capture over real storage, the bus it listens to and its gated pipelines."""

    capture: EvidenceCapture
    evidence: EvidenceService
    bus: MemoryEventBus
    pipelines: GatedPipelines
    database: SqlDatabase


@asynccontextmanager
async def _rig(
    tmp_path: Path, *, blob_root: Path, max_concurrent: int, max_queue: int
) -> AsyncIterator[Rig]:
    database = await SqlDatabase.open(f"sqlite:///{tmp_path / 'argus.db'}", secret_key=SECRET)
    evidence = EvidenceService(
        SqlEvidenceRepository(database.engine),
        FileBlobStore(blob_root),
        Keyring({"k1": bytes(range(32))}),
        MemoryAuditLog(chain_key(SECRET)),
        Ed25519Signer.from_secret(SECRET),
    )
    bus, pipelines = MemoryEventBus(), GatedPipelines()
    camera = Camera(
        id="cam-1",
        name="Gate",
        stream_url="rtsp://127.0.0.1:8554/gate",
        created_at=T0,
        updated_at=T0,
    )
    await pipelines.apply(camera, [], [])
    capture = EvidenceCapture(
        bus,
        pipelines,
        evidence,
        pre_s=1.0,
        post_s=1.0,
        max_concurrent=max_concurrent,
        max_queue=max_queue,
    )
    capture.start()
    try:

        async def listening() -> bool:
            return capture.state.subscribed

        await eventually(listening, "the capture to subscribe")
        yield Rig(capture, evidence, bus, pipelines, database)
    finally:
        await capture.stop()
        await bus.close()
        await evidence.close()
        await database.close()


def _alert(n: int, severity: str) -> Envelope:
    """An ``alert.created`` envelope; alert ``n``'s event time is T0 + n seconds."""
    payload = {
        "id": f"alert-{severity}-{n:03d}",
        "camera_id": "cam-1",
        "event_time": (T0 + timedelta(seconds=n)).isoformat(),
        "severity": severity,
    }
    return Envelope(
        event_id=new_event_id(),
        type="alert.created",
        timestamp=T0,
        source=EventSource("argus", "cam-1"),
        payload=payload,
    )


async def _items_of(evidence: EvidenceService, alert_id: str) -> set[str]:
    return {item.kind for item in (await evidence.list(EvidenceFilter(alert_id=alert_id))).items}


async def test_forged_low_alerts_never_starve_genuine_high_ones(tmp_path: Path) -> None:
    async with _rig(
        tmp_path, blob_root=tmp_path / "evidence", max_concurrent=2, max_queue=16
    ) as rig:
        announced = await rig.bus.fan_out(ALERTS_SUBJECT)
        forged = [_alert(n, "low") for n in range(300)]
        genuine = [_alert(1000 + n, "high") for n in range(5)]
        for envelope in forged:
            await rig.bus.publish(ALERTS_SUBJECT, envelope)

        async def flooded() -> bool:
            return len(rig.pipelines.began) == 2 and rig.capture.shed == 300 - 2 - 16

        await eventually(flooded, "two lows in flight, 16 waiting, the rest shed")
        # The genuine alerts trickle in while every capture slot is busy.
        for envelope in genuine:
            await rig.bus.publish(ALERTS_SUBJECT, envelope)

        async def queued() -> bool:
            return rig.capture.shed == 300 - 2 - 16 + 5 and rig.capture.depth == 16

        await eventually(queued, "the highs queued, as many lows shed")
        rig.pipelines.gate.set()
        await asyncio.wait_for(rig.capture.idle(), 60)

        began = [int((at - T0).total_seconds()) for at in rig.pipelines.began]
        assert all(n < 300 for n in began[:2]), "the two lows already in flight"
        assert sorted(began[2:7]) == [1000 + n for n in range(5)], "then every high, first"
        for envelope in genuine:
            alert_id = str(envelope.payload["id"])
            assert await _items_of(rig.evidence, alert_id) == {"snapshot", "clip"}, alert_id
            assert (await rig.evidence.gaps(alert_id=alert_id)).total == 0

        # No alert lacks its evidence silently: each has its snapshot and clip, or a gap.
        assert rig.capture.stored == 2 + 5 + 11
        gaps = await rig.evidence.gaps(limit=500)
        assert gaps.total == 287
        assert {gap.reason for gap in gaps.items} == {"shed"}
        assert {gap.severity for gap in gaps.items} == {"low"}
        shed = {gap.alert_id for gap in gaps.items}
        for envelope in forged:
            alert_id = str(envelope.payload["id"])
            has_items = bool(await _items_of(rig.evidence, alert_id))
            assert has_items != (alert_id in shed), alert_id

        # Live clients hear about every gap too (the card shows it without a reload).
        gap_messages = 0
        async with announced:
            while gap_messages < 287:
                delivery = await asyncio.wait_for(announced.__anext__(), 30)
                if delivery.envelope.type == EVIDENCE_EVENT and "gap" in delivery.envelope.payload:
                    gap_messages += 1


async def test_a_busy_capture_queues_alerts_of_one_severity_instead_of_skipping(
    tmp_path: Path,
) -> None:
    async with _rig(
        tmp_path, blob_root=tmp_path / "evidence", max_concurrent=1, max_queue=8
    ) as rig:
        alerts = [_alert(n, "medium") for n in range(6)]
        for envelope in alerts:
            await rig.bus.publish(ALERTS_SUBJECT, envelope)

        async def waiting() -> bool:
            return rig.capture.depth == 5

        await eventually(waiting, "one capture in flight and five waiting")
        rig.pipelines.gate.set()
        await asyncio.wait_for(rig.capture.idle(), 60)
        assert [int((at - T0).total_seconds()) for at in rig.pipelines.began] == list(range(6))
        assert (rig.capture.stored, rig.capture.shed, rig.capture.failed) == (6, 0, 0)


async def test_stopping_with_alerts_waiting_records_their_gaps(tmp_path: Path) -> None:
    async with _rig(
        tmp_path, blob_root=tmp_path / "evidence", max_concurrent=1, max_queue=8
    ) as rig:
        alerts = [_alert(n, "medium") for n in range(3)]
        for envelope in alerts:
            await rig.bus.publish(ALERTS_SUBJECT, envelope)

        async def busy() -> bool:
            return len(rig.pipelines.began) == 1 and rig.capture.depth == 2

        await eventually(busy, "one capture in flight and two waiting")
        await rig.capture.stop()
        gaps = (await rig.evidence.gaps()).items
        assert {gap.alert_id for gap in gaps} == {str(e.payload["id"]) for e in alerts}
        assert {gap.reason for gap in gaps} == {"failed"}
        assert all("stopped" in gap.detail for gap in gaps)


# --- finding 3: a failing evidence store marks the gap --------------------------------------------


@pytest.fixture
def broken_store(tmp_path: Path) -> Path:
    """An evidence "directory" that is a regular file: every write under it fails (ENOTDIR)."""
    path = tmp_path / "evidence-disk"
    path.write_bytes(b"not a directory")
    return path


async def test_a_failing_store_records_the_evidence_gap(tmp_path: Path, broken_store: Path) -> None:
    async with _rig(tmp_path, blob_root=broken_store, max_concurrent=1, max_queue=4) as rig:
        rig.pipelines.gate.set()
        announced = await rig.bus.fan_out(ALERTS_SUBJECT)
        async with announced:
            await rig.bus.publish(ALERTS_SUBJECT, _alert(1, "high"))
            while True:
                delivery = await asyncio.wait_for(announced.__anext__(), 30)
                if delivery.envelope.type == EVIDENCE_EVENT:
                    break
        payload: dict[str, Any] = dict(delivery.envelope.payload)
        assert payload["evidence"] == {}
        assert payload["gap"]["reason"] == "failed"
        [gap] = (await rig.evidence.gaps(alert_id="alert-high-001")).items
        assert gap.reason == "failed"
        assert "StorageError" in gap.detail
        assert rig.capture.failed == 1
        records = await rig.evidence.list()
        assert records.total == 0


async def test_the_api_shows_an_alert_whose_evidence_was_lost(
    tmp_path: Path, broken_store: Path
) -> None:
    settings = settings_for(tmp_path, evidence_url=str(broken_store))
    async with api("sqlite", tmp_path, settings=settings) as app:
        camera = await app.client.post(
            "/api/v1/cameras", json={"name": "gate", "stream_url": "rtsp://127.0.0.1:8554/gate"}
        )
        assert camera.status_code == 201, camera.text
        rule = await app.client.post("/api/v1/rules", json={"name": "any crossing"})
        assert rule.status_code == 201, rule.text
        await app.bus.publish("events", crossing(camera.json()["id"]))
        found: dict[str, Any] = {}

        async def marked() -> bool:
            alerts = (await app.client.get("/api/v1/alerts")).json()["items"]
            if not alerts:
                return False
            page = await app.client.get("/api/v1/evidence", params={"alert_id": alerts[0]["id"]})
            found.update(page.json())
            return bool(found["gaps"])

        await eventually(marked, "the alert's evidence gap")
        assert found["items"] == []
        [gap] = found["gaps"]
        assert gap["reason"] == "failed"
        assert str(broken_store) in gap["detail"]
        listed = (await app.client.get("/api/v1/evidence/gaps")).json()
        assert [g["alert_id"] for g in listed["items"]] == [gap["alert_id"]]


# --- finding 11: one tampered row does not hide the rest ------------------------------------------


@asynccontextmanager
async def _api_over(database: SqlDatabase, directory: Path) -> AsyncIterator[Api]:
    """The app over ``database`` (signed in as the test admin), like ``api_support.api``."""
    pipelines = MemoryPipelines()
    plane = Adapters(database=database, bus=MemoryEventBus(ack_wait=0.5), pipelines=pipelines)

    async def opener(_: Settings) -> Adapters:
        return plane

    app = build_app(settings_for(directory), open_adapters=opener)
    async with (
        running(app) as asgi,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi, raise_app_exceptions=False),
            base_url="http://argus",
        ) as client,
    ):
        assert isinstance(plane.bus, MemoryEventBus)
        client.headers.update(bearer(await admin_token(client)))
        yield Api(client, plane, pipelines, plane.bus)


@pytest.fixture(params=["sqlite", "postgresql"])
async def sql_url(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str | None]]:
    """Where a fresh database lies: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'argus.db'}", None
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        yield POSTGRES_URL, schema
    finally:
        await _drop_schema(schema)


async def _open(url: str, schema: str | None) -> SqlDatabase:
    try:
        return await SqlDatabase.open(url, secret_key=SECRET, schema=schema)
    except StorageError as exc:
        pytest.fail(f"the database is not reachable ({exc}); run scripts/services.sh")


TAMPERING = [
    ("camera-moved", "UPDATE evidence SET camera_id = 'elsewhere' WHERE id = :id", "camera_id"),
    ("locked-flag", "UPDATE evidence SET locked = :yes WHERE id = :id", "column locked"),
]


@pytest.mark.parametrize(("name", "statement", "reason"), TAMPERING, ids=[t[0] for t in TAMPERING])
async def test_one_tampered_row_is_flagged_and_the_rest_listed(
    sql_url: tuple[str, str | None], tmp_path: Path, name: str, statement: str, reason: str
) -> None:
    database = await _open(*sql_url)
    async with _api_over(database, tmp_path) as app:
        camera = await app.client.post(
            "/api/v1/cameras", json={"name": "gate", "stream_url": "rtsp://127.0.0.1:8554/gate"}
        )
        assert camera.status_code == 201, camera.text
        rule = await app.client.post("/api/v1/rules", json={"name": "any crossing"})
        assert rule.status_code == 201, rule.text
        for second in range(3):
            await app.bus.publish("events", crossing(camera.json()["id"], second=second))

        async def six() -> bool:
            page = await app.client.get("/api/v1/evidence")
            return page.status_code == 200 and page.json()["total"] == 6

        await eventually(six, "three alerts' snapshots and clips")
        before = (await app.client.get("/api/v1/evidence")).json()["items"]
        victim = before[2]["id"]
        async with database.engine.begin() as connection:
            params: dict[str, Any] = {"id": victim}
            if ":yes" in statement:
                params["yes"] = True
            await connection.execute(sa.text(statement), params)

        for query in ({}, {"limit": 3, "offset": 1}, {"alert_id": before[2]["alert_id"]}):
            page = await app.client.get("/api/v1/evidence", params=query)
            assert page.status_code == 200, (name, query, page.text)
            items = page.json()["items"]
            flagged = [i for i in items if i["tampered"]]
            assert [i["id"] for i in flagged] == [victim], query
            assert reason in flagged[0]["integrity_error"]
            assert all(i["integrity_error"] is None for i in items if i["id"] != victim)
        everything = (await app.client.get("/api/v1/evidence")).json()
        assert [i["id"] for i in everything["items"]] == [i["id"] for i in before]

        # The tampered row is still refused when its content is asked for.
        refused = await app.client.get(f"/api/v1/evidence/{victim}/content")
        assert refused.status_code == 409, refused.text
    await database.close()


async def test_an_unreadable_row_is_listed_by_its_columns(
    sql_url: tuple[str, str | None], tmp_path: Path
) -> None:
    database = await _open(*sql_url)
    async with _api_over(database, tmp_path) as app:
        camera = await app.client.post(
            "/api/v1/cameras", json={"name": "gate", "stream_url": "rtsp://127.0.0.1:8554/gate"}
        )
        camera_id = camera.json()["id"]
        await app.client.post("/api/v1/rules", json={"name": "any crossing"})
        await app.bus.publish("events", crossing(camera_id))

        async def two() -> bool:
            total: int = (await app.client.get("/api/v1/evidence")).json()["total"]
            return total == 2

        await eventually(two, "a snapshot and a clip")
        victim = (await app.client.get("/api/v1/evidence")).json()["items"][0]
        table = sa.table("evidence", sa.column("id"), sa.column("body", sa.JSON()))
        async with database.engine.begin() as connection:
            stored = await connection.scalar(
                sa.select(table.c.body).where(table.c.id == victim["id"])
            )
            assert isinstance(stored, dict)
            body = {**stored, "kind": "hologram"}
            await connection.execute(
                sa.update(table).where(table.c.id == victim["id"]).values(body=body)
            )
        page = (await app.client.get("/api/v1/evidence")).json()
        assert page["total"] == 2
        flagged = {i["id"]: i for i in page["items"]}[victim["id"]]
        assert flagged["tampered"] is True
        assert "unreadable" in flagged["integrity_error"]
        assert (flagged["camera_id"], flagged["kind"]) == (camera_id, victim["kind"])
    await database.close()
