"""Live video (``GET /cameras/{id}/stream``) and trying a stream (``POST /cameras/probe``).

The stream is read from a real uvicorn server (an in-process client buffers a
response whole, so it only sees streams that end: ``frames=N``). The probe
opens real media: a generated video file, a closed port, a missing file.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import av
import cv2
import httpx
import numpy as np
import pytest

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.pipelines_memory import MemoryPipelines, tiny_jpeg
from argus.adapters.video._imaging import encode_jpeg
from argus.api.streams import MAX_STREAMS, mjpeg_parts
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from argus.domain.cameras import Camera, new_id
from argus.domain.errors import AuthenticationError
from argus.domain.identity import Principal
from argus.services.camera_video import watch_frames
from tests.auth_support import admin_token, bearer, make_user, settings_for
from tests.integration.api_support import Api, api
from tests.integration.live_support import WAIT, served

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

UNREACHABLE = "rtsp://127.0.0.1:9/none"
"""The discard port on loopback: nothing listens, a connection is refused at once."""
PASSWORD = "pa55-w0rd-never-shown"


class ChangingPipelines(MemoryPipelines):
    """In-memory pipelines whose cameras show a new frame at every look."""

    def __init__(self) -> None:
        super().__init__()
        self._count = itertools.count()

    def snapshot(self, camera_id: str) -> bytes | None:
        if super().snapshot(camera_id) is None:
            return None
        level = next(self._count) % 200
        return encode_jpeg(np.full((24, 32, 3), level, dtype=np.uint8))


async def _camera(client: httpx.AsyncClient, name: str = "door") -> str:
    body = {"name": name, "stream_url": f"rtsp://127.0.0.1:8554/{name}"}
    answer = await client.post("/api/v1/cameras", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _parts(body: bytes) -> list[bytes]:
    """The JPEGs of a complete multipart body, checking each part's framing."""
    jpegs: list[bytes] = []
    rest = body
    while rest:
        head, sep, rest = rest.partition(b"\r\n\r\n")
        assert sep, f"a part without headers: {head[:80]!r}"
        lines = head.decode("ascii").split("\r\n")
        assert lines[0] == "--frame"
        headers = dict(line.split(": ", 1) for line in lines[1:])
        assert headers["Content-Type"] == "image/jpeg"
        size = int(headers["Content-Length"])
        jpeg, rest = rest[:size], rest[size:]
        assert rest.startswith(b"\r\n")
        rest = rest[2:]
        jpegs.append(jpeg)
    return jpegs


async def _read_parts(response: httpx.Response, count: int) -> list[bytes]:
    """The first ``count`` JPEGs of a live stream."""
    buffer = b""
    jpegs: list[bytes] = []
    chunks = response.aiter_bytes()
    while len(jpegs) < count:
        buffer += await anext(chunks)
        while True:
            head, sep, rest = buffer.partition(b"\r\n\r\n")
            if not sep:
                break
            lines = head.decode("ascii").split("\r\n")
            assert lines[0] == "--frame"
            headers = dict(line.split(": ", 1) for line in lines[1:])
            size = int(headers["Content-Length"])
            if len(rest) < size + 2:
                break
            jpegs.append(rest[:size])
            assert rest[size : size + 2] == b"\r\n"
            buffer = rest[size + 2 :]
    return jpegs


def _assert_jpeg(data: bytes) -> None:
    assert data.startswith(b"\xff\xd8")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert image is not None


@contextlib.asynccontextmanager
async def _server(tmp_path: Path, pipelines: MemoryPipelines) -> AsyncIterator[httpx.AsyncClient]:
    plane = Adapters(
        database=MemoryDatabase(), bus=MemoryEventBus(ack_wait=0.5), pipelines=pipelines
    )

    async def opener(_: Settings) -> Adapters:
        return plane

    app = build_app(settings_for(tmp_path), open_adapters=opener)
    async with (
        served(app) as address,
        httpx.AsyncClient(base_url=f"http://{address}", timeout=WAIT) as http,
    ):
        http.headers.update(bearer(await admin_token(http)))
        yield http


# --- live video -----------------------------------------------------------------------------


