"""Live video to the dashboard: one MJPEG stream per viewer vs polling the snapshot.

The dashboard's Live page shows a camera through ``GET
/api/v1/cameras/{id}/stream?fps=N`` (``multipart/x-mixed-replace``: one
authenticated request, then a JPEG part per new frame, at most N a second).
Before, it polled ``GET /api/v1/cameras/{id}/snapshot``: one authenticated
REST request per frame. This benchmark measures what each costs the server per
frame delivered, and the frame rate each viewer actually gets.

A child process serves ``build_app`` on uvicorn at ``127.0.0.1`` as ``argus
serve`` does (``bootstrap.adapters.open_adapters``: SQLite file in a temporary data
directory, in-process bus), except that the pipelines are in memory and their
cameras show synthetic 640x360 frames that change ``SOURCE_FPS`` times a
second: ``DISTINCT`` noise-free images (gradients, moving shapes, a frame
counter), each JPEG-encoded once at start-up, so no encoding is measured.
``CAMERAS`` cameras are registered over REST; viewer *i* watches camera
*i* mod ``CAMERAS``.

For each number of concurrent viewers, two phases of the same length, their
order alternating:

* **stream**: each viewer holds one stream at ``fps=TARGET_FPS``;
* **polling** (the reference): each viewer sends ``GET .../snapshot`` with its
  bearer token on one keep-alive connection, on a fixed ``TARGET_FPS``
  schedule (a request that comes back late is not made up for).

Both clients are bare HTTP/1.1 over asyncio streams in this process (the
stream's chunked body and multipart parts are parsed by hand), so the load
generator costs little; the server's CPU time comes from ``/proc`` for its
process alone. The first ``WARMUP`` seconds of a phase (connecting, signing
the stream in) are not counted.

    python -m benchmarks.live_video [--quick]
"""

from __future__ import annotations

import asyncio
import functools
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._auth import SERVER_ENV, sign_in
from benchmarks._common import (
    REPO_ROOT,
    Section,
    fmt_ratio,
    markdown_table,
    progress,
    ratio,
    run_main,
)
from benchmarks.api_load import _child_cpu_seconds, _free_port, _wait_ready

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from argus.adapters.pipelines_memory import MemoryPipelines

__all__ = [
    "MODES",
    "TARGET_FPS",
    "Phase",
    "Plan",
    "Results",
    "main",
    "render",
    "run",
    "serve",
    "synthetic_frame",
]

TARGET_FPS = 10.0
SOURCE_FPS = 25.0
"""How often the synthetic cameras show a new frame."""
DISTINCT = 50
"""Distinct frames per camera, shown in a loop (2 s at ``SOURCE_FPS``)."""
WIDTH, HEIGHT = 640, 360
CAMERAS = 4
MODES = ("stream", "polling")
"""The MJPEG stream, and the reference: polling the snapshot."""


@dataclass(frozen=True, slots=True)
class Plan:
    """How much to measure.

    Attributes:
        viewers: The numbers of concurrent viewers, one pair of phases each.
        seconds: Counted seconds per phase.
        idle: Seconds the idle server is measured.
    """

    viewers: tuple[int, ...]
    seconds: float
    idle: float


FULL = Plan(viewers=(1, 4, 16), seconds=10.0, idle=3.0)
QUICK = Plan(viewers=(1, 4), seconds=3.0, idle=1.0)
WARMUP = 1.0
SETTLE = 1.0
"""Seconds between phases, for the server to notice closed streams."""


