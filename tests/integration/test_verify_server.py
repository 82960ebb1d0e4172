"""``/ws/verify`` against a running server: sign-in, refusals, capacity, bad input.

Real WebSocket clients talk to the app under uvicorn on loopback; the face
models are the real ones (built once into a module-wide data directory), and
the enrolled face is matplotlib's sample portrait, so nothing here needs
``../shared``. Decisions on real people are in ``test_verify_decisions``.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from PIL import Image as PILImage

from tests.integration.live_support import WAIT
from tests.integration.verify_support import (
    WS,
    Server,
    grace_hopper,
    server,
    workstation,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio, pytest.mark.slow]

TINY = {
    "workstation_max_pipelines": 1,
    "workstation_clients_per_pipeline": 1,
    "workstation_max_queue": 2,
    "workstation_idle_s": 0.0,
}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory per module, so the model packs are built once."""
    return tmp_path_factory.mktemp("verify-server")


async def _eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _enrolled_clients(api: Server, count: int) -> list[tuple[str, str]]:
    subject = await api.subject("Grace Hopper", grace_hopper())
    return [await api.client(subject, name=f"Desk {n}") for n in range(count)]


async def test_capacity_queues_rejects_and_promotes(data_dir: Path) -> None:
    async with server(data_dir, **TINY) as api:
        (a_id, a_key), (b_id, b_key), (c_id, c_key), (d_id, d_key) = await _enrolled_clients(api, 4)
        async with workstation(api.address, a_id, a_key) as first:
            assert (await first.expect("assigned"))["pipeline"] == 0
            async with (
                workstation(api.address, b_id, b_key) as second,
                workstation(api.address, c_id, c_key) as third,
            ):
                assert (await second.expect("queued"))["position"] == 1
                assert (await third.expect("queued"))["position"] == 2
                await second.connection.send(grace_hopper())
                error = await second.expect("error")
                assert error["code"] == "not_assigned"
                async with workstation(api.address, d_id, d_key) as fourth:
                    code, messages = await fourth.closed()
                    assert code == 4503
                    assert {"type": "rejected", "reason": "system full"} in messages
                state = (await api.http.get(f"{WS}/pipelines")).json()
                assert [p["clients"] for p in state["pipelines"]] == [[a_id]]
                assert state["queue"] == [b_id, c_id]
                listed = (await api.http.get(f"{WS}/clients/{c_id}")).json()
                assert (listed["connection"], listed["position"]) == ("queued", 2)

                await first.connection.close()
                assert (await second.expect("assigned"))["pipeline"] == 0
                assert (await third.expect("queued"))["position"] == 1
                decision = await second.frame(grace_hopper())
                assert decision["action"] == "allow"
        # everyone left: the idle pipeline is scaled down (idle_s = 0)

        async def empty() -> bool:
            state = (await api.http.get(f"{WS}/pipelines")).json()
            return bool(state["pipelines"] == [] and state["queue"] == [])

        await _eventually(empty, "the pipeline to scale down")


@pytest.mark.parametrize("status", ["blocked", "paused"])
async def test_blocked_and_paused_clients_are_refused(data_dir: Path, status: str) -> None:
    async with server(data_dir) as api:
        [(client_id, key)] = await _enrolled_clients(api, 1)
        verb = {"blocked": "block", "paused": "pause"}[status]
        changed = await api.http.post(f"{WS}/clients/{client_id}/{verb}")
        assert changed.json()["status"] == status
        async with workstation(api.address, client_id, key) as station:
            code, messages = await station.closed()
        assert code == 4403
        assert messages == [{"type": "rejected", "reason": status}]
        assert (await api.http.post(f"{WS}/clients/{client_id}/unblock")).json()["status"] == (
            "active"
        )
        async with workstation(api.address, client_id, key) as station:
            assert (await station.expect("assigned"))["pipeline"] == 0


async def test_pausing_a_connected_client_ends_its_session(data_dir: Path) -> None:
    async with server(data_dir) as api:
        [(client_id, key)] = await _enrolled_clients(api, 1)
        async with workstation(api.address, client_id, key) as station:
            await station.expect("assigned")
            await api.http.post(f"{WS}/clients/{client_id}/pause")
            code, messages = await station.closed()
        assert code == 4403
        assert {"type": "rejected", "reason": "paused"} in messages
        audit = await api.http.get("/api/v1/audit", params={"action": "workstation.client.pause"})
        assert audit.status_code == 200