async def test_a_signed_in_admin_reads_live_frames_as_they_change(tmp_path: Path) -> None:
    async with _server(tmp_path, ChangingPipelines()) as http:
        camera = await _camera(http)
        url = f"/api/v1/cameras/{camera}/stream"
        async with http.stream("GET", url, params={"fps": "15"}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "multipart/x-mixed-replace; boundary=frame"
            first, second = await asyncio.wait_for(_read_parts(response, 2), WAIT)
        for jpeg in (first, second):
            _assert_jpeg(jpeg)
        assert first != second


async def test_an_unchanged_frame_is_sent_once(tmp_path: Path) -> None:
    async with _server(tmp_path, MemoryPipelines()) as http:
        camera = await _camera(http)
        url = f"/api/v1/cameras/{camera}/stream"
        async with http.stream("GET", url, params={"fps": "15"}) as response:
            assert response.status_code == 200
            chunks = response.aiter_bytes()
            first = await asyncio.wait_for(anext(chunks), WAIT)
            assert tiny_jpeg() in first
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(anext(chunks), 0.7)


async def test_streams_over_the_cap_are_refused_with_503(tmp_path: Path) -> None:
    async with _server(tmp_path, MemoryPipelines()) as http, contextlib.AsyncExitStack() as stack:
        camera = await _camera(http)
        url = f"/api/v1/cameras/{camera}/stream"
        for _ in range(MAX_STREAMS):
            response = await stack.enter_async_context(http.stream("GET", url))
            assert response.status_code == 200
        refused = await http.get(url)
        assert refused.status_code == 503, refused.text
        assert "too many live video streams" in refused.json()["detail"]
        await stack.aclose()
        # Closed streams give their slots back (the server notices the disconnects).
        for _ in range(int(WAIT / 0.05)):
            async with http.stream("GET", url, params={"frames": "1"}) as again:
                if again.status_code == 200:
                    break
            await asyncio.sleep(0.05)
        assert again.status_code == 200


async def test_a_stream_with_a_frame_limit_ends(tmp_path: Path) -> None:
    async with api("memory", tmp_path, pipelines=ChangingPipelines()) as app:
        camera = await _camera(app.client)
        answer = await app.client.get(
            f"/api/v1/cameras/{camera}/stream", params={"frames": "2", "fps": "15"}
        )
        assert answer.status_code == 200
        jpegs = _parts(answer.content)
        assert len(jpegs) == 2
        for jpeg in jpegs:
            _assert_jpeg(jpeg)


async def test_ffmpegs_multipart_jpeg_demuxer_reads_the_stream(tmp_path: Path) -> None:
    """Standard clients (ffplay -f mpjpeg, VLC) read it: FFmpeg's demuxer, through PyAV."""
    async with api("memory", tmp_path, pipelines=ChangingPipelines()) as app:
        camera = await _camera(app.client)
        answer = await app.client.get(
            f"/api/v1/cameras/{camera}/stream", params={"frames": "3", "fps": "15"}
        )
    body = tmp_path / "stream.mjpeg"
    body.write_bytes(answer.content)
    with av.open(str(body), format="mpjpeg") as container:
        frames = [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]
    assert len(frames) == 3
    assert {frame.shape for frame in frames} == {(24, 32, 3)}


@pytest.mark.parametrize(
    "params",
    [{"fps": "0.4"}, {"fps": "15.5"}, {"fps": "nan"}, {"fps": "fast"}, {"frames": "0"}],
    ids=["fps-too-low", "fps-too-high", "fps-nan", "fps-text", "no-frames"],
)
async def test_bad_stream_parameters_are_422(tmp_path: Path, params: dict[str, str]) -> None:
    async with api("memory", tmp_path) as app:
        camera = await _camera(app.client)
        answer = await app.client.get(f"/api/v1/cameras/{camera}/stream", params=params)
        assert answer.status_code == 422, answer.text


async def test_stream_access(tmp_path: Path) -> None:
    async with api("memory", tmp_path) as app:
        client = app.client
        mine, other = await _camera(client, "mine"), await _camera(client, "other")
        admin = await admin_token(client)
        viewer = await make_user(client, admin, "viewer", "viewer")
        scoped = await make_user(client, admin, "scoped", "operator", [mine])

        def url(camera: str) -> str:
            return f"/api/v1/cameras/{camera}/stream?frames=1"

        anonymous = await client.get(url(mine), headers={"Authorization": ""})
        assert anonymous.status_code == 401
        unknown = await client.get(url("01NOSUCHCAMERA"))
        assert unknown.status_code == 404
        for token, camera in ((viewer, mine), (viewer, other), (scoped, mine)):
            allowed = await client.get(url(camera), headers=bearer(token))
            assert allowed.status_code == 200, allowed.text
            assert _parts(allowed.content) == [tiny_jpeg()]
        denied = await client.get(url(other), headers=bearer(scoped))
        assert denied.status_code == 403, denied.text


def _principal() -> Principal:
    return Principal(kind="user", id="u1", name="ann", permissions=frozenset({"view"}))


async def _first_part(parts: AsyncIterator[bytes]) -> bytes:
    return await asyncio.wait_for(anext(parts), WAIT)


async def test_a_stream_ends_when_its_credential_no_longer_authenticates() -> None:
    pipelines = MemoryPipelines()
    checks: list[str] = []

    async def recheck() -> Principal:
        checks.append("checked")
        if len(checks) > 1:
            raise AuthenticationError("the token expired")
        return _principal()

    camera = Camera(id=new_id(), name="door", stream_url="rtsp://127.0.0.1:8554/door")
    await pipelines.apply(camera, [], [])
    frames = watch_frames(pipelines, camera.id, interval=0.05)
    parts = mjpeg_parts(frames, recheck, closing=asyncio.Event(), recheck_interval=0.05)
    assert tiny_jpeg() in await _first_part(parts)
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(parts), WAIT)
    assert len(checks) == 2


