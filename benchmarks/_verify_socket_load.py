"""N workstation clients at 1 frame/s over the real ``/ws/verify`` server (for ``verify_capacity``).

The app runs in a child process on 127.0.0.1 (``benchmarks.verify_socket.serve``:
uvicorn, SQLite in the given data directory, whose model packs are already
built), with the ``ARGUS_WORKSTATION_*`` settings of the configuration measured.
This process enrols the Hamilton close-up's man over REST, registers one client
per simulated workstation and connects them all; each sends one JPEG a second
(from a random phase) and reads its decisions. A frame's latency is from sending
it to reading the decision that names its ``frame_seq``; the server's
``dropped_frames`` count the frames it replaced in a queue.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._auth import SERVER_ENV, sign_in
from benchmarks._common import REPO_ROOT
from benchmarks.api_load import _free_port, _wait_ready

__all__ = ["socket_loads"]

WARM_UP = 5.0
"""Seconds after connecting before frames are timed (the pipelines load their models)."""


async def _register(
    port: int, server: subprocess.Popen[bytes], photos: list[bytes], n: int
) -> list[dict[str, str]]:
    import httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        await _wait_ready(http, server)
        http.headers.update(await sign_in(http))
        subject = (await http.post("/api/v1/workstations/subjects", json={"name": "H"})).json()
        files = [("photos", (f"{i}.jpg", p, "image/jpeg")) for i, p in enumerate(photos)]
        done = await http.post(f"/api/v1/workstations/subjects/{subject['id']}/photos", files=files)
        done.raise_for_status()
        clients: list[dict[str, str]] = []
        for i in range(n):
            body = {"name": f"bench desk {i}", "subjects": [subject["id"]]}
            answer = await http.post("/api/v1/workstations/clients", json=body)
            answer.raise_for_status()
            clients.append(answer.json())
        return clients


async def _level(
    port: int, clients: list[dict[str, str]], frames: list[bytes], seconds: float
) -> tuple[list[float], int, int, bool]:
    """Latencies, dropped frames, frames sent, and whether every client was assigned."""
    from websockets.asyncio.client import connect

    rng = random.Random(len(clients))
    latencies: list[float] = []
    dropped = sent = 0
    assigned = True
    start = time.monotonic()
    timed_from, stop = start + WARM_UP, start + WARM_UP + seconds

    async def one(client: dict[str, str], phase: float) -> None:
        nonlocal dropped, sent, assigned
        async with connect(f"ws://127.0.0.1:{port}/ws/verify", max_size=None) as ws:
            auth = {"type": "auth", "client_id": client["id"], "key": client["key"]}
            await ws.send(json.dumps(auth))
            if json.loads(await ws.recv())["type"] != "assigned":
                assigned = False
                return
            sent_at: dict[int, float] = {}
            most = 0

            async def reader() -> None:
                nonlocal most
                async for raw in ws:
                    message = json.loads(raw)
                    if message["type"] == "decision":
                        at = sent_at.pop(message["frame_seq"], None)
                        if at is not None and at >= timed_from:
                            latencies.append(time.monotonic() - at)
                        most = max(most, message["dropped_frames"])

            task = asyncio.create_task(reader())
            await asyncio.sleep(phase)
            seq = 0
            n = rng.randrange(len(frames))
            while (now := time.monotonic()) < stop:
                seq += 1
                sent_at[seq] = now
                await ws.send(frames[(n + seq) % len(frames)])
                if now >= timed_from:
                    sent += 1
                await asyncio.sleep(1.0 - (time.monotonic() - now) % 1.0)
            await asyncio.sleep(2.0)
            task.cancel()
            dropped += most

    await asyncio.gather(*(one(c, rng.random()) for c in clients))
    return latencies, dropped, sent, assigned


def socket_loads(
    data_dir: Path,
    env: dict[str, str],
    photos: list[bytes],
    frames: list[bytes],
    *,
    levels: list[int],
    seconds: float,
) -> list[tuple[int, list[float], int, int, bool]]:
    """Run each level (clients) against one server; stop at the first p95 over 1 s."""
    port = _free_port()
    command = [
        sys.executable,
        "-c",
        "import sys; from benchmarks.verify_socket import serve; "
        "serve(int(sys.argv[1]), sys.argv[2])",
        str(port),
        str(data_dir),
    ]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_")}
    child_env.update(SERVER_ENV)
    child_env.update(env)
    server = subprocess.Popen(command, cwd=REPO_ROOT, env=child_env)
    results = []
    try:
        registered = asyncio.run(_register(port, server, photos, max(levels)))
        for n in levels:
            latencies, dropped, sent, assigned = asyncio.run(
                _level(port, registered[:n], frames, seconds)
            )
            results.append((n, latencies, dropped, sent, assigned))
            latencies.sort()
            p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("inf")
            if p95 >= 1 or dropped or not assigned:
                break
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return results
