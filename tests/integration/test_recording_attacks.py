"""Attacks on continuous recording, against the running app and the real recorders.

* Playback audit: a caller who asks for a segment by ranges that skip its first
  byte (``bytes=1-``, then ``bytes=0-0``; an MP4 always starts with a zero
  byte) used to read it whole without a ``recording.play`` record.
* Camera scope: a scoped API key reads neither another camera's timeline, nor
  its segments, nor exports them, whatever segment id it names.
* Export memory: an export holds the range's bytes a bounded number of times
  (the clips are not kept once stored as evidence).
* The recorder holds a stored camera to the source policy when it opens it: a
  file outside ``ARGUS_MEDIA_DIRS`` (or a link in them that leads out) is not
  recorded, even when the camera row got in without the service's check.
* A stored camera's detect sub-stream outside ``ARGUS_MEDIA_DIRS`` (directly or by a
  link) is not opened by its pipeline.
* A camera id (a stored row) cannot make the recorder write outside its root.
* A flood of camera changes leaves one recorder thread per camera.
* ``/health/ready`` answers anyone: it counts saturated cameras and names none;
  ``/metrics`` keeps the new recording and scheduler series to the caller's scope.
* A timeline crowded with events reads them in as many queries as it has pages
  (each query counts every event of the range: a third one cost a third more).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.db.sql import SqlDatabase
from argus.adapters.pipelines import RestartPolicy, SourceOptions
from argus.adapters.pipelines.scene import DetectDefaults
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.adapters.recording import SegmentIndex, SegmentRecorder
from argus.adapters.recording.index import segment_path, write_sidecar
from argus.adapters.recording.runner import RecorderOptions, RecordingRunner
from argus.adapters.recording.store import FileRecordingStore
from argus.adapters.video.policy import REFUSED
from argus.api.testing import running
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.bootstrap.edge import edge_pipelines
from argus.bootstrap.evidence import open_evidence_service
from argus.config import Settings
from argus.domain.actor import SYSTEM_ACTOR
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera
from argus.domain.events import Envelope, EventSource, ZoneEntered
from argus.domain.recording import Segment
from argus.ports.paging import MAX_PAGE
from argus.ports.pipelines import CameraStatus
from argus.services.recording_markers import MAX_MARKERS
from argus.services.recordings import RecordingService
from tests.auth_support import admin_token, bearer, make_user, settings_for
from tests.integration.api_support import Api, api
from tests.integration.conftest import Media

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)
SECRET = b"recording-attacks-secret-0123456"
WAIT = 90.0
"""Seconds a test waits for the recorders; generous for a loaded 2-core machine."""


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _seg_id(segment: Segment) -> str:
    return Path(segment.path).name[len(segment.camera_id) + 1 : -len(".mp4")]


@dataclass
class World:
    app: Api
    root: Path
    camera_a: str
    camera_b: str
    segments_a: list[Segment]
    segments_b: list[Segment]


async def _camera(app: Api, name: str) -> str:
    answer = await app.client.post(
        "/api/v1/cameras", json={"name": name, "stream_url": f"rtsp://127.0.0.1:8554/{name}"}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _record(clip: Path, root: Path, camera_id: str) -> list[Segment]:
    recorder = SegmentRecorder(
        camera_id, str(clip), root, segment_seconds=2.0, realtime=False, now=lambda: T0
    )
    return list(recorder.segments())


@pytest.fixture
async def world(tmp_path: Path, bikes_mp4: Path) -> AsyncIterator[World]:
    async with api("sqlite", tmp_path) as app:
        camera_a, camera_b = await _camera(app, "gate"), await _camera(app, "yard")
        root = tmp_path / "recordings"
        yield World(
            app,
            root,
            camera_a,
            camera_b,
            _record(bikes_mp4, root, camera_a),
            _record(bikes_mp4, root, camera_b),
        )


async def _plays(world: World, actor: str) -> list[dict[str, Any]]:
    records = await world.app.plane.database.audit.records(limit=1000)
    return [
        dict(r.entry.details)
        for r in records
        if r.entry.action == "recording.play" and r.entry.actor == actor
    ]


# --- playback audit -----------------------------------------------------------------------


async def test_a_segment_read_by_ranges_that_skip_its_first_byte_is_audited(
    world: World,
) -> None:
    client = world.app.client
    admin = client.headers["Authorization"].removeprefix("Bearer ")
    viewer = bearer(await make_user(client, admin, "snoop", "viewer", [world.camera_a]))
    segment = world.segments_a[1]
    data = (world.root / segment.path).read_bytes()
    url = f"/api/v1/cameras/{world.camera_a}/recordings/{_seg_id(segment)}"

    # The whole file but its first byte, in two pieces, then that byte on its own.
    middle = len(data) // 2
    pieces = [
        await client.get(url, headers={**viewer, "Range": f"bytes=1-{middle}"}),
        await client.get(url, headers={**viewer, "Range": f"bytes={middle + 1}-"}),
        await client.get(url, headers={**viewer, "Range": "bytes=0-0"}),
    ]
    assert [p.status_code for p in pieces] == [206, 206, 206]
    stolen = pieces[2].content + pieces[0].content + pieces[1].content
    assert stolen == data

    plays = await _plays(world, "user:snoop")
    assert len(plays) == 1, plays  # the reader is on record, once (a player's ranges are many)
    assert plays[0]["segment"] == _seg_id(segment)
    assert plays[0]["bytes"] == f"1-{middle}"

    # Another reader of the same segment, another segment: each on record.
    other = bearer(await make_user(client, admin, "snoop-2", "viewer", [world.camera_a]))
    assert (await client.get(url, headers={**other, "Range": "bytes=7-"})).status_code == 206
    assert len(await _plays(world, "user:snoop-2")) == 1
    next_url = f"/api/v1/cameras/{world.camera_a}/recordings/{_seg_id(world.segments_a[2])}"
    assert (await client.get(next_url, headers={**viewer, "Range": "bytes=9-"})).status_code == 206
    assert len(await _plays(world, "user:snoop")) == 2


async def test_a_reader_is_audited_again_once_the_window_has_passed(
    tmp_path: Path, bikes_mp4: Path
) -> None:
    database = MemoryDatabase()
    await database.cameras.add(Camera("cam-1", "gate", "rtsp://127.0.0.1:8554/gate"))
    root = tmp_path / "recordings"
    segment = _record(bikes_mp4, root, "cam-1")[0]
    now = [T0]
    evidence = await open_evidence_service(
        settings_for(tmp_path), database.evidence, database.audit, secret=SECRET
    )
    try:
        service = RecordingService(
            database, FileRecordingStore(SegmentIndex(root)), evidence, clock=lambda: now[0]
        )
        for minutes in (0, 5, 9, 11, 12):
            now[0] = T0 + timedelta(minutes=minutes)
            await service.media("cam-1", _seg_id(segment), "bytes=3-", actor=SYSTEM_ACTOR)
        records = await database.audit.records(limit=100)
        plays = [r.entry.at for r in records if r.entry.action == "recording.play"]
        assert sorted(plays) == [T0, T0 + timedelta(minutes=11)]
    finally:
        await evidence.close()


# --- camera scope -------------------------------------------------------------------------


async def test_a_scoped_api_key_reaches_no_other_cameras_recordings(world: World) -> None:
    client = world.app.client
    made = await client.post(
        "/api/v1/api-keys",
        json={"name": "scoped", "permissions": ["view", "operate"], "cameras": [world.camera_a]},
    )
    assert made.status_code == 201, made.text
    key = {"X-API-Key": made.json()["key"]}
    base_a = f"/api/v1/cameras/{world.camera_a}/recordings"
    base_b = f"/api/v1/cameras/{world.camera_b}/recordings"
    span = {"start": _z(T0), "end": _z(T0 + timedelta(seconds=4))}
    window = {"start": _z(T0 - timedelta(minutes=1)), "end": _z(T0 + timedelta(minutes=1))}

    mine = await client.get(base_a, params=window, headers=key)
    assert mine.status_code == 200, mine.text
    assert world.camera_b not in mine.text
    theirs = _seg_id(world.segments_b[0])
    refused = [
        await client.get(base_b, params=window, headers=key),
        await client.get(f"{base_b}/{theirs}", headers=key),
        await client.get(f"{base_b}/{theirs}", headers={**key, "Range": "bytes=1-"}),
        await client.post(f"{base_b}/export", json=span, headers=key),
    ]
    for answer in refused:
        assert answer.status_code in (403, 404), answer.text
        assert not answer.content.startswith(b"\x00\x00\x00")  # no MP4
        assert b"PK" not in answer.content[:2]  # no bundle
    # Through its own camera the id names its own camera's segment, never the other's.
    (world.root / world.segments_a[0].path).unlink()
    assert _seg_id(world.segments_a[0]) == theirs
    assert (await client.get(f"{base_a}/{theirs}", headers=key)).status_code == 404
    exported = await client.post(f"{base_a}/export", json=span, headers=key)
    assert exported.status_code == 200, exported.text
    assert exported.content[:2] == b"PK"


# --- export memory ------------------------------------------------------------------------


async def test_an_export_holds_the_range_in_memory_a_bounded_number_of_times(
    tmp_path: Path,
) -> None:
    database = MemoryDatabase()
    await database.cameras.add(Camera("cam-1", "gate", "rtsp://127.0.0.1:8554/gate"))
    index = SegmentIndex(tmp_path / "recordings")
    count, size = 16, 2 * 1024 * 1024
    for n in range(count):
        start = T0 + timedelta(minutes=n)
        relative = segment_path("cam-1", start)
        path = index.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))  # whole segments are copied, never parsed
        write_sidecar(
            index.root,
            Segment("cam-1", start, start + timedelta(seconds=59), relative, size, "h264"),
        )
    evidence = await open_evidence_service(
        settings_for(tmp_path), database.evidence, database.audit, secret=SECRET
    )
    try:
        service = RecordingService(database, FileRecordingStore(index), evidence, clock=lambda: T0)
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            done = await service.export(
                "cam-1", T0, T0 + timedelta(minutes=count), actor=SYSTEM_ACTOR
            )
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    finally:
        await evidence.close()
    total = count * size
    assert len(done.clips) == count
    assert all(clip.data == b"" for clip in done.clips)
    # The decrypted items, the zip being written and its copy: about three times the
    # range (it was four while every clip stayed in memory until the bundle was made).
    assert peak < 3.5 * total, f"peak {peak / total:.2f} times the range"


# --- the recorder and the source policy ---------------------------------------------------


@contextlib.asynccontextmanager
async def _serving(settings: Settings, database: SqlDatabase) -> AsyncIterator[httpx.AsyncClient]:
    adapters = Adapters(
        database=database, bus=MemoryEventBus(ack_wait=0.5), pipelines=MemoryPipelines()
    )

    async def opener(_: Settings) -> Adapters:
        return adapters

    async with running(build_app(settings, open_adapters=opener)) as asgi:
        transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://argus") as client:
            client.headers.update(bearer(await admin_token(client)))
            yield client


async def _recording(client: httpx.AsyncClient, camera_id: str, check: Any) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while True:
        answer = await client.get(f"/api/v1/cameras/{camera_id}/status")
        assert answer.status_code == 200, answer.text
        recording: dict[str, Any] | None = answer.json().get("recording")
        if recording is not None and check(recording):
            return recording
        if time.monotonic() > deadline:
            pytest.fail(f"camera {camera_id}: {recording}")
        await anyio.sleep(0.05)


def _threads(camera_id: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"argus-record-{camera_id}"]


async def test_a_stored_camera_outside_the_media_directories_is_not_recorded(
    media: Media, tmp_path: Path
) -> None:
    outside = media.video("secret.mp4", frames=25, fps=25)  # in tmp_path, not in data/
    data_dir = tmp_path / "data"
    (data_dir / "media").mkdir(parents=True)
    allowed = media.video("allowed.mp4", frames=25, fps=25).rename(data_dir / "media" / "ok.mp4")
    link = data_dir / "media" / "link.mp4"
    link.symlink_to(outside)
    database = await SqlDatabase.open(f"sqlite:///{data_dir / 'argus.db'}", secret_key=SECRET)
    # Rows that never passed the camera service's check (a restore, an older version, a
    # policy narrowed since): the recorder must hold them to the policy itself.
    cameras = {
        "direct": Camera("cam-direct", "direct", str(outside)),
        "file-url": Camera("cam-fileurl", "file url", f"file://{outside}"),
        "link": Camera("cam-link", "link", str(link)),
        "allowed": Camera("cam-ok", "allowed", str(allowed)),
    }
    for camera in cameras.values():
        await database.cameras.add(camera)
    settings = settings_for(data_dir, recording=True, recording_segment_s=1.0)
    async with _serving(settings, database) as client:
        await _recording(client, "cam-ok", lambda r: r["segments"] >= 1)
        for name in ("direct", "file-url", "link"):
            refused = await _recording(client, cameras[name].id, lambda r: r["state"] == "error")
            assert "ARGUS_MEDIA_DIRS" in (refused["last_error"] or ""), refused
            assert refused["segments"] == 0
    index = SegmentIndex(data_dir / "recordings")
    for name in ("direct", "file-url", "link"):
        assert index.scan(cameras[name].id) == []
        assert not (data_dir / "recordings" / cameras[name].id).exists()
    assert index.scan("cam-ok")


async def test_a_flood_of_camera_changes_leaves_one_recorder(media: Media, tmp_path: Path) -> None:
    first = media.video("first.mp4", frames=25, fps=25)
    second = media.video("second.mp4", frames=25, fps=25)
    database = await SqlDatabase.open(f"sqlite:///{tmp_path / 'argus.db'}", secret_key=SECRET)
    settings = settings_for(tmp_path, recording=True, recording_segment_s=1.0)
    async with _serving(settings, database) as client:
        made = await client.post("/api/v1/cameras", json={"name": "Yard", "stream_url": str(first)})
        assert made.status_code == 201, made.text
        camera_id = made.json()["id"]
        for n in range(20):
            body: dict[str, Any] = {"stream_url": str(second if n % 2 == 0 else first)}
            if n % 5 == 4:
                body = {"enabled": n % 10 != 4}
            answer = await client.patch(f"/api/v1/cameras/{camera_id}", json=body)
            assert answer.status_code == 200, answer.text
        assert len(_threads(camera_id)) == 1
        deleted = await client.delete(f"/api/v1/cameras/{camera_id}")
        assert deleted.status_code == 204, deleted.text
        assert _threads(camera_id) == []


# --- cost of a timeline -------------------------------------------------------------------


class _CountingEvents:
    """The store's events, counting the queries made (each one counts the whole range)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.queries = 0

    async def query(self, *args: Any, **kwargs: Any) -> Any:
        self.queries += 1
        return await self.inner.query(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _Counted:
    def __init__(self, database: MemoryDatabase) -> None:
        self.inner = database
        self.events = _CountingEvents(database.events)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.parametrize(("count", "truncated"), [(MAX_MARKERS, False), (MAX_MARKERS * 3, True)])
async def test_a_crowded_timeline_reads_its_markers_in_as_few_queries_as_its_pages(
    tmp_path: Path, count: int, truncated: bool
) -> None:
    database = MemoryDatabase()
    await database.cameras.add(Camera("cam-1", "gate", "rtsp://127.0.0.1:8554/gate"))
    source = EventSource("edge-1", "cam-1")
    await database.events.add_many(
        [
            Envelope.wrap(
                ZoneEntered(
                    zone="lobby",
                    track_id=n,
                    class_id=0,
                    class_name="car",
                    timestamp=0.0,
                    confidence=1,
                ),
                source,
                T0 + timedelta(seconds=n),
            )
            for n in range(count)
        ]
    )
    counted = _Counted(database)
    evidence = await open_evidence_service(
        settings_for(tmp_path), database.evidence, database.audit, secret=SECRET
    )
    try:
        service = RecordingService(
            counted,
            FileRecordingStore(SegmentIndex(tmp_path / "recordings")),
            evidence,
            clock=lambda: T0,
        )
        timeline = await service.timeline("cam-1", T0, T0 + timedelta(hours=24), actor=SYSTEM_ACTOR)
    finally:
        await evidence.close()
    assert (len(timeline.markers), timeline.markers_truncated) == (MAX_MARKERS, truncated)
    assert counted.events.queries == -(-MAX_MARKERS // MAX_PAGE)  # the pages, not one more


# --- what anonymous and scoped callers learn about cameras -------------------------------


class _SaturatedPipelines(MemoryPipelines):
    """The in-memory pipelines, every camera analysing below its fps (a saturated box)."""

    def statuses(self) -> list[CameraStatus]:
        return [
            dataclasses.replace(s, target_fps=5.0, granted_fps=1.5, saturated=True)
            for s in super().statuses()
        ]


async def test_health_names_no_camera_and_metrics_keep_to_the_callers_scope(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, recording=True)
    async with api("memory", tmp_path, pipelines=_SaturatedPipelines(), settings=settings) as app:
        mine, theirs = await _camera(app, "gate-zr9"), await _camera(app, "vault-xq7")
        client = app.client
        admin = client.headers["Authorization"].removeprefix("Bearer ")
        viewer = bearer(await make_user(client, admin, "scoped", "viewer", [mine]))
        anonymous = {"Authorization": ""}

        ready = await client.get("/health/ready", headers=anonymous)
        assert ready.status_code == 200, ready.text
        assert "inference saturated: 2 of 2 cameras" in ready.text
        for camera in (mine, theirs):
            assert camera not in ready.text

        assert (await client.get("/metrics", headers=anonymous)).status_code == 401
        scoped = await client.get("/metrics", headers=viewer)
        assert scoped.status_code == 200, scoped.text
        assert f'argus_camera_granted_fps{{camera_id="{mine}"}} 1.5' in scoped.text
        assert f'argus_recording_state{{camera_id="{mine}"' in scoped.text
        assert theirs not in scoped.text
        assert "vault-xq7" not in scoped.text  # ids, never names
        assert "gate-zr9" not in scoped.text


# --- sub-streams: a stored camera's detect stream is held to the policy when it starts -----


async def test_a_stored_cameras_detect_stream_outside_the_media_directories_is_not_opened(
    media: Media, tmp_path: Path
) -> None:
    data, allowed = tmp_path / "data", tmp_path / "data" / "media"
    allowed.mkdir(parents=True)
    main = media.video("main.mp4", frames=25, fps=25).rename(allowed / "main.mp4")
    secret = media.video("secret.mp4", frames=25, fps=25)  # outside the media directory
    link = allowed / "detect.mp4"
    link.symlink_to(secret)
    settings = settings_for(data, media_dirs=str(allowed))
    # Saved without the camera service's check (an older server, a narrowed policy).
    stored = {
        "link": Camera("cam-link", "link", str(main), detect_stream_url=str(link)),
        "direct": Camera("cam-direct", "direct", str(main), detect_stream_url=str(secret)),
    }
    bus = MemoryEventBus()
    edge = edge_pipelines(
        settings,
        bus,
        sources=SourceOptions(realtime_files=False, loop_files=True),
        defaults=DetectDefaults(input_size=320, confidence=0.3),
        restart=RestartPolicy(backoff=BackoffPolicy(initial=0.1, max_delay=0.5), stall_s=30.0),
    )
    try:
        for camera in stored.values():
            await edge.apply(camera, [], [])
        deadline = time.monotonic() + WAIT
        for camera in stored.values():
            while REFUSED not in (getattr(edge.status(camera.id), "last_error", None) or ""):
                assert time.monotonic() < deadline, f"{camera.id}: {edge.status(camera.id)}"
                await anyio.sleep(0.05)
            assert edge.snapshot(camera.id) is None
            refused = edge.status(camera.id)
            assert refused is not None
            assert refused.last_frame_at is None  # not one frame of either stream analysed
    finally:
        await edge.close()
        await bus.close()


# --- a camera id cannot lead the recorder out of the recordings root -----------------------


@pytest.mark.parametrize(
    "camera_id", ["../escape", "..", "a/../../escape", "/tmp/escape", ".hidden"]
)
def test_a_camera_id_cannot_make_the_recorder_write_outside_its_root(
    media: Media, tmp_path: Path, camera_id: str
) -> None:
    clip = media.video("clip.mp4", frames=25, fps=25)
    root = tmp_path / "deep" / "recordings"
    runner = RecordingRunner(
        root, options=RecorderOptions(segment_seconds=0.5, backoff=BackoffPolicy(initial=0.05))
    )
    # A stored row (a restore, another version): ids are ULIDs when the service makes them.
    runner.apply(Camera(camera_id, "escape", str(clip)))
    try:
        deadline = time.monotonic() + WAIT
        while (status := runner.status(camera_id)) is None or status.state != "error":
            assert time.monotonic() < deadline, f"{camera_id}: {status}"
            time.sleep(0.02)
        assert "cannot name a recordings directory" in (status.last_error or "")
    finally:
        assert runner.stop()
    written = sorted(p for p in tmp_path.rglob("*") if p.suffix in {".mp4", ".json", ".part"})
    assert written == [clip]
    assert (
        FileRecordingStore(SegmentIndex(root)).overlapping(
            camera_id, T0 - timedelta(days=1), T0 + timedelta(days=1)
        )
        == []
    )