def synthetic_frame(n: int) -> npt.NDArray[np.uint8]:
    """Frame ``n`` of a synthetic camera: BGR, ``HEIGHT`` x ``WIDTH``, no noise."""
    import cv2
    import numpy as np

    t = n / SOURCE_FPS
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    image = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    image[..., 0] = (128 + 60 * np.sin(x / 23 + t) + 40 * np.cos(y / 17)).clip(0, 255)
    image[..., 1] = (128 + 50 * np.sin((x + y) / 31 - 0.7 * t)).clip(0, 255)
    image[..., 2] = (100 + 80 * np.cos(x / 53) * np.sin(y / 41 + 0.3 * t)).clip(0, 255)
    for k in range(6):
        cx, cy = (k * 97 + n * (3 + k)) % WIDTH, int(60 + 45 * k + 20 * math.sin(t + k))
        cv2.rectangle(image, (cx, cy), (cx + 50 + 5 * k, cy + 80), (30 * k, 255 - 30 * k, 90), -1)
        center = ((3 * cx + 200) % WIDTH, (2 * cy) % HEIGHT)
        cv2.circle(image, center, 25 + 3 * k, (200, 40 * k, 255 - 40 * k), 3)
    label = f"CAM 01  frame {n:05d}"
    cv2.putText(image, label, (20, 340), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
    return image


@functools.cache
def encoded_frames() -> tuple[bytes, ...]:
    """The ``DISTINCT`` synthetic frames as JPEG (Argus's encoder, quality 85), once."""
    from argus.adapters.video._imaging import encode_jpeg

    return tuple(encode_jpeg(synthetic_frame(n)) for n in range(DISTINCT))


def synthetic_pipelines() -> MemoryPipelines:
    """In-memory pipelines whose online cameras show ``encoded_frames`` at ``SOURCE_FPS``."""
    from argus.adapters.pipelines_memory import MemoryPipelines

    frames = encoded_frames()

    class SyntheticPipelines(MemoryPipelines):
        def snapshot(self, camera_id: str) -> bytes | None:
            if super().snapshot(camera_id) is None:
                return None
            return frames[int(time.monotonic() * SOURCE_FPS) % len(frames)]

    return SyntheticPipelines()


def serve(port: int, data_dir: str) -> None:
    """Serve the app on ``127.0.0.1:port`` until SIGTERM (the benchmark's child process)."""
    import uvicorn

    from argus.bootstrap.adapters import Adapters, open_adapters
    from argus.bootstrap.app import build_app
    from argus.config import Settings

    encoded_frames()  # before the server starts: no encoding while measuring
    directory = Path(data_dir)
    settings = Settings(data_dir=directory, database_url=f"sqlite:///{directory / 'argus.db'}")

    async def opener(chosen: Settings) -> Adapters:
        return await open_adapters(chosen, pipelines=lambda _s, _bus: synthetic_pipelines())

    app = build_app(settings, open_adapters=opener)
    uvicorn.run(app, host="127.0.0.1", port=port, lifespan="on", log_config=None)


@dataclass(slots=True)
class Viewer:
    """What one viewer received so far.

    Attributes:
        frames: JPEGs received.
        repeats: JPEGs equal to the one before (polling only: the frame had not changed).
        bytes_in: Bytes read from the socket (HTTP heads, chunk framing, parts, bodies).
        bytes_out: Bytes written to the socket (requests).
        failures: Answers that were not 200.
    """

    frames: int = 0
    repeats: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    failures: int = 0

    def copy(self) -> Viewer:
        """A copy of the counters now."""
        return Viewer(self.frames, self.repeats, self.bytes_in, self.bytes_out, self.failures)


@dataclass(slots=True)
class Phase:
    """One phase: ``viewers`` concurrent viewers in one mode for ``seconds``.

    Attributes:
        mode: ``stream`` or ``polling``.
        viewers: Concurrent viewers.
        seconds: Length of the counted window.
        frames: JPEGs each viewer received in the window.
        repeats: Of those, JPEGs equal to the viewer's previous one.
        bytes_in: Bytes read by all viewers in the window.
        bytes_out: Bytes written by all viewers in the window.
        failures: Non-200 answers in the whole phase.
        server_cpu: CPU seconds the server process used in the window.
        client_cpu: CPU seconds this process (the viewers) used in the window.
    """

    mode: str
    viewers: int
    seconds: float = 0.0
    frames: list[int] = field(default_factory=list)
    repeats: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    failures: int = 0
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    @property
    def total_frames(self) -> int:
        """JPEGs received by all viewers in the window."""
        return sum(self.frames)

    @property
    def fps(self) -> float:
        """Mean delivered frames per second per viewer."""
        if self.seconds <= 0 or not self.frames:
            return math.nan
        return self.total_frames / len(self.frames) / self.seconds

    @property
    def min_fps(self) -> float:
        """Delivered frames per second of the worst-served viewer."""
        return min(self.frames) / self.seconds if self.seconds > 0 and self.frames else math.nan

    @property
    def cpu_per_frame(self) -> float:
        """Server CPU seconds per delivered frame."""
        return self.server_cpu / self.total_frames if self.total_frames else math.nan

    @property
    def bytes_per_frame(self) -> float:
        """Bytes on the wire (both ways, above TCP) per delivered frame."""
        wire = self.bytes_in + self.bytes_out
        return wire / self.total_frames if self.total_frames else math.nan


@dataclass(slots=True)
class Results:
    """Every phase of a run.

    Attributes:
        phases: By ``(mode, viewers)``.
        jpeg_bytes: Mean size of the synthetic JPEGs.
        idle_cpu: Share of one core the idle server used (cameras registered, no viewer).
    """

    phases: dict[tuple[str, int], Phase] = field(default_factory=dict)
    jpeg_bytes: float = 0.0
    idle_cpu: float = 0.0


# --- the viewers: bare HTTP/1.1 -------------------------------------------------------------


async def _head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], int]:
    """Status, headers (lower-case names) and size of an HTTP response head."""
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(lines[0].split(" ", 2)[1]), headers, len(raw)


