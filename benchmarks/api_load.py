"""API latency and throughput under load: the real app on uvicorn, driven over loopback.

A child process serves ``build_app`` on uvicorn at ``127.0.0.1`` as ``argus
serve`` does, except that the pipelines are the in-memory supervisor (no
video runs): ``bootstrap.adapters.open_adapters`` with its defaults, so the store is
the SQLite file of a temporary data directory and the bus is in-process.
Cameras are registered through ``POST /api/v1/cameras``; a few thousand
line crossings go straight into the same SQLite file (WAL allows a second
writer), as if the event ingest had stored them.

The load generator is one asyncio ``httpx`` client in this process keeping
``CONCURRENCY`` requests in flight over keep-alive connections. Each endpoint
is first driven alone (a fixed number of requests), then all of them mixed
round-robin; the endpoint phases rotate their order on every round. The
reference, measured in the same run, is ``GET /health/live``, which does no
I/O: the ratios say what each endpoint's work (database, serialisation) adds
to the bare cost of a request through uvicorn, FastAPI and the middleware.

The load generator and the server share the machine's cores, so the absolute
requests/s are a floor for a server with the cores to itself; the section
reports how the CPU time split between them.

    python -m benchmarks.api_load [--quick]
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._auth import SERVER_ENV, sign_in
from benchmarks._common import (
    REPO_ROOT,
    Section,
    fmt_ms,
    fmt_ratio,
    markdown_table,
    progress,
    quantile,
    ratio,
    run_main,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CONCURRENCY",
    "ENDPOINTS",
    "REFERENCE",
    "Phase",
    "main",
    "render",
    "run",
    "serve",
]

CONCURRENCY = 16
REFERENCE = "GET /health/live"
ENDPOINTS = (
    REFERENCE,
    "GET /api/v1/cameras",
    "GET /api/v1/events?limit=50",
    "GET /api/v1/events?camera_id=…",
    "GET /health/ready",
)
"""Every endpoint driven, the reference first (``…`` cycles over the seeded cameras)."""

CLIENTS = ("httpx", "raw")
"""Load generators: ``httpx.AsyncClient``, and ``RawClient`` (bare HTTP/1.1, far cheaper)."""

Getter = Callable[[str], Awaitable[int]]
"""Sends ``GET path`` and returns the status code."""

CAMERAS = 4
FULL = {"events": 5_000, "requests": 1_000, "mixed": 2_000, "rounds": 2}
QUICK = {"events": 1_000, "requests": 200, "mixed": 500, "rounds": 1}
WARMUP = 100
START_TIMEOUT = 60.0
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@dataclass(slots=True)
class Phase:
    """One load phase: latencies per endpoint and the phase's wall time.

    Attributes:
        name: ``alone`` (one endpoint at a time) or ``mixed``.
        latencies: Seconds per request, by endpoint.
        seconds: Wall time of the phase.
        failures: Requests that did not answer 200, by endpoint.
        server_cpu: CPU seconds the server process used during the phase.
        client_cpu: CPU seconds this process (the load generator) used meanwhile.
    """

    name: str
    latencies: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    failures: dict[str, int] = field(default_factory=dict)
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    @property
    def requests(self) -> int:
        """Requests sent in the phase."""
        return sum(len(v) for v in self.latencies.values())


def serve(port: int, data_dir: str) -> None:
    """Serve the app on ``127.0.0.1:port`` until SIGTERM (the benchmark's child process)."""
    import uvicorn

    from argus.bootstrap.adapters import open_adapters
    from argus.bootstrap.app import build_app
    from argus.config import Settings

    directory = Path(data_dir)
    settings = Settings(data_dir=directory, database_url=f"sqlite:///{directory / 'argus.db'}")
    # open_adapters without a pipelines factory: the in-memory supervisor, no video.
    app = build_app(settings, open_adapters=open_adapters)
    uvicorn.run(app, host="127.0.0.1", port=port, lifespan="on", log_config=None)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _child_cpu_seconds(pid: int) -> float:
    """CPU seconds a live child has used (``/proc``); ``nan`` where unreadable."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return float("nan")
    fields = text[text.rfind(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _wait_ready(client: httpx.AsyncClient, server: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if (await client.get("/health/ready")).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the server was not ready within {START_TIMEOUT:.0f} s")


async def _seed(client: httpx.AsyncClient, data_dir: Path, events: int) -> list[str]:
    """Register cameras through the API and store ``events`` crossings in its SQLite file."""
    from argus.adapters.db.crypto import resolve_secret_key
    from argus.adapters.db.sql import SqlDatabase
    from argus.domain.events import Envelope, EventSource, LineCrossed

    ids = []
    for n in range(CAMERAS):
        body = {"name": f"Gate {n}", "stream_url": f"rtsp://10.0.0.{n + 1}:554/stream1"}
        answer = await client.post("/api/v1/cameras", json=body)
        answer.raise_for_status()
        ids.append(str(answer.json()["id"]))
    envelopes = [
        Envelope.wrap(
            LineCrossed(
                line="gate",
                track_id=n % 97,
                class_id=0,
                class_name="person",
                direction="in",
                timestamp=n / 10,
                confidence=0.875,
            ),
            EventSource("edge-1", ids[n % CAMERAS]),
            T0 + timedelta(seconds=n / 10),
        )
        for n in range(events)
    ]
    database = await SqlDatabase.open(
        f"sqlite:///{data_dir / 'argus.db'}",
        secret_key=resolve_secret_key(None, data_dir),
        run_migrations=False,
    )
    try:
        for start in range(0, events, 500):
            await database.events.add_many(envelopes[start : start + 500])
    finally:
        await database.close()
    total = (await client.get("/api/v1/events", params={"limit": 1})).json()["total"]
    if total != events:
        raise RuntimeError(f"seeded {events} events but the API counts {total}")
    return ids


def _path(endpoint: str, cameras: Sequence[str], n: int) -> str:
    path = endpoint.split(" ", 1)[1]
    return path.replace("…", cameras[n % len(cameras)])


class RawClient:
    """Bare HTTP/1.1 keep-alive GETs over asyncio streams: a load generator that costs little.

    One connection per request in flight; every answer must carry a
    ``Content-Length`` (uvicorn's do for these endpoints).
    """

    def __init__(
        self, host: str, port: int, connections: int, authorization: str | None = None
    ) -> None:
        self._address = (host, port)
        self._extra = f"Authorization: {authorization}\r\n" if authorization else ""
        self._connections = connections
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self._all: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> RawClient:
        for _ in range(self._connections):
            reader, writer = await asyncio.open_connection(*self._address)
            self._all.append(writer)
            self._idle.put_nowait((reader, writer))
        return self

    async def __aexit__(self, *_: object) -> None:
        for writer in self._all:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def get(self, path: str) -> int:
        """Send ``GET path``, read the whole answer, and return its status code.

        A connection the server closed while idle (its keep-alive timeout) is
        replaced and the request sent again, as ``httpx`` does.
        """
        reader, writer = await self._idle.get()
        try:
            try:
                return await self._exchange(reader, writer, path)
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()
                reader, writer = await asyncio.open_connection(*self._address)
                self._all.append(writer)
                return await self._exchange(reader, writer, path)
        finally:
            self._idle.put_nowait((reader, writer))

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str
    ) -> int:
        request = f"GET {path} HTTP/1.1\r\nHost: {self._address[0]}\r\n{self._extra}\r\n"
        writer.write(request.encode())
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        return int(head.split(b" ", 2)[1])


async def _drive(
    get: Getter,
    phase: Phase,
    plan: Sequence[tuple[str, str]],
    concurrency: int,
    server_pid: int,
) -> None:
    """Send ``plan`` (endpoint, path) with ``concurrency`` requests in flight; record into phase."""
    queue = iter(plan)

    async def worker() -> None:
        for endpoint, path in queue:
            started = time.perf_counter()
            status = await get(path)
            elapsed = time.perf_counter() - started
            phase.latencies.setdefault(endpoint, []).append(elapsed)
            if status != 200:
                phase.failures[endpoint] = phase.failures.get(endpoint, 0) + 1

    cpu, own, started = _child_cpu_seconds(server_pid), time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    phase.seconds += time.perf_counter() - started
    phase.server_cpu += _child_cpu_seconds(server_pid) - cpu
    phase.client_cpu += time.process_time() - own


@dataclass(slots=True)
class Results:
    """Every phase of a run, by load generator.

    Attributes:
        alone: Per client, one phase per endpoint driven on its own.
        mixed: Per client, the phase of all endpoints round-robin.
    """

    alone: dict[str, dict[str, Phase]] = field(default_factory=dict)
    mixed: dict[str, Phase] = field(default_factory=dict)


async def _load(port: int, server: subprocess.Popen[bytes], data_dir: Path, quick: bool) -> Results:
    import httpx

    sizes = QUICK if quick else FULL
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    base_url = f"http://127.0.0.1:{port}"
    results = Results(
        alone={c: {e: Phase("alone") for e in ENDPOINTS} for c in CLIENTS},
        mixed={c: Phase("mixed") for c in CLIENTS},
    )
    async with (
        httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0) as client,
    ):
        await _wait_ready(client, server)
        client.headers.update(await sign_in(client))
        progress(f"api: seeding {CAMERAS} cameras and {sizes['events']} events")
        cameras = await _seed(client, data_dir, sizes["events"])

        async def httpx_get(path: str) -> int:
            return (await client.get(path)).status_code

        authorization = client.headers["Authorization"]
        async with RawClient("127.0.0.1", port, CONCURRENCY, authorization) as raw:
            getters: dict[str, Getter] = {"httpx": httpx_get, "raw": raw.get}
            mixed_plan = [
                (endpoint, _path(endpoint, cameras, n))
                for n, endpoint in zip(
                    range(sizes["mixed"]), itertools.cycle(ENDPOINTS), strict=False
                )
            ]
            for get in getters.values():
                await _drive(get, Phase("warm-up"), mixed_plan[:WARMUP], CONCURRENCY, server.pid)
            for round_ in range(sizes["rounds"]):
                shift = round_ % len(ENDPOINTS)
                for name in CLIENTS[round_ % 2 :] + CLIENTS[: round_ % 2]:
                    for endpoint in ENDPOINTS[shift:] + ENDPOINTS[:shift]:
                        progress(f"api: {name}, {endpoint} alone, {sizes['requests']} requests")
                        plan = [
                            (endpoint, _path(endpoint, cameras, n))
                            for n in range(sizes["requests"])
                        ]
                        phase = results.alone[name][endpoint]
                        await _drive(getters[name], phase, plan, CONCURRENCY, server.pid)
                    progress(f"api: {name}, mixed, {sizes['mixed']} requests")
                    await _drive(
                        getters[name], results.mixed[name], mixed_plan, CONCURRENCY, server.pid
                    )
    return results


def _measure(quick: bool) -> Results:
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="argus-bench-api-") as tmp:
        data_dir = Path(tmp)
        command = [
            sys.executable,
            "-c",
            "import sys; from benchmarks.api_load import serve; "
            "serve(int(sys.argv[1]), sys.argv[2])",
            str(port),
            str(data_dir),
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_")}
        env.update(SERVER_ENV)
        progress(f"api: starting the server on 127.0.0.1:{port}")
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
        try:
            results = asyncio.run(_load(port, server, data_dir, quick))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    return results


def _latency_cells(endpoint: str, latencies: Sequence[float], failures: int) -> list[str]:
    return [
        endpoint + (" (reference)" if endpoint == REFERENCE else ""),
        str(len(latencies)),
        str(failures),
        fmt_ms(quantile(latencies, 0.5)),
        fmt_ms(quantile(latencies, 0.95)),
        fmt_ms(quantile(latencies, 0.99)),
    ]


def _rate(phase: Phase) -> float:
    return phase.requests / phase.seconds if phase.seconds > 0 else 0.0


def _alone_rows(alone: dict[str, Phase]) -> list[list[str]]:
    ref = alone[REFERENCE].latencies.get(REFERENCE, [])
    rows = []
    for endpoint in ENDPOINTS:
        phase = alone[endpoint]
        values = phase.latencies.get(endpoint, [])
        server_ms = 1e3 * phase.server_cpu / phase.requests if phase.requests else math.nan
        rows.append(
            [
                *_latency_cells(endpoint, values, phase.failures.get(endpoint, 0)),
                f"{_rate(phase):.0f}",
                f"{server_ms:.2f}",
                fmt_ratio(ratio(quantile(values, 0.5), quantile(ref, 0.5))),
                fmt_ratio(ratio(quantile(values, 0.99), quantile(ref, 0.99))),
                fmt_ratio(ratio(_rate(phase), _rate(alone[REFERENCE]))),
            ]
        )
    return rows


def _mixed_rows(mixed: Phase) -> list[list[str]]:
    ref = mixed.latencies.get(REFERENCE, [])
    rows = []
    for endpoint in ENDPOINTS:
        values = mixed.latencies.get(endpoint, [])
        rows.append(
            [
                *_latency_cells(endpoint, values, mixed.failures.get(endpoint, 0)),
                fmt_ratio(ratio(quantile(values, 0.5), quantile(ref, 0.5))),
                fmt_ratio(ratio(quantile(values, 0.99), quantile(ref, 0.99))),
            ]
        )
    return rows


def _cpu_line(phases: Sequence[Phase]) -> str:
    server = sum(p.server_cpu for p in phases)
    client = sum(p.client_cpu for p in phases)
    wall = sum(p.seconds for p in phases)
    if wall <= 0:
        return ""
    return (
        f"Over these {wall:.0f} s of load the server process used {server:.1f} CPU-seconds "
        f"({server / wall:.0%} of one core) and the load generator {client:.1f} "
        f"({client / wall:.0%} of one core)."
    )


def _client_part(name: str, alone: dict[str, Phase], mixed: Phase, sizes: dict[str, int]) -> str:
    ref_phase = alone[REFERENCE]
    ref = ref_phase.latencies.get(REFERENCE, [])
    latency = ["endpoint", "requests", "non-200", "p50 ms", "p95 ms", "p99 ms"]
    what = {"httpx": "`httpx.AsyncClient`", "raw": "bare HTTP/1.1 over asyncio streams"}[name]
    return "\n".join(
        [
            f"#### Load generator: {name} ({what})",
            "",
            f"Each endpoint alone, {sizes['requests']} requests per round (reference "
            f"`{REFERENCE}`: p50 {fmt_ms(quantile(ref, 0.5))} ms, p99 "
            f"{fmt_ms(quantile(ref, 0.99))} ms, {_rate(ref_phase):.0f} requests/s):",
            "",
            markdown_table(
                [
                    *latency,
                    "requests/s",
                    "server CPU ms",
                    "p50 vs live",
                    "p99 vs live",
                    "requests/s vs live",
                ],
                _alone_rows(alone),
            ),
            "",
            f"All endpoints mixed round-robin, {sizes['mixed']} requests per round: "
            f"{_rate(mixed):.0f} requests/s in total; ratios against `{REFERENCE}` in the same "
            "mix:",
            "",
            markdown_table([*latency, "p50 vs live", "p99 vs live"], _mixed_rows(mixed)),
            "",
            _cpu_line([*alone.values(), mixed]),
            "",
        ]
    )


def render(results: Results, quick: bool) -> Section:
    """Format the phases as markdown tables with ratios to ``GET /health/live``."""
    sizes = QUICK if quick else FULL
    parts = [
        "The real app (uvicorn, asyncio loop, h11; SQLite store, in-memory bus and pipelines) "
        f"in a child process on 127.0.0.1; {CAMERAS} cameras and {sizes['events']} events "
        f"seeded. The load generator, in this process, keeps {CONCURRENCY} requests in flight "
        f"over keep-alive connections; {sizes['rounds']} round(s), the endpoint phases in "
        f"rotating order, after {WARMUP} warm-up requests. `events?camera_id=` returns the "
        "default page of 100 events, `events?limit=50` half that. *server CPU ms* is the "
        "server process's CPU time per request. The load generator shares the "
        f"{os.cpu_count()} cores with the server; loopback TCP in the kernel is charged to "
        "neither and shows up among other processes.",
        "",
    ]
    parts += [_client_part(c, results.alone[c], results.mixed[c], sizes) for c in CLIENTS]
    headline = []
    for name in CLIENTS:
        alone = results.alone[name]
        ref_phase = alone[REFERENCE]
        ref = ref_phase.latencies.get(REFERENCE, [])
        slowest = max(ENDPOINTS[1:], key=lambda e: quantile(alone[e].latencies.get(e, []), 0.99))
        slow = alone[slowest].latencies.get(slowest, [])
        headline.append(
            f"api, {CONCURRENCY} in flight, {name} client: {REFERENCE} "
            f"{_rate(ref_phase):.0f} requests/s, p50 {fmt_ms(quantile(ref, 0.5))} ms, p99 "
            f"{fmt_ms(quantile(ref, 0.99))} ms; slowest p99 {slowest} "
            f"{fmt_ms(quantile(slow, 0.99))} ms = "
            f"{fmt_ratio(ratio(quantile(slow, 0.99), quantile(ref, 0.99)))} live; mixed "
            f"{_rate(results.mixed[name]):.0f} requests/s"
        )
    return Section("API under load (loopback)", "\n".join(parts), headline)


def run(quick: bool) -> Section:
    """Run the API load benchmark and return its section."""
    return render(_measure(quick), quick)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.api_load``."""
    return run_main("API p50/p99 latency and throughput under load on loopback.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
