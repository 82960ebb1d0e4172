"""Health, metrics, the error table, the OpenAPI document and the app lifecycle."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pytest

from argus.adapters.pipelines_memory import MemoryPipelines
from argus.api.errors import status_for
from argus.api.testing import running
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from argus.domain.cameras import Camera, Line, Zone
from argus.domain.errors import (
    BusError,
    ConfigError,
    ConflictError,
    ModelError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from tests.auth_support import settings_for
from tests.integration.api_support import api, crossing, eventually

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

CAMERA = {"name": "Gate", "stream_url": "rtsp://cam/1"}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ValidationError("x"), 422),
        (ConfigError("x"), 422),
        (NotFoundError("x"), 404),
        (ConflictError("x"), 409),
        (StorageError("x"), 503),
        (BusError("x"), 503),
        (ModelError("x"), 500),
        (RuntimeError("x"), 500),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_error_table(error: Exception, status: int) -> None:
    assert status_for(error) == status


async def test_health_and_docs(tmp_path: Path) -> None:
    async with api("memory", tmp_path) as app:
        assert (await app.client.get("/health/live")).json() == {"status": "ok"}
        ready = await app.client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["pipelines"]["detail"] == "no cameras"
        document = (await app.client.get("/api/openapi.json")).json()
        assert "/api/v1/cameras/{camera_id}/snapshot" in document["paths"]
        assert "/metrics" not in document["paths"]
        assert (await app.client.get("/api/docs")).status_code == 200


async def test_ready_names_the_failing_part(tmp_path: Path) -> None:
    async with api("memory", tmp_path) as app:
        await app.plane.database.close()
        ready = await app.client.get("/health/ready")
        assert ready.status_code == 503
        checks = ready.json()["checks"]
        assert checks["database"]["ok"] is False
        assert checks["bus"]["ok"] is True
        # A closed store answers 503 on resources as well, through the error table.
        assert (await app.client.get("/api/v1/cameras")).status_code == 503
        await app.bus.close()
        await eventually(
            lambda: _bus_down(app.client), "the bus check to fail after the bus closed"
        )


async def _bus_down(client: object) -> bool:
    import httpx

    assert isinstance(client, httpx.AsyncClient)
    body = (await client.get("/health/ready")).json()
    return body["checks"]["bus"]["ok"] is False


async def test_metrics(tmp_path: Path) -> None:
    async with api("memory", tmp_path) as app:
        camera = (await app.client.post("/api/v1/cameras", json=CAMERA)).json()
        await app.client.get("/api/v1/cameras/NOPE")
        await app.bus.publish(app.plane.events_subject, crossing(camera["id"]))

        async def stored() -> bool:
            return bool((await app.client.get("/api/v1/events")).json()["total"] == 1)

        await eventually(stored, "the event to be stored")
        text = (await app.client.get("/metrics")).text
        cid = camera["id"]
        assert f'argus_camera_fps_in{{camera_id="{cid}"}} 5.0' in text
        assert f'argus_camera_fps_detected{{camera_id="{cid}"}} 5.0' in text
        assert f'argus_camera_state{{camera_id="{cid}",state="online"}} 1.0' in text
        assert 'route="/api/v1/cameras/{camera_id}",status="404"' in text
        assert "argus_http_request_duration_seconds_bucket" in text
        assert "argus_events_stored_total 1.0" in text
        assert f'argus_camera_queue_depth{{camera_id="{cid}"}} 0.0' in text
        assert "argus_ingest_queue_depth 0.0" in text
        assert "argus_alert_latency_seconds_bucket" in text
        assert f'argus_camera_events_dropped_total{{camera_id="{cid}"}} 0.0' in text


class BrokenPipelines(MemoryPipelines):
    """Pipelines whose ``apply`` has a bug."""

    async def apply(self, camera: Camera, lines: Sequence[Line], zones: Sequence[Zone]) -> None:
        raise RuntimeError("secret internal detail")


async def test_unexpected_error_is_a_generic_logged_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with api("memory", tmp_path, pipelines=BrokenPipelines()) as app:
        with caplog.at_level(logging.ERROR, logger="argus.api.errors"):
            response = await app.client.post("/api/v1/cameras", json=CAMERA)
        assert response.status_code == 500
        assert response.json() == {"detail": "internal server error"}
        assert "secret" not in response.text
        assert any(
            r.exc_info and "secret internal detail" in str(r.exc_info[1]) for r in caplog.records
        )
        assert (await app.client.get("/health/live")).status_code == 200


async def test_lifespan_resumes_cameras_and_closes_services(tmp_path: Path) -> None:
    async with api("sqlite", tmp_path) as first:
        created = (await first.client.post("/api/v1/cameras", json=CAMERA)).json()
    assert first.pipelines.closed

    from argus.adapters.bus.memory import MemoryEventBus
    from tests.integration.api_support import open_store

    pipelines = MemoryPipelines()

    async def opener(_: Settings) -> Adapters:
        database = await open_store("sqlite", tmp_path)
        return Adapters(database=database, bus=MemoryEventBus(), pipelines=pipelines)

    async with running(build_app(settings_for(tmp_path), open_adapters=opener)):
        assert list(pipelines.applied) == [created["id"]]


async def test_startup_failure_is_reported(tmp_path: Path) -> None:
    async def opener(_: Settings) -> Adapters:
        raise StorageError("database unreachable")

    with pytest.raises(StorageError, match="database unreachable"):
        async with running(build_app(settings_for(tmp_path), open_adapters=opener)):
            pass