def _request(path: str, port: int, authorization: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: {authorization}\r\n"
        "Accept: image/jpeg\r\n\r\n"
    ).encode("ascii")


async def _poll(viewer: Viewer, port: int, path: str, authorization: str, fps: float) -> None:
    """GET ``path`` on a ``fps`` schedule over one keep-alive connection, until cancelled."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = _request(path, port, authorization)
    loop = asyncio.get_running_loop()
    due = loop.time()
    last = b""
    try:
        while True:
            writer.write(request)
            viewer.bytes_out += len(request)
            status, headers, size = await _head(reader)
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            viewer.bytes_in += size + len(body)
            if status == 200:
                viewer.frames += 1
                viewer.repeats += body == last
                last = body
            else:
                viewer.failures += 1
            due = max(due + 1.0 / fps, loop.time())
            await asyncio.sleep(due - loop.time())
    finally:
        writer.close()


async def _watch(viewer: Viewer, port: int, path: str, authorization: str) -> None:
    """Hold the stream at ``path``, counting its JPEG parts, until cancelled."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = _request(path, port, authorization)
    writer.write(request)
    viewer.bytes_out += len(request)
    try:
        status, headers, size = await _head(reader)
        viewer.bytes_in += size
        if status != 200 or headers.get("transfer-encoding") != "chunked":
            viewer.failures += 1
            return
        buffer = bytearray()
        while True:
            line = await reader.readuntil(b"\r\n")
            length = int(line.split(b";", 1)[0], 16)
            chunk = await reader.readexactly(length + 2)
            viewer.bytes_in += len(line) + len(chunk)
            if length == 0:
                return  # the server ended the stream
            buffer += chunk[:-2]
            viewer.frames += _take_parts(buffer)
    finally:
        writer.close()


def _take_parts(buffer: bytearray) -> int:
    """Remove the complete multipart parts from the front of ``buffer``; how many there were."""
    parts = 0
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return parts
        head = bytes(buffer[:end]).decode("ascii").split("\r\n")
        if head[0] != "--frame":
            raise RuntimeError(f"not a multipart part: {head[0]!r}")
        length = next(
            int(h.split(":", 1)[1]) for h in head[1:] if h.lower().startswith("content-length:")
        )
        whole = end + 4 + length + 2
        if len(buffer) < whole:
            return parts
        del buffer[:whole]
        parts += 1


# --- the run ---------------------------------------------------------------------------------


