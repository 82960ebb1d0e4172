"""A privacy range erasure erases the camera's continuous recordings too, through the real API.

Segments are written by ``SegmentRecorder`` from the real ``bikes.mp4`` (10 s,
25 fps, B-frames, keyframes at 0, 1.2, 3.04, 5.48, 7.48 and 9.68 s) into the
app's recordings root, dated by an injected clock. Frames are decoded before
and after the erasure: what is left shows no frame of the erased range, and
each frame left is the very frame recorded at its time. Every asserted time
is exact media arithmetic.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import pytest

from argus.adapters.recording import SegmentIndex, SegmentRecorder
from argus.domain.alerts import Incident
from argus.domain.cameras import new_id
from argus.domain.codec import iso_z
from argus.domain.recording import Segment
from tests.integration.api_support import STORES, Api, api
from tests.integration.test_alerts_contract import _alert

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WAIT_S = 30.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def seg_id(segment: Segment) -> str:
    return Path(segment.path).name[len(segment.camera_id) + 1 : -len(".mp4")]


def record(
    clip: Path, root: Path, camera_id: str, start: datetime, seconds: float
) -> list[Segment]:
    recorder = SegmentRecorder(
        camera_id, str(clip), root, segment_seconds=seconds, realtime=False, now=lambda: start
    )
    return list(recorder.segments())


def frames(root: Path, segment: Segment) -> dict[datetime, str]:
    """Each decoded frame of a segment by its wall-clock time (to the microsecond): a digest."""
    found: dict[datetime, str] = {}
    with av.open(str(root / segment.path)) as container:
        stream = container.streams.video[0]
        decoded = [(f.pts, f.to_ndarray(format="gray")) for f in container.decode(stream)]
        base = stream.time_base  # read while the file is open: after, it is freed memory
    first = min(pts for pts, _ in decoded if pts is not None)
    assert base is not None
    for pts, image in decoded:
        assert pts is not None
        moment = segment.start + timedelta(seconds=float((pts - first) * base))
        found[moment] = hashlib.sha256(image.tobytes()).hexdigest()
    return found


@dataclass
class World:
    app: Api
    root: Path
    camera: str
    other: str


async def _camera(app: Api, name: str) -> str:
    answer = await app.client.post(
        "/api/v1/cameras", json={"name": name, "stream_url": f"rtsp://127.0.0.1:8554/{name}"}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


@pytest.fixture(params=STORES)
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    async with api(request.param, tmp_path) as app:
        camera, other = await _camera(app, "gate"), await _camera(app, "yard")
        yield World(app, tmp_path / "recordings", camera, other)


async def _erase(world: World, since: datetime, until: datetime) -> dict[str, Any]:
    answer = await world.app.client.post(
        "/api/v1/privacy/erasures",
        json={
            "camera_id": world.camera,
            "since": z(since),
            "until": z(until),
            "reason": "erasure request 19",
        },
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def _timeline(world: World, camera: str, start: datetime, end: datetime) -> dict[str, Any]:
    answer = await world.app.client.get(
        f"/api/v1/cameras/{camera}/recordings", params={"start": z(start), "end": z(end)}
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_segments_across_the_edges_are_cut_at_keyframes(
    world: World, bikes_mp4: Path
) -> None:
    root = world.root
    (whole,) = record(bikes_mp4, root, world.camera, T0, 60.0)  # [0 s, 10 s): one segment
    later = record(bikes_mp4, root, world.camera, at(20), 4.0)  # [20, 25.48) [25.48, 29.68) ...
    elsewhere = record(bikes_mp4, root, world.other, T0, 60.0)
    before = frames(root, whole) | frames(root, later[0])
    since, until = at(2), at(21)

    body = await _erase(world, since, until)

    recordings = body["recordings"]
    tail_id = "20261102T090021.200Z"  # the keyframe at 1.2 s of the recording at 20 s
    assert recordings == {
        "edges": "cut",
        "segments_deleted": 0,
        "segments_cut": 2,
        # 8 s of the first segment, 1.2 s of the next: up to its keyframe at 21.2 s.
        "seconds_erased": 9.2,
        "seconds_beyond_range": 0.2,
        "bytes_freed": recordings["bytes_freed"],
        "deleted": [],
        "cut": [seg_id(whole), seg_id(later[0])],
        "parts": [seg_id(whole), tail_id],
        "uncut": [],
    }
    assert recordings["bytes_freed"] > 0
    assert body["kept"] == []
    left = SegmentIndex(root).scan(world.camera)
    assert (
        [(s.start, s.end) for s in left]
        == [
            (T0, at(2)),  # the head ends where the range starts: no frame is lost before it
            (at(21.2), later[0].end),  # the tail starts at the first keyframe after the range
            *[(s.start, s.end) for s in later[1:]],
        ]
    )
    after: dict[datetime, str] = {}
    for segment in left[:2]:
        after |= frames(root, segment)
    assert len(after) == 50 + (137 - 30)  # 2 s at 25 fps; the first segment's frames from 1.2 s
    assert not [moment for moment in after if since <= moment < until]
    assert {moment: before[moment] for moment in after} == after  # the very frames recorded
    assert SegmentIndex(root).scan(world.other) == elsewhere

    timeline = await _timeline(world, world.camera, T0, at(40))
    assert [s["id"] for s in timeline["segments"]] == [seg_id(s) for s in left]
    assert [(_time(g["start"]), _time(g["end"])) for g in timeline["gaps"]] == [
        (at(2), at(21.2)),
        (later[-1].end, at(40)),
    ]
    played = await world.app.client.get(
        f"/api/v1/cameras/{world.camera}/recordings/{seg_id(left[1])}"
    )
    assert played.status_code == 200, played.text
    assert played.content == (root / left[1].path).read_bytes()
    gone = await world.app.client.get(
        f"/api/v1/cameras/{world.camera}/recordings/{seg_id(later[0])}"
    )
    assert gone.status_code == 404, gone.text

    listed = (await world.app.client.get("/api/v1/privacy/requests", params={"limit": 1})).json()
    (request,) = listed["items"]
    assert request["action"] == "privacy.erase_range"
    assert request["details"]["recordings"] == recordings


async def test_whole_segments_go_and_those_of_a_held_alert_stay(
    world: World, bikes_mp4: Path
) -> None:
    root = world.root
    early = record(bikes_mp4, root, world.camera, T0, 4.0)  # three segments in [0 s, 10 s)
    held = record(bikes_mp4, root, world.camera, at(1200), 4.0)  # 20 minutes later
    alert = replace(_alert(camera_id=world.camera), event_time=at(1203))
    database = world.app.plane.database
    assert await database.alerts.add(alert)
    incident = Incident(
        id=new_id(),
        title="Held",
        created_at=T0,
        updated_at=T0,
        camera_id=world.camera,
        alert_ids=(alert.id,),
        legal_hold="case 7",
    )
    await database.incidents.add(incident)

    body = await _erase(world, T0, at(1800))

    recordings = body["recordings"]
    assert (recordings["segments_deleted"], recordings["segments_cut"]) == (len(early), 0)
    assert recordings["deleted"] == [seg_id(s) for s in early]
    assert (recordings["seconds_erased"], recordings["seconds_beyond_range"]) == (10.0, 0.0)
    why = f"legal hold on incident {incident.id}: case 7"
    assert body["kept"] == [{"kind": "recording", "id": seg_id(s), "reason": why} for s in held]
    assert SegmentIndex(root).scan(world.camera) == held
    assert len(list((root / world.camera).glob("*/*.json"))) == len(held)  # no stray sidecar
    for segment in early:
        assert not (root / segment.path).exists()
        assert not (root / (segment.path + ".json")).exists()
    timeline = await _timeline(world, world.camera, T0, at(600))
    assert timeline["segments"] == []


async def test_a_segment_still_being_written_is_listed_to_erase_again(
    world: World, bikes_mp4: Path
) -> None:
    recorder = SegmentRecorder(
        world.camera, str(bikes_mp4), world.root, segment_seconds=60.0, now=lambda: T0
    )  # in real time: its one segment is written for ten seconds
    thread = threading.Thread(target=lambda: list(recorder.segments()), daemon=True)
    thread.start()
    try:
        waiting = threading.Event()
        for _ in range(int(WAIT_S / 0.05)):
            if list((world.root / world.camera).glob("*/*.part")):
                break
            waiting.wait(0.05)
        assert list((world.root / world.camera).glob("*/*.part")), "no segment being written"

        body = await _erase(world, T0, at(60))
    finally:
        recorder.stop()
        thread.join(WAIT_S)

    assert body["recordings"]["segments_deleted"] == 0
    (kept,) = body["kept"]
    assert kept["kind"] == "recording"
    assert kept["id"] == f"{iso_z(T0)} (being written)"
    assert "make the erasure again" in kept["reason"]


async def test_a_segment_that_cannot_be_cut_is_deleted_whole_and_said_so(
    world: World, bikes_mp4: Path
) -> None:
    (whole,) = record(bikes_mp4, world.root, world.camera, T0, 60.0)
    path = world.root / whole.path
    path.write_bytes(path.read_bytes()[: whole.bytes // 2])  # a disk fault: its index is lost

    body = await _erase(world, at(2), at(4))

    recordings = body["recordings"]
    assert (recordings["segments_deleted"], recordings["segments_cut"]) == (1, 0)
    assert recordings["deleted"] == [seg_id(whole)]
    (uncut,) = recordings["uncut"]
    assert uncut["id"] == seg_id(whole)
    assert uncut["error"].startswith(f"cutting segment {whole.path}")
    assert (recordings["seconds_erased"], recordings["seconds_beyond_range"]) == (10.0, 8.0)
    assert not path.exists()
    assert not list(world.root.rglob("*.part"))  # nothing half written is left
    assert SegmentIndex(world.root).scan(world.camera) == []
