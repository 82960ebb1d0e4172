"""Attacks on the API's boundaries: unstorable text, database text in answers, odd paths,
missing browser headers, a CDN for the docs, unscoped metrics and decompression bombs.

Each test performs the attack against the app on a real store (memory, SQLite and
PostgreSQL where the store matters) and checks the answer an attacker gets.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.ext.asyncio import create_async_engine

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.sql import SqlDatabase, async_url
from argus.adapters.face.images import decode_image
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.api.headers import CONTENT_SECURITY_POLICY
from argus.api.testing import running
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from argus.domain.errors import ValidationError
from argus.domain.events import Envelope
from argus.ports.repositories import Database
from tests.auth_support import USER_PASSWORD, admin_token, bearer, settings_for, sign_in
from tests.integration.api_support import SECRET, crossing, open_store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

POSTGRES_URL = os.environ.get(
    "ARGUS_TEST_POSTGRES_URL", "postgresql://argus:argus@127.0.0.1:5432/argus_test"
)
BACKENDS = ("memory", "sqlite", "postgresql")
SQL_BACKENDS = ("sqlite", "postgresql")
METRICS_TOKEN = "scrape-token-for-tests-0123456789"
LEAKS = ("SELECT", "INSERT", "UPDATE", "[SQL", "parameters", "sqlalche.me", "asyncpg", "sqlite3")
"""Fragments of database text that must never reach a client."""


@asynccontextmanager
async def _store(kind: str, directory: Path) -> AsyncIterator[tuple[Database, str | None]]:
    """A fresh store of ``kind`` and its PostgreSQL schema (dropped afterwards)."""
    if kind != "postgresql":
        yield await open_store(kind, directory), None
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        database = await SqlDatabase.open(POSTGRES_URL, secret_key=SECRET, schema=schema)
    except Exception as exc:  # noqa: BLE001 - any failure to reach it means "not here"
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc}")
    try:
        yield database, schema
    finally:
        engine = create_async_engine(async_url(POSTGRES_URL))
        try:
            async with engine.begin() as connection:
                await connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            await engine.dispose()


@asynccontextmanager
async def _app(
    kind: str, directory: Path, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Database]]:
    """The app over a fresh store of ``kind``; the client is not signed in."""
    async with _store(kind, directory) as (database, _):
        plane = Adapters(
            database=database, bus=MemoryEventBus(ack_wait=0.5), pipelines=MemoryPipelines()
        )

        async def opener(_: Settings) -> Adapters:
            return plane

        app = build_app(settings_for(directory, **overrides), open_adapters=opener)
        async with (
            running(app) as asgi,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=asgi, raise_app_exceptions=False),
                base_url="http://argus",
            ) as client,
        ):
            yield client, database


def _refused_as_text(answer: httpx.Response) -> None:
    assert answer.status_code == 422, answer.text
    assert "NUL" in answer.text
    for leak in LEAKS:
        assert leak not in answer.text


# --- finding 7: NUL characters and lone surrogates ------------------------------------------


@pytest.mark.parametrize("kind", BACKENDS)
async def test_nul_and_lone_surrogates_are_refused_with_422_everywhere(
    kind: str, tmp_path: Path
) -> None:
    async with _app(kind, tmp_path) as (client, _):
        # Signing in with a NUL in the username (a form field).
        form = "username=a%00b&password=whatever-password&grant_type=password"
        answer = await client.post(
            "/api/v1/auth/token",
            content=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        _refused_as_text(answer)
        assert answer.json()["detail"][0]["loc"] == ["body", "username"]
        # The same form sent as multipart, and a lone surrogate's UTF-8 bytes in it.
        for username in (b"a\x00b", b"a\xed\xa0\x80b"):
            fields = [("username", (None, username)), ("password", (None, b"whatever-pass"))]
            answer = await client.post("/api/v1/auth/token", files=fields)
            _refused_as_text(answer)
            assert answer.json()["detail"][0]["loc"] == ["body", "username"]
        client.headers.update(bearer(await admin_token(client)))
        # JSON bodies: the escapes decode to NUL and to a lone surrogate.
        for escaped in ("\\u0000", "\\ud800", "\\uDFFF"):
            body = f'{{"name": "gate{escaped}", "stream_url": "rtsp://cam/1"}}'
            answer = await client.post(
                "/api/v1/cameras", content=body, headers={"Content-Type": "application/json"}
            )
            _refused_as_text(answer)
            assert answer.json()["detail"][0]["loc"] == ["body", "name"]
        # An event batch whose payload carries a lone surrogate: refused (never retried as 503).
        camera = (
            await client.post(
                "/api/v1/cameras", json={"name": "Gate", "stream_url": "rtsp://cam/1"}
            )
        ).json()
        event = crossing(camera["id"]).to_dict()
        event["payload"] = {**cast(dict[str, object], event["payload"]), "class_name": "MARK"}
        batch = json.dumps({"events": [event]}).replace("MARK", "\\ud800")
        answer = await client.post(
            "/api/v1/events", content=batch, headers={"Content-Type": "application/json"}
        )
        _refused_as_text(answer)
        # A query parameter.
        _refused_as_text(await client.get("/api/v1/events", params={"camera_id": "a\x00b"}))
        # A path parameter names nothing that can exist.
        assert (await client.get("/api/v1/cameras/a%00b")).status_code == 404
        # Valid escapes (a surrogate pair is one character) still pass.
        answer = await client.post(
            "/api/v1/cameras",
            content='{"name": "Caf\\u00e9 \\ud83d\\ude00", "stream_url": "rtsp://cam/2"}',
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["name"] == "Caf\u00e9 \U0001f600"


def test_events_refuse_unstorable_text_in_the_domain() -> None:
    """Events that never cross HTTP (the bus, an edge node's outbox) are checked as well."""
    event = crossing("cam").to_dict()
    for bad in ("a\x00b", "\ud800"):
        payload = {**cast(dict[str, object], event["payload"]), "class_name": bad}
        with pytest.raises(ValidationError, match="NUL character or a lone surrogate"):
            Envelope.from_dict({**event, "payload": payload})
        source = {"edge_node_id": bad, "camera_id": "cam"}
        with pytest.raises(ValidationError, match="NUL character or a lone surrogate"):
            Envelope.from_dict({**event, "source": source})


# --- finding 7: database text never reaches a client ----------------------------------------


@pytest.mark.parametrize("kind", SQL_BACKENDS)
async def test_a_failing_database_answers_503_with_an_error_id_only(
    kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with _app(kind, tmp_path) as (client, database):
        client.headers.update(bearer(await admin_token(client)))
        assert isinstance(database, SqlDatabase)
        # The failing disk: the users and cameras tables are gone under the server.
        async with database.engine.begin() as connection:
            await connection.execute(sa.text("ALTER TABLE cameras RENAME TO cameras_gone"))
        secret = "stream-password-that-must-not-leak"
        caplog.set_level(logging.ERROR)
        answers = [
            await client.get("/api/v1/cameras"),
            await client.post(
                "/api/v1/cameras",
                json={
                    "name": "Gate",
                    "stream_url": "rtsp://cam/1",
                    "credentials": {"username": "u", "password": secret},
                },
            ),
        ]
        for answer in answers:
            assert answer.status_code == 503, answer.text
            for leak in (*LEAKS, secret, "cameras_gone", "no such table", "does not exist"):
                assert leak not in answer.text, answer.text
            error_id = answer.json()["error_id"]
            assert re.fullmatch(r"[0-9a-f]{12}", error_id)
            assert error_id in answer.json()["detail"]
            # The operator finds the database's own words in the log under that id.
            logged = [r for r in caplog.records if error_id in r.getMessage()]
            assert logged, f"no log record carries error {error_id}"
            assert any("cameras" in r.getMessage() or r.exc_info is not None for r in logged)


# --- finding 11: odd paths, browser headers, local docs -------------------------------------


async def test_a_nul_in_a_static_path_is_404_not_500(tmp_path: Path) -> None:
    async with _app("memory", tmp_path) as (client, _):
        for path in ("/ui/%00", "/ui/app.js%00.png", "/api/docs/static/%00"):
            answer = await client.get(path)
            assert answer.status_code == 404, (path, answer.status_code, answer.text)


async def test_the_dashboard_and_api_answer_with_security_headers(tmp_path: Path) -> None:
    async with _app("memory", tmp_path) as (client, _):
        for path in ("/ui/", "/ui/app.js", "/api/v1/auth/me", "/health/live"):
            answer = await client.get(path)
            headers = answer.headers
            assert headers["x-content-type-options"] == "nosniff", path
            assert headers["referrer-policy"] == "no-referrer", path
            assert headers["x-frame-options"] == "DENY", path
            policy = headers["content-security-policy"]
            assert policy == CONTENT_SECURITY_POLICY, path
        assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
        assert "script-src 'self';" in CONTENT_SECURITY_POLICY
        assert "unsafe-eval" not in CONTENT_SECURITY_POLICY


async def test_the_api_docs_load_nothing_from_other_hosts(tmp_path: Path) -> None:
    async with _app("memory", tmp_path) as (client, _):
        page = await client.get("/api/docs")
        assert page.status_code == 200
        html = page.text
        for other_host in ("http://", "https://", "//cdn"):
            assert other_host not in html
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources, html
        for source in sources:
            assert source.startswith("/api/docs/static/"), source
            asset = await client.get(source)
            assert asset.status_code == 200, source
            assert len(asset.content) > 1000, source
        # The page's one inline script is allowed by its hash, nothing else inline.
        policy = page.headers["content-security-policy"]
        assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)", policy), policy
        assert "frame-ancestors 'none'" in policy
        assert (await client.get("/api/openapi.json")).status_code == 200


# --- finding 11: /metrics ---------------------------------------------------------------------


async def test_metrics_show_a_scoped_user_only_its_cameras(tmp_path: Path) -> None:
    async with _app("memory", tmp_path, metrics_token=METRICS_TOKEN) as (client, _):
        admin = bearer(await admin_token(client))
        made = [
            (
                await client.post(
                    "/api/v1/cameras",
                    json={"name": name, "stream_url": f"rtsp://cam/{name}"},
                    headers=admin,
                )
            ).json()["id"]
            for name in ("mine", "theirs")
        ]
        mine, theirs = made
        user = {
            "username": "scoped",
            "password": USER_PASSWORD,
            "role": "viewer",
            "cameras": [mine],
        }
        assert (await client.post("/api/v1/users", json=user, headers=admin)).status_code == 201
        scoped = bearer((await sign_in(client, "scoped", USER_PASSWORD))["access_token"])
        text = (await client.get("/metrics", headers=scoped)).text
        assert f'camera_id="{mine}"' in text
        assert f'camera_id="{theirs}"' not in text
        assert "argus_http_requests_total" in text  # process-wide series stay
        # The admin, and the scraper with its token, see every camera.
        for headers in (admin, bearer(METRICS_TOKEN)):
            answer = await client.get("/metrics", headers=headers)
            assert answer.status_code == 200, answer.text
            assert f'camera_id="{theirs}"' in answer.text
        # A wrong token is nobody.
        wrong = await client.get("/metrics", headers=bearer("scrape-token-for-tests-XXXXXXXXX"))
        assert wrong.status_code == 401


# --- finding 11: decompression bombs ----------------------------------------------------------


def _bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A small JPEG whose header claims ``width`` x ``height`` pixels."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 90, 60)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    frame = data.find(b"\xff\xc0")  # start of frame: length, precision, height, width
    assert frame > 0
    data[frame + 5 : frame + 7] = height.to_bytes(2, "big")
    data[frame + 7 : frame + 9] = width.to_bytes(2, "big")
    return bytes(data)


@pytest.mark.parametrize("size", [(30000, 30000), (20000, 10000), (5000, 5000)])
def test_an_image_claiming_a_huge_size_is_refused_before_decoding(size: tuple[int, int]) -> None:
    with pytest.raises(ValidationError, match="pixels"):
        decode_image(_bomb(*size))


async def test_a_bomb_photo_is_refused_with_422_on_enrolment(tmp_path: Path) -> None:
    async with _app("memory", tmp_path) as (client, _):
        client.headers.update(bearer(await admin_token(client)))
        made = await client.post("/api/v1/workstations/subjects", json={"name": "Mallory"})
        assert made.status_code == 201, made.text
        subject = made.json()["id"]
        answer = await client.post(
            f"/api/v1/workstations/subjects/{subject}/photos",
            files=[("photos", ("bomb.jpg", _bomb(), "image/jpeg"))],
        )
        assert answer.status_code == 422, answer.text
        assert "pixels" in answer.text