async def _phase(
    mode: str,
    viewers: int,
    seconds: float,
    start: Callable[[int, Viewer], Coroutine[Any, Any, None]],
    server_pid: int,
) -> Phase:
    counters = [Viewer() for _ in range(viewers)]
    tasks = [asyncio.create_task(start(n, counters[n])) for n in range(viewers)]
    try:
        await asyncio.sleep(WARMUP)
        for task in tasks:
            if task.done():
                task.result()  # a viewer that failed to start: raise its error now
        before = [c.copy() for c in counters]
        cpu, own, began = _child_cpu_seconds(server_pid), time.process_time(), time.perf_counter()
        await asyncio.sleep(seconds)
        after = [c.copy() for c in counters]
        phase = Phase(mode, viewers, seconds=time.perf_counter() - began)
        phase.server_cpu = _child_cpu_seconds(server_pid) - cpu
        phase.client_cpu = time.process_time() - own
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    phase.frames = [a.frames - b.frames for a, b in zip(after, before, strict=True)]
    phase.repeats = sum(a.repeats - b.repeats for a, b in zip(after, before, strict=True))
    phase.bytes_in = sum(a.bytes_in - b.bytes_in for a, b in zip(after, before, strict=True))
    phase.bytes_out = sum(a.bytes_out - b.bytes_out for a, b in zip(after, before, strict=True))
    phase.failures = sum(c.failures for c in counters)
    return phase


async def _load(port: int, server: subprocess.Popen[bytes], quick: bool) -> Results:
    import httpx

    plan = QUICK if quick else FULL
    results = Results(jpeg_bytes=sum(map(len, encoded_frames())) / DISTINCT)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60.0) as client:
        await _wait_ready(client, server)
        authorization = (await sign_in(client))["Authorization"]
        cameras = []
        for n in range(CAMERAS):
            body = {"name": f"Live {n}", "stream_url": f"rtsp://10.0.0.{n + 1}:554/stream1"}
            answer = await client.post(
                "/api/v1/cameras", json=body, headers={"Authorization": authorization}
            )
            answer.raise_for_status()
            cameras.append(str(answer.json()["id"]))

    def stream(n: int, viewer: Viewer) -> Coroutine[Any, Any, None]:
        path = f"/api/v1/cameras/{cameras[n % CAMERAS]}/stream?fps={TARGET_FPS:g}"
        return _watch(viewer, port, path, authorization)

    def polling(n: int, viewer: Viewer) -> Coroutine[Any, Any, None]:
        path = f"/api/v1/cameras/{cameras[n % CAMERAS]}/snapshot"
        return _poll(viewer, port, path, authorization, TARGET_FPS)

    starters = {"stream": stream, "polling": polling}
    progress(f"live: the idle server, {plan.idle:g} s")
    await asyncio.sleep(SETTLE)
    cpu = _child_cpu_seconds(server.pid)
    await asyncio.sleep(plan.idle)
    results.idle_cpu = (_child_cpu_seconds(server.pid) - cpu) / plan.idle
    seconds = plan.seconds
    for round_, viewers in enumerate(plan.viewers):
        for mode in MODES[round_ % 2 :] + MODES[: round_ % 2]:
            progress(f"live: {viewers} viewer(s), {mode}, {seconds:g} s")
            phase = await _phase(mode, viewers, seconds, starters[mode], server.pid)
            results.phases[mode, viewers] = phase
            await asyncio.sleep(SETTLE)
    return results


def _measure(quick: bool) -> Results:
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="argus-bench-live-") as tmp:
        command = [
            sys.executable,
            "-c",
            "import sys; from benchmarks.live_video import serve; "
            "serve(int(sys.argv[1]), sys.argv[2])",
            str(port),
            tmp,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_")}
        env.update(SERVER_ENV)
        progress(f"live: starting the server on 127.0.0.1:{port}")
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
        try:
            return asyncio.run(_load(port, server, quick))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


# --- the report ------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return "n/a" if not math.isfinite(seconds) else f"{seconds * 1e3:.2f}"


def _num(value: float, digits: int = 1) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.{digits}f}"


def _viewer_counts(results: Results) -> list[int]:
    return sorted({viewers for _, viewers in results.phases})