@pytest.mark.parametrize(
    ("first", "code", "reason"),
    [
        ("wrong-key", 4401, "unknown client"),
        ("unknown-id", 4401, "unknown client"),
        ("not-enrolled", 4403, "not enrolled"),
    ],
)
async def test_bad_sign_ins_are_refused(data_dir: Path, first: str, code: int, reason: str) -> None:
    async with server(data_dir) as api:
        if first == "not-enrolled":
            client_id, key = await api.client(await api.subject("Nobody yet"))
        else:
            [(client_id, key)] = await _enrolled_clients(api, 1)
            key = "x" + key if first == "wrong-key" else key
            client_id = "no-such-client" if first == "unknown-id" else client_id
        async with workstation(api.address, client_id, key) as station:
            closed, messages = await station.closed()
        assert closed == code
        assert messages == [{"type": "rejected", "reason": reason}]


async def test_failed_sign_ins_are_limited_per_address(data_dir: Path) -> None:
    async with server(data_dir) as api:
        [(client_id, _)] = await _enrolled_clients(api, 1)
        codes = []
        for _ in range(21):  # a burst of 20, then one every 2 s
            async with workstation(api.address, client_id, "wrong") as station:
                code, messages = await station.closed()
                codes.append(code)
        assert codes[:20] == [4401] * 20
        assert codes[20] == 4429
        assert messages[0]["code"] == "rate_limited"
        audit = await api.http.get(
            "/api/v1/audit", params={"action": "workstation.client.connect", "limit": 100}
        )
        failures = audit.json()["items"]
        assert len(failures) == 20
        assert {e["outcome"] for e in failures} == {"failure"}


async def test_frames_before_sign_in_are_refused(data_dir: Path) -> None:
    async with server(data_dir) as api:
        async with workstation(api.address, "", "", sign_in=False) as station:
            await station.connection.send(grace_hopper())
            code, messages = await station.closed()
        assert code == 4401
        assert messages[0]["type"] == "error"
        assert messages[0]["code"] == "unauthorized"


def _bomb() -> bytes:
    """A small JPEG whose header claims 30000 x 30000 pixels."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 8)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    frame = data.find(b"\xff\xc0")  # start of frame: length, precision, height, width
    data[frame + 5 : frame + 9] = (30000).to_bytes(2, "big") * 2
    return bytes(data)


async def test_bad_input_gets_errors_and_the_session_survives(data_dir: Path) -> None:
    limit = 64 * 1024
    async with server(data_dir, workstation_max_frame_bytes=limit) as api:
        [(client_id, key)] = await _enrolled_clients(api, 1)
        async with workstation(api.address, client_id, key) as station:
            await station.expect("assigned")
            cases: list[tuple[str | bytes, str]] = [
                ("not json {", "invalid"),
                ('{"type": "subscribe", "channels": ["alerts"]}', "invalid"),
                ('{"type": "auth", "client_id": "a", "key": "b"}', "invalid"),
                (b"\x00\x01 this is not an image", "bad_frame"),
                (b"\xff\xd8\xff\xe0 a truncated JPEG header", "bad_frame"),
                # A decompression bomb: a small JPEG whose header claims 30000x30000.
                (_bomb(), "bad_frame"),
                (b"\xff" * (limit + 1), "too_large"),
            ]
            for sent, code in cases:
                if isinstance(sent, str):
                    await station.send(sent)
                else:
                    await station.connection.send(sent)
                error = await station.expect("error")
                assert error["code"] == code, (sent[:40], error)
                assert error["message"]
            await station.send({"type": "ping"})
            await station.expect("pong")
            # The session still analyses frames: the (frame-numbered) decision for a real one.
            station.frames = 3  # three frames were taken (and failed); the large one was not
            decision = await station.frame(grace_hopper())
            assert decision["action"] == "allow"
            assert decision["subject"] is not None
        async with httpx.AsyncClient(base_url=f"http://{api.address}") as probe:
            assert (await probe.get("/health/live")).status_code == 200


async def test_a_message_over_the_websocket_limit_closes_only_its_connection(
    data_dir: Path,
) -> None:
    async with server(data_dir) as api:
        [(client_id, key)] = await _enrolled_clients(api, 1)
        async with workstation(api.address, client_id, key) as station:
            await station.expect("assigned")
            await station.connection.send(b"\xff" * (17 << 20))
            code, _ = await station.closed()
        assert code == 1009  # the WebSocket layer's "message too big"
        async with workstation(api.address, client_id, key) as again:
            await again.expect("assigned")
            assert (await again.frame(grace_hopper()))["action"] == "allow"


async def test_a_second_connection_of_a_client_replaces_the_first(data_dir: Path) -> None:
    async with server(data_dir) as api:
        [(client_id, key)] = await _enrolled_clients(api, 1)
        async with workstation(api.address, client_id, key) as old:
            await old.expect("assigned")
            async with workstation(api.address, client_id, key) as new:
                await new.expect("assigned")
                code, messages = await old.closed()
                assert code == 4409
                assert messages[-1]["code"] == "replaced"
                assert (await new.frame(grace_hopper()))["action"] == "allow"
