"""The recordings API over real segments: timeline, playback with ``Range``, sealed export.

Segments are written by ``SegmentRecorder`` from the real ``bikes.mp4`` (10 s,
keyframes at 0, 1.2, 3.04, 5.48, 7.48 and 9.68 s) into the app's recordings
root, dated by an injected clock: one recording at ``T0`` and one at
``T0 + 20 s``, so ``[T0 + 10 s, T0 + 20 s)`` is a gap. ``T0`` is placed ten
minutes before the test starts because alerts are listed by when the server
raised them (its own clock); every asserted time is exact media arithmetic.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import pytest

from argus.adapters.recording import SegmentRecorder
from argus.domain.events import Envelope, EventSource, LineCrossed
from argus.domain.recording import Segment
from argus.services.evidence import verify_bundle
from tests.auth_support import bearer, make_user, settings_for
from tests.integration.api_support import Api, api, eventually

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

ARGUS = str(Path(sys.executable).with_name("argus"))
T0 = (datetime.now(UTC) - timedelta(minutes=10)).replace(microsecond=0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def record(clip: Path, root: Path, camera_id: str, start: datetime) -> list[Segment]:
    recorder = SegmentRecorder(
        camera_id, str(clip), root, segment_seconds=2.0, realtime=False, now=lambda: start
    )
    return list(recorder.segments())


def seg_id(segment: Segment) -> str:
    return Path(segment.path).name[len(segment.camera_id) + 1 : -len(".mp4")]


@dataclass
class World:
    app: Api
    root: Path
    camera_a: str
    camera_b: str
    segments: list[Segment]
    other: list[Segment]


async def _camera(app: Api, name: str) -> str:
    answer = await app.client.post(
        "/api/v1/cameras", json={"name": name, "stream_url": f"rtsp://127.0.0.1:8554/{name}"}
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _crossing(camera_id: str, moment: datetime) -> Envelope:
    event = LineCrossed(
        line="gate",
        track_id=3,
        class_id=0,
        class_name="person",
        direction="in",
        timestamp=5.0,
        confidence=0.9,
    )
    return Envelope.wrap(event, EventSource("edge-1", camera_id), moment)


@pytest.fixture(params=["memory", "sqlite"])
async def world(
    request: pytest.FixtureRequest, tmp_path: Path, bikes_mp4: Path
) -> AsyncIterator[World]:
    async with api(request.param, tmp_path) as app:
        camera_a, camera_b = await _camera(app, "gate"), await _camera(app, "yard")
        root = tmp_path / "recordings"
        segments = record(bikes_mp4, root, camera_a, T0) + record(bikes_mp4, root, camera_a, at(20))
        other = record(bikes_mp4, root, camera_b, T0)
        yield World(app, root, camera_a, camera_b, segments, other)


async def _timeline(world: World, **params: str) -> dict[str, Any]:
    answer = await world.app.client.get(
        f"/api/v1/cameras/{world.camera_a}/recordings", params=params
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- timeline -----------------------------------------------------------------------------


async def test_the_timeline_lists_segments_gaps_and_markers(world: World) -> None:
    rule = await world.app.client.post("/api/v1/rules", json={"name": "gate crossing"})
    assert rule.status_code == 201, rule.text
    crossing = _crossing(world.camera_a, at(5))
    await world.app.bus.publish("events", crossing)
    elsewhere = _crossing(world.camera_b, at(6))
    await world.app.bus.publish("events", elsewhere)

    async def marked() -> bool:
        body = await _timeline(world, start=z(T0), end=z(at(40)))
        return {m["kind"] for m in body["markers"]} == {"alert", "event"}

    await eventually(marked, "the crossing's event and alert markers")
    body = await _timeline(world, start=z(T0), end=z(at(40)))

    assert body["camera_id"] == world.camera_a
    assert (_time(body["start"]), _time(body["end"])) == (T0, at(40))
    assert body["recording"] == {"enabled": False, "state": None}
    assert [s["id"] for s in body["segments"]] == [seg_id(s) for s in world.segments]
    assert [(_time(s["start"]), _time(s["end"])) for s in body["segments"]] == [
        (s.start, s.end) for s in world.segments
    ]
    assert {s["codec"] for s in body["segments"]} == {"h264"}
    assert [s["bytes"] for s in body["segments"]] == [s.bytes for s in world.segments]
    first_end, second_end = world.segments[4].end, world.segments[-1].end
    assert [(_time(g["start"]), _time(g["end"])) for g in body["gaps"]] == [
        (first_end, at(20)),
        (second_end, at(40)),
    ]
    event, alert = sorted(body["markers"], key=lambda m: m["kind"], reverse=True)
    assert event == {
        "time": event["time"],
        "kind": "event",
        "id": crossing.event_id,
        "type": "line.crossed",
        "label": "person crossed gate (in)",
        "severity": None,
    }
    assert _time(event["time"]) == at(5)
    assert alert["kind"] == "alert"
    assert (alert["type"], alert["label"]) == ("line.crossed", "gate crossing: person")
    assert alert["severity"] in ("low", "medium", "high")
    assert _time(alert["time"]) == at(5)
    assert body["markers_truncated"] is False


async def test_a_timeline_of_another_range_leaves_out_what_lies_outside(world: World) -> None:
    body = await _timeline(world, start=z(at(11)), end=z(at(19)))
    assert body["segments"] == []
    assert [(_time(g["start"]), _time(g["end"])) for g in body["gaps"]] == [(at(11), at(19))]
    only_end = await _timeline(world, end=z(at(4)))
    assert _time(only_end["start"]) == at(4) - timedelta(hours=1)
    assert [s["id"] for s in only_end["segments"]] == [
        seg_id(world.segments[0]),
        seg_id(world.segments[1]),
    ]


@pytest.mark.parametrize(
    ("params", "what"),
    [
        ({"start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:01Z"}, "over 24 h"),
        ({"start": "2026-03-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"}, "empty"),
        ({"start": "2026-03-01T01:00:00Z", "end": "2026-03-01T00:00:00Z"}, "reversed"),
        ({"start": "2026-03-01T00:00:00", "end": "2026-03-01T01:00:00"}, "no time zone"),
        ({"start": "0001-01-01T00:00:00Z"}, "year 1"),
        ({"start": "1e30"}, "a number"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_bad_timeline_ranges_are_refused(
    world: World, params: dict[str, str], what: str
) -> None:
    answer = await world.app.client.get(
        f"/api/v1/cameras/{world.camera_a}/recordings", params=params
    )
    assert answer.status_code == 422, f"{what}: {answer.text}"


async def test_an_unknown_camera_has_no_timeline(world: World) -> None:
    for camera in ("no-such-camera", "..", "a" * 64):
        answer = await world.app.client.get(f"/api/v1/cameras/{camera}/recordings")
        assert answer.status_code == 404, answer.text


# --- playback -----------------------------------------------------------------------------


async def test_a_segment_is_served_whole_and_by_range(world: World) -> None:
    segment = world.segments[1]
    data = (world.root / segment.path).read_bytes()
    url = f"/api/v1/cameras/{world.camera_a}/recordings/{seg_id(segment)}"
    whole = await world.app.client.get(url)
    assert whole.status_code == 200, whole.text
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == str(len(data))
    assert whole.content == data
    size = len(data)
    cases = {
        "bytes=0-99": (0, 99),
        "bytes=100-": (100, size - 1),
        "bytes=-50": (size - 50, size - 1),
        f"bytes=10-{size + 1000}": (10, size - 1),
        f"bytes=-{size * 2}": (0, size - 1),
    }
    for header, (first, last) in cases.items():
        part = await world.app.client.get(url, headers={"Range": header})
        assert part.status_code == 206, f"{header}: {part.text}"
        assert part.headers["content-range"] == f"bytes {first}-{last}/{size}", header
        assert part.content == data[first : last + 1], header
    with av.open(io.BytesIO(whole.content), mode="r") as container:
        assert sum(1 for _ in container.decode(video=0)) > 0


@pytest.mark.parametrize(
    "header",
    [
        "bytes=999999999-",
        "bytes=5-1",
        "bytes=0-1,5-6",
        "items=0-1",
        "bytes=-0",
        "bytes=--1",
        "bytes=abc-",
        "bytes=-",
        "bytes=" + "9" * 30 + "-",
        "bytes= 0-1",
    ],
)
async def test_bad_ranges_answer_416(world: World, header: str) -> None:
    segment = world.segments[0]
    size = (world.root / segment.path).stat().st_size
    url = f"/api/v1/cameras/{world.camera_a}/recordings/{seg_id(segment)}"
    answer = await world.app.client.get(url, headers={"Range": header})
    assert answer.status_code == 416, f"{header}: {answer.status_code} {answer.text[:200]}"
    assert answer.headers["content-range"] == f"bytes */{size}"


async def test_paths_never_come_from_the_request(world: World) -> None:
    secret = world.root.parent / "secret.txt"
    secret.write_text("not a recording")
    base = f"/api/v1/cameras/{world.camera_a}/recordings"
    for attempt in (
        "..%2F..%2Fargus.db",
        "%2E%2E",
        "20260301T120000.000Z%2F..%2F..%2Fsecret.txt",
        "20260301T120000.000Z.mp4",
        "secret.txt",
        "20260301T120000.000Z%00",
    ):
        answer = await world.app.client.get(f"{base}/{attempt}")
        assert answer.status_code in (404, 422), f"{attempt}: {answer.status_code}"
        assert b"not a recording" not in answer.content
        assert not answer.content.startswith(b"SQLite")
    # A file named like a segment that links out of the recordings root is not served.
    day = world.root / world.camera_a / f"{T0 + timedelta(days=1):%Y-%m-%d}"
    day.mkdir(parents=True)
    stamp = (T0 + timedelta(days=1)).strftime("%Y%m%dT%H%M%S") + ".000Z"
    (day / f"{world.camera_a}-{stamp}.mp4").symlink_to(secret)
    answer = await world.app.client.get(f"{base}/{stamp}")
    assert answer.status_code == 404, answer.text
    # An unknown id of the right shape.
    assert (await world.app.client.get(f"{base}/20200101T000000.000Z")).status_code == 404


async def test_another_cameras_segment_is_not_found_through_this_camera(world: World) -> None:
    theirs = world.other[0]
    # Same start as camera A's first segment, so the id is valid for both; each resolves
    # to its own camera's file.
    mine = world.segments[0]
    assert seg_id(theirs) == seg_id(mine)
    (world.root / mine.path).unlink()
    answer = await world.app.client.get(
        f"/api/v1/cameras/{world.camera_a}/recordings/{seg_id(theirs)}"
    )
    assert answer.status_code == 404, answer.text
    own = await world.app.client.get(
        f"/api/v1/cameras/{world.camera_b}/recordings/{seg_id(theirs)}"
    )
    assert own.status_code == 200
    assert own.content == (world.root / theirs.path).read_bytes()


async def test_playback_is_audited_once_per_opening(world: World) -> None:
    segment = world.segments[2]
    url = f"/api/v1/cameras/{world.camera_a}/recordings/{seg_id(segment)}"
    assert (await world.app.client.get(url)).status_code == 200
    assert (await world.app.client.get(url, headers={"Range": "bytes=100-"})).status_code == 206
    records = await world.app.plane.database.audit.records(limit=1000)
    plays = [r.entry for r in records if r.entry.action == "recording.play"]
    assert len(plays) == 1
    assert plays[0].target == f"camera:{world.camera_a}"
    assert plays[0].details["segment"] == seg_id(segment)
    assert plays[0].actor == "user:admin"


async def test_camera_scope_and_roles(world: World) -> None:
    client = world.app.client
    admin = client.headers["Authorization"].removeprefix("Bearer ")
    viewer = await make_user(client, admin, "viewer-a", "viewer", [world.camera_a])
    base_a = f"/api/v1/cameras/{world.camera_a}/recordings"
    base_b = f"/api/v1/cameras/{world.camera_b}/recordings"
    seg_b = seg_id(world.other[0])
    as_viewer = bearer(viewer)
    assert (await client.get(base_a, headers=as_viewer)).status_code == 200
    assert (await client.get(base_b, headers=as_viewer)).status_code == 403
    assert (await client.get(f"{base_b}/{seg_b}", headers=as_viewer)).status_code == 403
    span = {"start": z(at(1)), "end": z(at(2))}
    assert (await client.post(f"{base_a}/export", json=span, headers=as_viewer)).status_code == 403
    operator = await make_user(client, admin, "operator-a", "operator", [world.camera_a])
    as_operator = bearer(operator)
    assert (
        await client.post(f"{base_b}/export", json=span, headers=as_operator)
    ).status_code == 403
    mine = await client.post(f"{base_a}/export", json=span, headers=as_operator)
    assert mine.status_code == 200, mine.text


# --- export -------------------------------------------------------------------------------


def _frames(data: bytes) -> tuple[int, bool, str]:
    """Frames decoded, whether the first packet is a keyframe, and the codec of an MP4."""
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        frames = 0
        for packet in packets:
            frames += len(stream.decode(packet))
        frames += len(stream.decode(None))
        return frames, packets[0].is_keyframe, stream.codec_context.name


async def test_a_range_exports_as_a_sealed_bundle_that_verifies(
    world: World, tmp_path: Path
) -> None:
    client = world.app.client
    answer = await client.post(
        f"/api/v1/cameras/{world.camera_a}/recordings/export",
        json={"start": z(at(4)), "end": z(at(8))},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    bundle = answer.content
    digest = hashlib.sha256(bundle).hexdigest()
    assert answer.headers["x-bundle-sha256"] == digest
    key = (await client.get("/api/v1/evidence/keys/signing")).json()["public_key_hex"]
    report = verify_bundle(bundle, bytes.fromhex(key))
    assert report.ok, [c for c in report.checks if not c.ok]

    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        items = {i["evidence"]["id"]: i for i in manifest["items"]}
        (described,) = [i for i in items.values() if i["evidence"]["kind"] == "document"]
        about = json.loads(archive.read(described["file"]))
        clips = about["clips"]
        datas = [archive.read(items[c["evidence_id"]]["file"]) for c in clips]
    assert about["camera_id"] == world.camera_a
    requested = about["requested"]
    assert (_time(requested["start"]), _time(requested["end"])) == (at(4), at(8))
    # The segments [3.04, 5.48), [5.48, 7.48) and [7.48, 9.68) share time with [4, 8).
    assert [c["segment_id"] for c in clips] == [seg_id(s) for s in world.segments[1:4]]
    assert [c["whole_segment"] for c in clips] == [False, True, False]
    assert _time(clips[0]["start"]) == at(3.04)  # the keyframe before the start asked for
    assert _time(clips[1]["start"]) == at(5.48)
    assert _time(clips[2]["start"]) == at(7.48)
    assert _time(clips[2]["end"]) >= at(8) - timedelta(seconds=0.04)
    assert datas[1] == (world.root / world.segments[2].path).read_bytes()
    counts = []
    for data in datas:
        frames, keyframe_first, codec = _frames(data)
        assert keyframe_first
        assert codec == "h264"
        counts.append(frames)
    # 25 fps: 61 frames from 3.04 to 5.48, 50 to 7.48, then 13 up to 8 s (B-frames
    # decoded before 8 s may bring a few more).
    assert counts[:2] == [61, 50]
    assert 13 <= counts[2] <= 16
    for item in items.values():
        assert item["evidence"]["camera_id"] == world.camera_a
    assert {i["evidence"]["content_type"] for i in items.values()} == {
        "video/mp4",
        "application/json",
    }

    records = await world.app.plane.database.audit.records(limit=1000)
    (exported,) = [r.entry for r in records if r.entry.action == "recording.export"]
    assert exported.target == f"camera:{world.camera_a}"
    assert exported.details["bundle_sha256"] == digest
    assert exported.details["start"] == z(at(4)).replace("Z", ".000000Z")
    assert set(exported.details["evidence"]) == set(items)
    audit_names = {
        r["action"]
        for r in json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read("audit.json"))["records"]
    }
    assert "evidence.store" in audit_names

    # The argus command accepts it, pinned to the installation key; a flipped byte fails.
    path = tmp_path / "export.zip"
    path.write_bytes(bundle)
    ok = subprocess.run(
        [ARGUS, "evidence", "verify", str(path), "--public-key", key],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    tampered = tmp_path / "tampered.zip"
    _rewrite(bundle, tampered, items[clips[1]["evidence_id"]]["file"])
    assert not verify_bundle(tampered.read_bytes(), bytes.fromhex(key)).ok
    bad = subprocess.run(
        [ARGUS, "evidence", "verify", str(tampered)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "sha256 differs" in bad.stdout


def _rewrite(bundle: bytes, target: Path, member: str) -> None:
    """Copy ``bundle`` to ``target`` with one byte of ``member`` flipped."""
    with (
        zipfile.ZipFile(io.BytesIO(bundle)) as source,
        zipfile.ZipFile(target, "w") as copy,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == member:
                data = data[:100] + bytes([data[100] ^ 1]) + data[101:]
            copy.writestr(info, data)


@pytest.mark.parametrize(
    ("span", "status"),
    [
        (("2026-03-01T00:00:00Z", "2026-03-01T01:00:01Z"), 422),  # over an hour
        (("2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z"), 422),  # empty
        (("2026-03-01T00:10:00Z", "2026-03-01T00:00:00Z"), 422),  # reversed
        (("2026-03-01T00:00:00", "2026-03-01T00:10:00"), 422),  # no time zone
        (("1000-01-01T00:00:00Z", "9999-01-01T00:00:00Z"), 422),  # absurd
        (("2020-01-01T00:00:00Z", "2020-01-01T00:30:00Z"), 404),  # nothing recorded
    ],
)
async def test_bad_export_ranges_are_refused(
    world: World, span: tuple[str, str], status: int
) -> None:
    answer = await world.app.client.post(
        f"/api/v1/cameras/{world.camera_a}/recordings/export",
        json={"start": span[0], "end": span[1]},
    )
    assert answer.status_code == status, answer.text
    records = await world.app.plane.database.audit.records(limit=1000)
    assert not [r for r in records if r.entry.action == "recording.export"]


async def test_an_export_body_with_extra_fields_is_refused(world: World) -> None:
    answer = await world.app.client.post(
        f"/api/v1/cameras/{world.camera_a}/recordings/export",
        json={"start": z(at(1)), "end": z(at(2)), "path": "../../etc/passwd"},
    )
    assert answer.status_code == 422, answer.text


# --- with this server recording -----------------------------------------------------------


async def test_a_recording_server_fills_the_timeline_it_serves(
    tmp_path: Path, bikes_mp4: Path
) -> None:
    clip = tmp_path / "bikes.mp4"
    clip.write_bytes(bikes_mp4.read_bytes())
    settings = settings_for(tmp_path, recording=True, recording_segment_s=1.0)
    async with api("memory", tmp_path, settings=settings) as app:
        made = await app.client.post(
            "/api/v1/cameras", json={"name": "bikes", "stream_url": str(clip)}
        )
        assert made.status_code == 201, made.text
        camera_id = made.json()["id"]
        url = f"/api/v1/cameras/{camera_id}/recordings"
        found: dict[str, Any] = {}

        async def recorded() -> bool:
            answer = await app.client.get(url)
            assert answer.status_code == 200, answer.text
            found.update(answer.json())
            return bool(found["segments"])

        await eventually(recorded, "the first segment of the recording camera")
        assert found["recording"]["enabled"] is True
        assert found["recording"]["state"] in ("starting", "recording")
        first = found["segments"][0]
        assert first["codec"] == "h264"
        played = await app.client.get(f"{url}/{first['id']}")
        assert played.status_code == 200
        assert len(played.content) == first["bytes"]
        assert (tmp_path / "recordings" / camera_id).is_dir()