async def test_a_stream_ends_at_shutdown() -> None:
    pipelines = MemoryPipelines()
    camera = Camera(id=new_id(), name="door", stream_url="rtsp://127.0.0.1:8554/door")
    await pipelines.apply(camera, [], [])
    closing = asyncio.Event()

    async def recheck() -> Principal:
        return _principal()

    frames = watch_frames(pipelines, camera.id, interval=0.05)
    parts = mjpeg_parts(frames, recheck, closing=closing)
    assert tiny_jpeg() in await _first_part(parts)
    closing.set()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(parts), WAIT)


# --- probe ----------------------------------------------------------------------------------


async def _probe(app: Api, **body: object) -> dict[str, object]:
    answer = await app.client.post("/api/v1/cameras/probe", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    assert set(result) == {"ok", "error", "width", "height", "elapsed_s", "snapshot_jpeg_base64"}
    return result


async def test_probing_a_video_file_reads_its_first_frame(tmp_path: Path, video_file: Path) -> None:
    async with api("memory", tmp_path) as app:
        result = await _probe(app, stream_url=str(video_file), timeout_s=10)
    assert result["ok"] is True, result
    assert result["error"] is None
    assert (result["width"], result["height"]) == (160, 120)
    assert isinstance(result["elapsed_s"], float)
    assert result["elapsed_s"] >= 0
    encoded = result["snapshot_jpeg_base64"]
    assert isinstance(encoded, str)
    image = cv2.imdecode(np.frombuffer(base64.b64decode(encoded), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    assert image.shape == (120, 160, 3)


async def test_probing_a_closed_port_fails_within_the_request(tmp_path: Path) -> None:
    credentials = {"username": "ann", "password": PASSWORD}
    async with api("memory", tmp_path) as app:
        answer = await asyncio.wait_for(
            app.client.post(
                "/api/v1/cameras/probe",
                json={"stream_url": UNREACHABLE, "timeout_s": 2, "credentials": credentials},
            ),
            WAIT,
        )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["ok"] is False
    assert isinstance(result["error"], str)
    assert result["error"]
    assert result["width"] is None
    assert result["snapshot_jpeg_base64"] is None
    assert PASSWORD not in answer.text
    assert "credentials" not in result


@pytest.mark.parametrize(
    "target",
    ["missing.mp4", "not-a-video.txt"],
    ids=["missing-file", "not-a-video"],
)
async def test_probing_what_is_not_a_video_fails(tmp_path: Path, target: str) -> None:
    (tmp_path / "not-a-video.txt").write_text("hello, not a video\n")
    async with api("memory", tmp_path) as app:
        result = await _probe(app, stream_url=str(tmp_path / target), timeout_s=5)
    assert result["ok"] is False
    assert isinstance(result["error"], str)
    assert result["error"]


async def test_a_password_in_the_probed_url_is_422(tmp_path: Path) -> None:
    async with api("memory", tmp_path) as app:
        answer = await app.client.post(
            "/api/v1/cameras/probe", json={"stream_url": f"rtsp://ann:{PASSWORD}@cam/1"}
        )
    assert answer.status_code == 422


@pytest.mark.parametrize("timeout_s", [0.5, 31], ids=["too-short", "too-long"])
async def test_a_probe_timeout_out_of_range_is_422(tmp_path: Path, timeout_s: float) -> None:
    async with api("memory", tmp_path) as app:
        answer = await app.client.post(
            "/api/v1/cameras/probe", json={"stream_url": UNREACHABLE, "timeout_s": timeout_s}
        )
    assert answer.status_code == 422


async def test_probe_access(tmp_path: Path) -> None:
    async with api("memory", tmp_path) as app:
        client = app.client
        camera = await _camera(client)
        admin = await admin_token(client)
        body = {"stream_url": str(tmp_path / "missing.mp4")}
        url = "/api/v1/cameras/probe"
        anonymous = await client.post(url, json=body, headers={"Authorization": ""})
        assert anonymous.status_code == 401
        for role in ("viewer", "operator"):
            token = await make_user(client, admin, role, role)
            denied = await client.post(url, json=body, headers=bearer(token))
            assert denied.status_code == 403, f"{role}: {denied.text}"
        scoped = await make_user(client, admin, "scoped-admin", "admin", [camera])
        denied = await client.post(url, json=body, headers=bearer(scoped))
        assert denied.status_code == 403, denied.text
        allowed = await client.post(url, json=body)
        assert allowed.status_code == 200, allowed.text
