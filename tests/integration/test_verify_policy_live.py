"""A policy stored through ``/api/v1/workstations/policy`` decides live ``/ws/verify`` sessions.

Real servers (uvicorn on loopback), real WebSocket clients and the real face
models, as in ``test_verify_server``; the enrolled face is matplotlib's sample
portrait. A match threshold of 0.01 makes the enrolled user a stranger, so the
frame after the change locks the screen (``wrong_user``); ``/metrics`` counts it.
The SQLite case stores the policy, restarts the server on the same file and
shows that the new server's first session decides by the stored policy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.sql import SqlDatabase
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from tests.auth_support import bearer, settings_for
from tests.integration.live_support import WAIT, served, token_for
from tests.integration.verify_support import Server, grace_hopper, server, workstation

pytestmark = [pytest.mark.integration, pytest.mark.anyio, pytest.mark.slow]

POLICY = "/api/v1/workstations/policy"
STRICT = {"verification": {"match_threshold": 0.01, "wrong_user_frames": 1}}
"""Nobody matches: the first frame of a face locks the screen."""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory per module, so the model packs are built once."""
    return tmp_path_factory.mktemp("verify-policy")


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _enrolled(api: Server) -> tuple[str, str]:
    return await api.client(await api.subject("Grace Hopper", _mirrored(grace_hopper())))


def _mirrored(jpeg: bytes) -> bytes:
    """The photo flipped left to right: the same person, but not the very pixels sent later.

    Enrolled from the photo itself, its own frames match at distance 0 and no threshold
    (they must be positive) could make them a wrong user.
    """
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    ok, encoded = cv2.imencode(".jpg", image[:, ::-1].copy())
    assert ok
    return encoded.tobytes()


async def test_a_new_threshold_decides_the_next_frame_and_is_counted(data_dir: Path) -> None:
    async with server(data_dir) as api:
        client_id, key = await _enrolled(api)
        async with workstation(api.address, client_id, key) as station:
            await station.expect("assigned")
            assert (await station.frame(grace_hopper()))["action"] == "allow"
            changed = await api.http.put(POLICY, json=STRICT)
            assert changed.status_code == 200, changed.text
            locked = await station.frame(grace_hopper())
            assert (locked["action"], locked["reasons"][0]) == ("lock_screen", "wrong_user")
            samples = _samples((await api.http.get("/metrics")).text)
            assert samples[("argus_workstation_clients", (("state", "assigned"),))] == 1
            assert samples[("argus_workstation_clients", (("state", "connected"),))] == 1
            assert samples[("argus_workstation_frames_analysed_total", ())] == 2
            decided = "argus_workstation_decisions_total"
            assert samples[(decided, (("action", "lock_screen"), ("reason", "wrong_user")))] == 1
            assert sum(v for (name, _), v in samples.items() if name == decided) == 2
            faces = ("argus_workstation_stage_seconds_count", (("stage", "faces"),))
            assert samples[faces] == 2
            assert samples[("argus_workstation_decision_latency_seconds_count", ())] == 2
            assert samples[("argus_workstation_queue_depth", ())] == 0

            restored = await api.http.put(POLICY, json={})
            assert restored.status_code == 200, restored.text
            assert (await station.frame(grace_hopper()))["action"] == "allow"


@asynccontextmanager
async def _sqlite_server(data_dir: Path, database: Path) -> AsyncIterator[Server]:
    """The verify app on a SQLite file, served on loopback, the test admin signed in."""
    plane = Adapters(
        database=await SqlDatabase.open(f"sqlite:///{database}", secret_key=b"p" * 32),
        bus=MemoryEventBus(ack_wait=0.5),
        pipelines=MemoryPipelines(),
    )

    async def opener(_: Settings) -> Adapters:
        return plane

    app = build_app(settings_for(data_dir), open_adapters=opener)
    async with served(app) as address:
        token = await token_for(address)
        async with httpx.AsyncClient(
            base_url=f"http://{address}", headers=bearer(token), timeout=WAIT
        ) as http:
            yield Server(address, http, plane)


async def test_a_stored_policy_decides_after_a_restart(data_dir: Path, tmp_path: Path) -> None:
    database = tmp_path / "argus.db"
    async with _sqlite_server(data_dir, database) as api:
        client_id, key = await _enrolled(api)
        assert (await api.http.put(POLICY, json=STRICT)).status_code == 200
    async with _sqlite_server(data_dir, database) as api:
        policy = (await api.http.get(POLICY)).json()
        assert policy["verification"]["match_threshold"] == 0.01
        assert policy["sources"]["verification"]["match_threshold"] == "stored"
        async with workstation(api.address, client_id, key) as station:
            await station.expect("assigned")
            locked = await station.frame(grace_hopper())
            assert (locked["action"], locked["reasons"][0]) == ("lock_screen", "wrong_user")
