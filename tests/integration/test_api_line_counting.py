"""A line's counting settings through the REST API and the stores (older rows included)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from argus.adapters.db.sql import SqlDatabase, async_url
from argus.adapters.db.tables import lines
from argus.domain.cameras import Camera, Line, new_id
from argus.domain.errors import StorageError
from tests.integration.api_support import STORES, Api, api
from tests.integration.test_repositories_contract import POSTGRES_URL, SECRET

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

CAMERA: dict[str, Any] = {"name": "Door", "stream_url": "rtsp://10.0.0.5:554/s", "detect_fps": 4}
LINE: dict[str, Any] = {"name": "door", "start": [0, 100], "end": [320, 100]}


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def _lines_url(app: Api) -> str:
    camera = await app.client.post("/api/v1/cameras", json=CAMERA)
    assert camera.status_code == 201, camera.text
    return f"/api/v1/cameras/{camera.json()['id']}/lines"


async def test_new_lines_count_robustly_and_the_settings_change(app: Api) -> None:
    base = await _lines_url(app)
    created = await app.client.post(base, json=LINE)
    assert created.status_code == 201, created.text
    line = created.json()
    assert (line["counting"], line["band_px"], line["stitch_seconds"]) == ("robust", 0.0, 1.0)
    changed = await app.client.patch(
        f"{base}/{line['id']}", json={"counting": "strict", "band_px": 14.5, "stitch_seconds": 0}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["counting"], changed.json()["band_px"]) == ("strict", 14.5)
    assert (await app.client.get(f"{base}/{line['id']}")).json() == changed.json()
    applied = app.pipelines.applied[line["camera_id"]].lines[0]
    assert (applied.counting, applied.band_px, applied.stitch_seconds) == ("strict", 14.5, 0.0)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"counting": "loose"}, "counting", "Input should be 'strict' or 'robust'"),
        ({"band_px": -1}, "band_px", "Input should be greater than or equal to 0"),
        ({"band_px": 20000}, "band_px", "Input should be less than or equal to 10000"),
        ({"stitch_seconds": 61}, "stitch_seconds", "Input should be less than or equal to 60"),
        ({"stitch_seconds": "one"}, "stitch_seconds", "Input should be a valid number"),
    ],
    ids=["mode", "negative-band", "huge-band", "long-stitch", "text-stitch"],
)
async def test_bad_counting_settings_are_422_naming_the_field(
    app: Api, body: dict[str, Any], field: str, message: str
) -> None:
    base = await _lines_url(app)
    response = await app.client.post(base, json={**LINE, **body})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert [(e["loc"][-1], e["msg"]) for e in detail] == [(field, message)]
    line = (await app.client.post(base, json=LINE)).json()
    patched = await app.client.patch(f"{base}/{line['id']}", json=body)
    assert patched.status_code == 422, patched.text


async def test_counting_settings_cannot_be_set_to_null(app: Api) -> None:
    base = await _lines_url(app)
    line = (await app.client.post(base, json=LINE)).json()
    for field in ("counting", "band_px", "stitch_seconds"):
        response = await app.client.patch(f"{base}/{line['id']}", json={field: None})
        assert response.status_code == 422, (field, response.text)


@pytest.fixture(params=["sqlite", "postgresql"])
async def sql(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlDatabase]:
    if request.param == "sqlite":
        db = await SqlDatabase.open(f"sqlite:///{tmp_path / 'argus.db'}", secret_key=SECRET)
        schema = None
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        try:
            db = await SqlDatabase.open(POSTGRES_URL, secret_key=SECRET, schema=schema)
        except StorageError as exc:
            pytest.fail(f"PostgreSQL is not reachable ({exc}); run scripts/services.sh")
    try:
        yield db
    finally:
        await db.close()
        if schema is not None:
            engine = create_async_engine(async_url(POSTGRES_URL))
            async with engine.begin() as connection:
                await connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await engine.dispose()


async def test_the_settings_persist_and_rows_stored_before_them_load(sql: SqlDatabase) -> None:
    camera = Camera(id=new_id(), name="Door", stream_url="rtsp://10.0.0.5:554/s")
    await sql.cameras.add(camera)
    line = Line(
        id=new_id(),
        camera_id=camera.id,
        name="door",
        start=(0.0, 100.0),
        end=(320.0, 100.0),
        counting="strict",
        band_px=9.0,
        stitch_seconds=2.5,
    )
    await sql.lines.add(line)
    assert await sql.lines.get(line.id) == line
    older = {
        "in_label": "in",
        "out_label": "out",
        "expected_direction": None,
        "anchors": ["BOTTOM_CENTER"],
        "min_crossing_frames": 2,
        "classes": None,
    }
    async with sql.engine.begin() as connection:
        await connection.execute(
            sa.update(lines).where(lines.c.id == line.id).values(settings=older)
        )
    loaded = await sql.lines.get(line.id)
    assert (loaded.counting, loaded.band_px, loaded.stitch_seconds) == ("robust", 0.0, 1.0)
