"""``ConfigKeeper``: cached configuration at start, long-poll updates, differences applied."""

from __future__ import annotations

import asyncio
import base64
import json
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

import pytest

from argus.adapters.edge.sealed_file import SealedFile
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.domain.cameras import Camera, Credentials, Line, Zone
from argus.domain.edge import (
    EdgeCamera,
    EdgeConfig,
    NodeRegistration,
    RegistrationReply,
    SyncBatch,
    SyncReply,
)
from argus.domain.errors import ArgusError
from argus.domain.scene_codec import camera_to_dict, line_to_dict, zone_to_dict
from argus.ports.edge_link import EdgeLink, LinkDown, LinkUnauthorized
from argus.services.edge_config import (
    ConfigKeeper,
    camera_from_json,
    line_from_json,
    zone_from_json,
)
from argus.services.edge_registration import Registrar

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
NODE = "node-1"


def _camera(camera_id: str, *, fps: float = 5.0, password: str | None = None) -> dict[str, object]:
    camera: dict[str, object] = {
        "id": camera_id,
        "name": f"Camera {camera_id}",
        "stream_url": f"rtsp://cam-{camera_id}.local/stream",
        "location": "",
        "has_credentials": password is not None,
        "credentials": None if password is None else {"username": "op", "password": password},
        "enabled": True,
        "detect_fps": fps,
        "model": "yolov7-tiny",
        "created_at": "2026-12-01T00:00:00Z",
        "updated_at": "2026-12-01T00:00:00Z",
        "edge_node_id": NODE,
    }
    return camera


def _line(camera_id: str) -> dict[str, object]:
    return {
        "id": f"line-{camera_id}",
        "camera_id": camera_id,
        "name": "door",
        "start": [0.0, 10.0],
        "end": [100.0, 10.0],
        "in_label": "in",
        "out_label": "out",
        "expected_direction": None,
        "anchors": ["BOTTOM_CENTER"],
        "min_crossing_frames": 2,
        "classes": ["person"],
    }


def _zone(camera_id: str) -> dict[str, object]:
    return {
        "id": f"zone-{camera_id}",
        "camera_id": camera_id,
        "name": "yard",
        "polygon": [[0, 0], [50, 0], [50, 50]],
        "anchors": ["BOTTOM_CENTER"],
        "loiter_seconds": 30.0,
        "crowd_threshold": None,
        "crowd_clear_seconds": 10.0,
        "min_frames": 1,
        "classes": None,
        "criticality": 0.5,
    }


def _config(*cameras: EdgeCamera, node_id: str = NODE) -> EdgeConfig:
    return EdgeConfig.build(
        node_id, cameras, health_interval_s=30.0, pre_roll_s=5.0, post_roll_s=5.0, server_time=NOW
    )


def _entry(camera_id: str, **options: object) -> EdgeCamera:
    return EdgeCamera(
        camera=_camera(camera_id, **options),  # type: ignore[arg-type]
        lines=(_line(camera_id),),
        zones=(_zone(camera_id),),
        evidence_types=("line.crossed",),
    )


class ScriptedLink:
    """An ``EdgeLink`` answering ``fetch_config`` from a script, then waiting forever."""

    def __init__(self, *replies: EdgeConfig | ArgusError) -> None:
        self.replies: deque[EdgeConfig | ArgusError] = deque(replies)
        self.asked: list[str | None] = []
        self.exhausted = asyncio.Event()

    async def register(self, reg: NodeRegistration) -> RegistrationReply:
        raise LinkDown("not scripted")

    async def fetch_config(self, node_id: str, after: str | None, wait_s: float) -> EdgeConfig:
        assert node_id == NODE
        self.asked.append(after)
        if not self.replies:
            self.exhausted.set()
            await asyncio.Event().wait()
        reply = self.replies.popleft()
        if isinstance(reply, ArgusError):
            raise reply
        return reply

    async def sync(self, batch: SyncBatch) -> SyncReply:
        raise LinkDown("not scripted")

    async def close(self) -> None:
        return None


class MemoryCache:
    def __init__(self, data: bytes | None = None) -> None:
        self.data = data
        self.saves = 0

    def load(self) -> bytes | None:
        return self.data

    def save(self, data: bytes) -> None:
        self.data = data
        self.saves += 1


def _keeper(
    link: EdgeLink, pipelines: MemoryPipelines, cache: MemoryCache, delays: list[float]
) -> ConfigKeeper:
    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        await asyncio.sleep(0)

    return ConfigKeeper(link, pipelines, cache, node_id=NODE, wait_s=25.0, sleep=sleep)