def render(results: Results, quick: bool) -> Section:
    """Format the phases: fps per viewer, server CPU per frame, polling over stream."""
    plan = QUICK if quick else FULL
    summary = []
    detail = []
    headline: list[str] = []
    for viewers in _viewer_counts(results):
        stream = results.phases.get(("stream", viewers))
        polling = results.phases.get(("polling", viewers))
        if stream is None or polling is None:
            continue
        # The most viewers (the last pair) give the figure that matters.
        headline = [
            f"live, {viewers} viewer(s) at {TARGET_FPS:g} fps: stream {_num(stream.fps)} fps, "
            f"{_ms(stream.cpu_per_frame)} ms server CPU/frame; polling {_num(polling.fps)} fps, "
            f"{_ms(polling.cpu_per_frame)} ms/frame = "
            f"{fmt_ratio(ratio(polling.cpu_per_frame, stream.cpu_per_frame))} the stream"
        ]
        summary.append(
            [
                str(viewers),
                _num(stream.fps),
                _num(polling.fps),
                _ms(stream.cpu_per_frame),
                _ms(polling.cpu_per_frame),
                fmt_ratio(ratio(polling.cpu_per_frame, stream.cpu_per_frame)),
                _num(stream.bytes_per_frame - results.jpeg_bytes, 0),
                _num(polling.bytes_per_frame - results.jpeg_bytes, 0),
            ]
        )
        for phase in (stream, polling):
            seconds = phase.seconds if phase.seconds > 0 else math.nan
            detail.append(
                [
                    f"{viewers} x {phase.mode}"
                    + (" (reference)" if phase.mode == "polling" else ""),
                    str(phase.total_frames),
                    _num(phase.fps),
                    _num(phase.min_fps),
                    str(phase.repeats) if phase.mode == "polling" else "-",
                    str(phase.failures),
                    f"{phase.server_cpu:.2f}",
                    f"{100 * phase.server_cpu / seconds:.0f} %",
                    f"{100 * phase.client_cpu / seconds:.0f} %",
                ]
            )
    body = "\n".join(
        [
            "The real app (uvicorn, SQLite, in-process bus) in a child process on 127.0.0.1; "
            f"in-memory pipelines whose {CAMERAS} cameras show a new synthetic {WIDTH}x{HEIGHT} "
            f"frame {SOURCE_FPS:g} times a second ({DISTINCT} distinct JPEGs, mean "
            f"{results.jpeg_bytes / 1024:.1f} KiB, encoded once). Each viewer asks for "
            f"{TARGET_FPS:g} fps: **stream** holds `GET /cameras/{{id}}/stream?fps="
            f"{TARGET_FPS:g}`; **polling** (the reference) sends `GET /cameras/{{id}}/snapshot` "
            f"with its bearer token on a {TARGET_FPS:g}/s schedule over one keep-alive "
            f"connection. {plan.seconds:g} s counted per phase after {WARMUP:g} s of "
            "warm-up; bare HTTP/1.1 clients in this process. *CPU/frame* is the server "
            "process's CPU time per delivered frame, idle cost included (the idle server "
            f"used {100 * results.idle_cpu:.1f} % of one core); *overhead* is the bytes on "
            "the wire (requests, heads, chunk and part framing) per frame beyond the JPEG.",
            "",
            markdown_table(
                [
                    "viewers",
                    "stream fps/viewer",
                    "polling fps/viewer",
                    "stream CPU ms/frame",
                    "polling CPU ms/frame",
                    "polling / stream CPU",
                    "stream overhead B/frame",
                    "polling overhead B/frame",
                ],
                summary,
            ),
            "",
            markdown_table(
                [
                    "phase",
                    "frames",
                    "mean fps/viewer",
                    "worst viewer fps",
                    "repeated frames",
                    "non-200",
                    "server CPU s",
                    "server % of a core",
                    "client % of a core",
                ],
                detail,
            ),
        ]
    )
    return Section("Live video: MJPEG stream vs snapshot polling", body, headline)


def run(quick: bool) -> Section:
    """Run the live video benchmark and return its section."""
    return render(_measure(quick), quick)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.live_video``."""
    return run_main("Live video: MJPEG stream vs snapshot polling, per frame.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
