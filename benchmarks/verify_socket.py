"""Frame → decision latency over ``/ws/verify``: the real server, one workstation client.

The app runs in a child process on 127.0.0.1 (uvicorn, SQLite store in a
temporary data directory; the model packs are built there first, so no build is
timed). This process enrols the man of the Hamilton close-up from three of its
frames over REST, registers a client, signs it in on ``/ws/verify`` and sends
the close-up's frames (every third frame, 10 frames/s of video) as JPEG, one at a
time: each frame's latency is from sending it to reading its ``decision``. The
first frame of a session is reported apart (its pipeline loads its models then).

References in the same run: the same frames through ``FrameAnalyzer`` in this
process before the server starts (decode included, what the pipeline does per
frame), and ``ping`` → ``pong`` round trips on the same socket.

    python -m benchmarks.verify_socket [--quick]
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from benchmarks._auth import SERVER_ENV, sign_in
from benchmarks._common import (
    REPO_ROOT,
    Section,
    fmt_ms,
    markdown_table,
    progress,
    quantile,
    run_main,
)
from benchmarks.api_load import _free_port, _wait_ready
from benchmarks.spoof_attacks import EVAL_DIR, HAMILTON_CLOSE_UP, read_video

__all__ = ["Measurement", "main", "render", "run", "serve"]

Image = npt.NDArray[np.uint8]
QUALITY = 90
"""JPEG quality the client sends."""


@dataclass(frozen=True)
class Measurement:
    """What one run measured (seconds).

    Attributes:
        first: Latency of a session's first frame (its pipeline loads models).
        socket: Latencies of the other frames over the socket.
        local: The same frames through ``FrameAnalyzer`` in this process.
        ping: ``ping`` → ``pong`` round trips on the socket.
        frame_bytes: Median JPEG size sent.
        actions: Decisions seen, by action.
    """

    first: float
    socket: list[float]
    local: list[float]
    ping: list[float]
    frame_bytes: int
    actions: dict[str, int]


def serve(port: int, data_dir: str) -> None:
    """Serve the app on ``127.0.0.1:port`` until SIGTERM (the benchmark's child process)."""
    import uvicorn

    from argus.bootstrap.adapters import open_adapters
    from argus.bootstrap.app import build_app
    from argus.config import Settings

    directory = Path(data_dir)
    settings = Settings(data_dir=directory, database_url=f"sqlite:///{directory / 'argus.db'}")
    app = build_app(settings, open_adapters=open_adapters)
    uvicorn.run(app, host="127.0.0.1", port=port, lifespan="on", log_config=None)


def _jpeg(image: Image) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
    assert ok
    return bytes(data.tobytes())


def _local(data_dir: Path, frames: list[bytes], enrol: list[Image]) -> list[float]:
    """Per-frame time of decode + ``FrameAnalyzer.analyze`` in this process (builds packs)."""
    from argus.adapters.face.images import decode_image
    from argus.bootstrap.models import verification_models
    from argus.config import Settings
    from argus.domain.faces import EnrolledFaces
    from argus.services.verification import FrameAnalyzer

    models = verification_models(Settings(data_dir=data_dir))
    references = []
    for image in enrol:
        face = models.faces.detect(image).largest()
        assert face is not None
        references.append(models.embedder.embed(image, face))
    analyzer = FrameAnalyzer(models, EnrolledFaces.of({"user": references}))
    times = []
    for i, data in enumerate(frames):
        started = time.perf_counter()
        analyzer.analyze(decode_image(data), i / 10)
        times.append(time.perf_counter() - started)
    return times[3:]


async def _session(
    port: int, server: subprocess.Popen[bytes], frames: list[bytes], enrol: list[Image], passes: int
) -> Measurement:
    import httpx
    from websockets.asyncio.client import connect

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        await _wait_ready(http, server)
        http.headers.update(await sign_in(http))
        subject = (await http.post("/api/v1/workstations/subjects", json={"name": "H"})).json()
        files = [("photos", (f"{i}.jpg", _jpeg(im), "image/jpeg")) for i, im in enumerate(enrol)]
        done = await http.post(f"/api/v1/workstations/subjects/{subject['id']}/photos", files=files)
        done.raise_for_status()
        body = {"name": "bench desk", "subjects": [subject["id"]]}
        client = (await http.post("/api/v1/workstations/clients", json=body)).json()
    latencies: list[float] = []
    pings: list[float] = []
    actions: dict[str, int] = {}
    async with connect(f"ws://127.0.0.1:{port}/ws/verify", max_size=None) as ws:
        await ws.send(json.dumps({"type": "auth", "client_id": client["id"], "key": client["key"]}))
        assert json.loads(await ws.recv())["type"] == "assigned"
        for data in frames * passes:
            started = time.perf_counter()
            await ws.send(data)
            while (message := json.loads(await ws.recv()))["type"] != "decision":
                pass
            latencies.append(time.perf_counter() - started)
            actions[message["action"]] = actions.get(message["action"], 0) + 1
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "ping"}))
            while json.loads(await ws.recv())["type"] != "pong":
                pass
            pings.append(time.perf_counter() - started)
    sizes = sorted(len(f) for f in frames)
    return Measurement(latencies[0], latencies[3:], [], pings, sizes[len(sizes) // 2], actions)


def _measure(quick: bool) -> Measurement:
    path = EVAL_DIR / "media" / "short_hamilton_clip.mp4"
    if not path.is_file():
        raise RuntimeError(f"{path} is absent: ../shared/eval is only beside a project checkout")
    start, stop = HAMILTON_CLOSE_UP
    video = read_video(path, start, stop, 3)
    frames = [_jpeg(f) for f in video]
    enrol = [video[0], video[14], video[28]]
    passes = 1 if quick else 3
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="argus-bench-verify-") as tmp:
        data_dir = Path(tmp)
        progress("verify: building the packs and timing FrameAnalyzer in this process")
        local = _local(data_dir, frames * passes, enrol)
        command = [
            sys.executable,
            "-c",
            "import sys; from benchmarks.verify_socket import serve; "
            "serve(int(sys.argv[1]), sys.argv[2])",
            str(port),
            str(data_dir),
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_")}
        env.update(SERVER_ENV)
        progress(f"verify: starting the server on 127.0.0.1:{port}")
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
        try:
            measured = asyncio.run(_session(port, server, frames, enrol, passes))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return Measurement(
        measured.first,
        measured.socket,
        local,
        measured.ping,
        measured.frame_bytes,
        measured.actions,
    )


def _row(name: str, values: Sequence[float]) -> list[str]:
    return [name, str(len(values)), fmt_ms(quantile(values, 0.5)), fmt_ms(quantile(values, 0.95))]


def render(result: Measurement, quick: bool) -> Section:
    """Format the latencies as a markdown table."""
    del quick
    overhead = quantile(result.socket, 0.5) - quantile(result.local, 0.5)
    table = markdown_table(
        ["path", "frames", "p50 ms", "p95 ms"],
        [
            _row("frame → decision over /ws/verify", result.socket),
            _row("decode + FrameAnalyzer in process (reference)", result.local),
            _row("ping → pong on the same socket", result.ping),
        ],
    )
    body = "\n".join(
        [
            "The app in a child process on 127.0.0.1 (SQLite store, one pipeline), one client "
            "sending the Hamilton close-up (every third frame, 640x360 JPEG at quality "
            f"{QUALITY}, median {result.frame_bytes // 1024} KiB) one frame at a time; "
            f"decisions: {result.actions}.",
            "",
            table,
            "",
            f"The session's first frame took {fmt_ms(result.first)} ms (its pipeline loads "
            f"its models then). Over the in-process analysis the socket path adds "
            f"{fmt_ms(overhead)} ms at the median (transport, queueing into the pipeline's "
            "thread, the decision message).",
        ]
    )
    headline = [
        f"verify socket: frame → decision p50 {fmt_ms(quantile(result.socket, 0.5))} ms, "
        f"p95 {fmt_ms(quantile(result.socket, 0.95))} ms"
    ]
    return Section("Workstation verification over the socket", body, headline)


def run(quick: bool) -> Section:
    """Run the socket latency benchmark and return its section."""
    return render(_measure(quick), quick)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.verify_socket``."""
    return run_main("Frame to decision latency over /ws/verify on loopback.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