def test_the_link_fake_is_an_edge_link() -> None:
    assert isinstance(ScriptedLink(), EdgeLink)


def test_camera_json_with_credentials_and_extra_fields_builds_a_camera() -> None:
    camera = camera_from_json(_camera("a", password="s3cret"))
    assert camera.credentials is not None
    assert camera.credentials.password == "s3cret"
    assert camera.source_url() == "rtsp://op:s3cret@cam-a.local/stream"


async def test_nothing_runs_without_a_cache_until_the_server_answers() -> None:
    pipelines, cache = MemoryPipelines(), MemoryCache()
    keeper = _keeper(ScriptedLink(), pipelines, cache, [])
    assert await keeper.load_cached() is None
    assert pipelines.calls == []
    assert keeper.config is None


async def test_a_new_revision_is_cached_then_applied_with_lines_and_zones() -> None:
    pipelines, cache = MemoryPipelines(), MemoryCache()
    config = _config(_entry("a"), _entry("b", password="pw"))
    keeper = _keeper(ScriptedLink(config), pipelines, cache, [])
    assert await keeper.fetch_once() is True
    assert sorted(pipelines.applied) == ["a", "b"]
    applied = pipelines.applied["a"]
    assert [line.name for line in applied.lines] == ["door"]
    assert [zone.name for zone in applied.zones] == ["yard"]
    assert pipelines.applied["b"].camera.credentials is not None
    assert keeper.revision == config.revision
    assert cache.saves == 1
    assert EdgeConfig.from_dict(json.loads(cache.data or b"")) == config


async def test_only_changed_cameras_are_reapplied_and_dropped_ones_removed() -> None:
    pipelines, cache = MemoryPipelines(), MemoryCache()
    first = _config(_entry("a"), _entry("b"), _entry("c"))
    second = _config(_entry("a"), _entry("b", fps=2.0))
    link = ScriptedLink(first, second)
    keeper = _keeper(link, pipelines, cache, [])
    await keeper.fetch_once()
    pipelines.calls.clear()
    await keeper.fetch_once()
    assert sorted(pipelines.calls) == [("apply", "b"), ("remove", "c")]
    assert pipelines.applied["b"].camera.detect_fps == 2.0
    assert link.asked == [None, first.revision]


async def test_the_same_revision_changes_nothing() -> None:
    pipelines, cache = MemoryPipelines(), MemoryCache()
    config = _config(_entry("a"))
    keeper = _keeper(ScriptedLink(config, config), pipelines, cache, [])
    assert await keeper.fetch_once() is True
    assert await keeper.fetch_once() is False
    assert pipelines.calls == [("apply", "a")]
    assert cache.saves == 1


async def test_an_invalid_camera_is_skipped_and_the_others_run() -> None:
    pipelines, cache = MemoryPipelines(), MemoryCache()
    bad = EdgeCamera(camera={"id": "bad", "name": "x", "stream_url": "rtsp://u:p@host/"})
    keeper = _keeper(ScriptedLink(_config(bad, _entry("a"))), pipelines, cache, [])
    await keeper.fetch_once()
    assert list(pipelines.applied) == ["a"]


async def test_a_restarted_node_runs_its_cached_configuration_without_the_server() -> None:
    pipelines, cache = MemoryPipelines(), MemoryCache()
    config = _config(_entry("a"))
    await _keeper(ScriptedLink(config), pipelines, cache, []).fetch_once()

    restarted = MemoryPipelines()
    keeper = _keeper(ScriptedLink(LinkDown("unreachable")), restarted, cache, [])
    assert await keeper.load_cached() == config
    assert list(restarted.applied) == ["a"]
    assert keeper.camera("a") is not None
    assert keeper.camera("a").evidence_types == ("line.crossed",)  # type: ignore[union-attr]


async def test_a_cache_of_another_node_or_garbage_is_ignored() -> None:
    other = _config(_entry("a"), node_id="node-2")
    for data in (json.dumps(other.to_dict()).encode(), b"not json", b'{"node_id": 1}'):
        pipelines = MemoryPipelines()
        keeper = _keeper(ScriptedLink(), pipelines, MemoryCache(data), [])
        assert await keeper.load_cached() is None
        assert pipelines.calls == []


async def test_the_loop_retries_with_backoff_and_applies_what_comes_back() -> None:
    pipelines, cache = MemoryPipelines(), MemoryCache()
    delays: list[float] = []
    config = _config(_entry("a"))
    link = ScriptedLink(LinkDown("refused"), LinkDown("refused"), LinkUnauthorized("401"), config)
    keeper = _keeper(link, pipelines, cache, delays)
    seen: list[str] = []
    keeper.on_change(lambda applied: seen.append(applied.revision))
    keeper.start()
    try:
        await asyncio.wait_for(link.exhausted.wait(), timeout=10)
    finally:
        await keeper.stop()
    assert len(delays) == 3
    assert delays[2] == 60.0  # an unauthorized key is retried slowly
    assert seen == [config.revision]
    assert list(pipelines.applied) == ["a"]
    assert keeper.last_error is None


def test_the_sealed_cache_round_trips_and_refuses_another_key(tmp_path: Path) -> None:
    path = tmp_path / "edge-node-1" / "config.sealed"
    cache = SealedFile(path, "key-one", purpose="config", node_id=NODE)
    assert cache.load() is None
    cache.save(b'{"secret": "rtsp password"}')
    cache.save(b'{"secret": "second"}')
    assert cache.load() == b'{"secret": "second"}'
    assert b"second" not in path.read_bytes()
    assert [p.name for p in path.parent.iterdir()] == ["config.sealed"]  # no temporary left
    assert SealedFile(path, "key-two", purpose="config", node_id=NODE).load() is None
    assert SealedFile(path, "key-one", purpose="registration", node_id=NODE).load() is None
    assert SealedFile(path, "key-one", purpose="config", node_id="node-2").load() is None
    path.write_bytes(b"garbage")
    assert cache.load() is None


def test_the_control_planes_json_of_a_camera_line_and_zone_reads_back() -> None:
    camera = Camera(
        id="cam-1",
        name="Gate",
        stream_url="rtsp://gate.local/stream",
        credentials=Credentials("op", "pw"),
        detect_fps=7.5,
    )
    line = Line(id="l1", camera_id="cam-1", name="door", start=(0, 1), end=(5, 1), classes=("car",))
    zone = Zone(
        id="z1", camera_id="cam-1", name="yard", polygon=((0, 0), (4, 0), (4, 4)), crowd_threshold=3
    )
    assert camera_from_json(camera_to_dict(camera)) == camera
    assert line_from_json(line_to_dict(line)) == line
    assert zone_from_json(zone_to_dict(zone)) == zone


class RegisteringLink(ScriptedLink):
    """Answers ``register`` from a script of replies and errors."""

    def __init__(self, *answers: RegistrationReply | ArgusError) -> None:
        super().__init__()
        self.answers: deque[RegistrationReply | ArgusError] = deque(answers)
        self.registrations: list[NodeRegistration] = []

    async def register(self, reg: NodeRegistration) -> RegistrationReply:
        self.registrations.append(reg)
        answer = self.answers.popleft()
        if isinstance(answer, ArgusError):
            raise answer
        return answer


REGISTRATION = NodeRegistration(
    node_id=NODE, version="1.0", models=("yolov7-tiny@1.0.1",), capabilities=("tamper",)
)


def _reply(node_id: str = NODE) -> RegistrationReply:
    key = base64.b64encode(bytes(range(32))).decode()
    return RegistrationReply(
        node_id=node_id, evidence_key=key, health_interval_s=30.0, server_time=NOW
    )


async def test_registration_is_retried_until_it_succeeds_then_cached() -> None:
    cache = MemoryCache()
    delays: list[float] = []
    seen: list[RegistrationReply] = []
    link = RegisteringLink(LinkDown("refused"), LinkUnauthorized("401"), _reply())

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    registrar = Registrar(link, cache, REGISTRATION, on_registered=seen.append, sleep=sleep)
    assert await registrar.load_cached() is None
    assert (registrar.key, registrar.registered) == (None, False)
    await registrar.run()
    assert len(link.registrations) == 3
    assert delays[1] == 60.0
    assert seen == [_reply()]
    assert registrar.registered
    assert registrar.key == bytes(range(32))
    assert RegistrationReply.from_dict(json.loads(cache.data or b"")) == _reply()


async def test_a_cached_registration_gives_the_key_without_the_server() -> None:
    cache = MemoryCache(json.dumps(_reply().to_dict()).encode())
    seen: list[RegistrationReply] = []
    registrar = Registrar(RegisteringLink(), cache, REGISTRATION, on_registered=seen.append)
    assert await registrar.load_cached() == _reply()
    assert seen == [_reply()]
    assert registrar.key == bytes(range(32))
    assert not registrar.registered

    other = MemoryCache(json.dumps(_reply("node-2").to_dict()).encode())
    stranger = Registrar(RegisteringLink(), other, REGISTRATION, on_registered=seen.append)
    assert await stranger.load_cached() is None
