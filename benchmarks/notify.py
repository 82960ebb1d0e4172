"""Alerts that leave the box: delivery latency per channel, and an alert storm with grouping.

Real processes on loopback (``_notify_rig``): ``argus serve`` on SQLite, the
suite's aiosmtpd sink, its webhook receiver and Mosquitto.

**Latency.** Alerts are raised one at a time by posting one ``line.crossed``
event with ``POST /api/v1/events``, each on a line of its own so every alert
opens its own group and is notified. For each alert the benchmark takes the
server's ``created_at`` (from the ``alert.created`` message) and the moment
each path delivered it: the WebSocket message read here (the reference,
measured in the same run), the file the SMTP server wrote once it accepted
the mail, the webhook receiver's receipt time, and the MQTT message read by a
subscriber here. Client, receivers and server share the machine's clock.

**Storm.** 1 000 matching events per minute on one camera and one line
(``--quick``: a quarter of a minute at the same rate), posted at a steady pace,
against a fresh server with alert grouping (the default window) and against
one without (``ARGUS_ALERT_GROUP_WINDOW_S=0``). After the storm and a settling
pause the benchmark counts alerts, groups, notifications stored and messages
the SMTP server and the webhook receiver received, and the server's CPU
seconds over the storm and settling.

    python -m benchmarks.notify [--quick]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from benchmarks._common import (
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
from benchmarks._notify_rig import MQTT_TOPIC, Rig, event_body, ready, rig

__all__ = ["Latencies", "StormResult", "main", "render", "run"]

DELIVERY_TIMEOUT = 30.0
STORM_RATE_PER_MIN = 1000


@dataclass(slots=True)
class Latencies:
    """Seconds from an alert's ``created_at`` to its arrival, per path."""

    paths: dict[str, list[float]] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StormResult:
    """What one storm produced."""

    grouping: bool
    events: int
    alerts: int
    groups: int
    notifications: int
    mails: int
    webhooks: int
    server_cpu: float
    seconds: float


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _socket(the_rig: Rig) -> Any:
    from websockets.asyncio.client import connect

    url = the_rig.base_url.replace("http://", "ws://") + "/ws"
    socket = await connect(url, additional_headers=the_rig.headers)
    welcome = json.loads(await socket.recv())
    if welcome.get("type") != "welcome":
        raise RuntimeError(f"expected a welcome message, got {welcome!r}")
    await socket.send(json.dumps({"type": "subscribe", "channels": ["alerts"]}))
    return socket


async def _next_alert(socket: Any) -> tuple[datetime, datetime]:
    """``(created_at, received)`` of the next ``alert.created`` on the socket."""
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), DELIVERY_TIMEOUT))
        if message.get("type") == "alert.created":
            return _utc(message["alert"]["created_at"]), datetime.now(UTC)


async def _wait_for(probe: Any, deadline: float) -> datetime | None:
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found  # type: ignore[no-any-return]
        await asyncio.sleep(0.005)
    return None


async def _latencies(the_rig: Rig, count: int) -> Latencies:
    import httpx

    result = Latencies()
    mqtt_times: asyncio.Queue[datetime] = asyncio.Queue()
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            httpx.AsyncClient(base_url=the_rig.base_url, timeout=30)
        )
        await ready(client, the_rig)
        await the_rig.setup(client)
        socket = await _socket(the_rig)
        stack.push_async_callback(socket.close)
        reader: asyncio.Task[None] | None = None
        if the_rig.mqtt:
            import aiomqtt

            mqtt = await stack.enter_async_context(aiomqtt.Client("127.0.0.1", 1883))
            await mqtt.subscribe(MQTT_TOPIC, qos=1)

            async def read() -> None:
                async for _ in mqtt.messages:
                    await mqtt_times.put(datetime.now(UTC))

            reader = asyncio.create_task(read())
        for n in range(count):
            mails, hooks = len(the_rig.mails()), len(the_rig.webhooks())
            at = datetime.now(UTC)
            answer = await client.post(
                "/api/v1/events",
                headers=the_rig.ingest,
                json=event_body(the_rig.camera_id, f"line-{n}", at, n),
            )
            answer.raise_for_status()
            created, received = await _next_alert(socket)
            paths = {"websocket": received}
            deadline = time.monotonic() + DELIVERY_TIMEOUT

            def mail(before: int = mails) -> datetime | None:
                found = the_rig.mails()
                if len(found) <= before:
                    return None
                return datetime.fromtimestamp(found[before].stat().st_mtime, UTC)

            def hook(before: int = hooks) -> datetime | None:
                found = the_rig.webhooks()
                return _utc(json.loads(found[before])["at"]) if len(found) > before else None

            paths["email"] = await _wait_for(mail, deadline)  # type: ignore[assignment]
            paths["webhook"] = await _wait_for(hook, deadline)  # type: ignore[assignment]
            if the_rig.mqtt:
                with contextlib.suppress(TimeoutError):
                    left = max(0.1, deadline - time.monotonic())
                    paths["mqtt"] = await asyncio.wait_for(mqtt_times.get(), left)
            for name in ("websocket", "email", "webhook", *(("mqtt",) if the_rig.mqtt else ())):
                moment = paths.get(name)
                if moment is None:
                    result.missing[name] = result.missing.get(name, 0) + 1
                    continue
                result.paths.setdefault(name, []).append((moment - created).total_seconds())
            progress(f"notify: latency {n + 1}/{count}")
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
    return result


async def _storm(the_rig: Rig, grouping: bool, seconds: float) -> StormResult:
    import httpx

    async with httpx.AsyncClient(base_url=the_rig.base_url, timeout=30) as client:
        await ready(client, the_rig)
        await the_rig.setup(client)
        events = int(STORM_RATE_PER_MIN * seconds / 60)
        interval = 60.0 / STORM_RATE_PER_MIN
        cpu_before = the_rig.server_cpu()
        started = time.monotonic()
        for n in range(events):
            pause = started + n * interval - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            answer = await client.post(
                "/api/v1/events",
                headers=the_rig.ingest,
                json=event_body(the_rig.camera_id, "kerb", datetime.now(UTC), n),
            )
            answer.raise_for_status()
        # Settle: until no alert or notification is added for two seconds (bounded).
        deadline = time.monotonic() + 120.0
        last: tuple[int, ...] = ()
        steady_since = time.monotonic()
        while time.monotonic() < deadline:
            now = (
                await the_rig.total(client, "/api/v1/alerts"),
                len(the_rig.mails()),
                len(the_rig.webhooks()),
            )
            if now != last:
                last, steady_since = now, time.monotonic()
            elif time.monotonic() - steady_since > 2.0:
                break
            await asyncio.sleep(0.25)
        elapsed = time.monotonic() - started
        cpu = the_rig.server_cpu() - cpu_before
        return StormResult(
            grouping=grouping,
            events=events,
            alerts=await the_rig.total(client, "/api/v1/alerts"),
            groups=await the_rig.total(client, "/api/v1/alert-groups"),
            notifications=await the_rig.total(client, "/api/v1/notifications"),
            mails=len(the_rig.mails()),
            webhooks=len(the_rig.webhooks()),
            server_cpu=cpu,
            seconds=elapsed,
        )


def measure(quick: bool) -> tuple[Latencies, list[StormResult], bool]:
    """Run both parts; the bool says whether MQTT took part."""
    count = 8 if quick else 40
    with rig() as the_rig:
        latencies = asyncio.run(_latencies(the_rig, count))
        mqtt = the_rig.mqtt
    seconds = 15.0 if quick else 60.0
    storms = []
    for grouping in (True, False):
        progress(f"notify: storm with grouping={grouping}")
        env = {} if grouping else {"ARGUS_ALERT_GROUP_WINDOW_S": "0"}
        with rig(env) as the_rig:
            storms.append(asyncio.run(_storm(the_rig, grouping, seconds)))
    return latencies, storms, mqtt


def render(latencies: Latencies, storms: Sequence[StormResult], mqtt: bool, quick: bool) -> Section:
    """The report section."""
    reference = latencies.paths.get("websocket", [])
    ws50 = median(reference) if reference else float("nan")
    ws95 = quantile(reference, 0.95) if reference else float("nan")
    rows = []
    for name in ("websocket", "email", "webhook", "mqtt"):
        values = latencies.paths.get(name)
        if not values:
            continue
        p50, p95 = median(values), quantile(values, 0.95)
        rows.append(
            [
                name,
                len(values),
                latencies.missing.get(name, 0),
                fmt_ms(p50),
                fmt_ms(p95),
                fmt_ratio(ratio(p50, ws50)),
                fmt_ratio(ratio(p95, ws95)),
            ]
        )
    latency_table = markdown_table(
        ["path", "alerts", "missing", "p50", "p95", "p50 / websocket", "p95 / websocket"], rows
    )
    storm_rows = [
        [
            "grouping on" if s.grouping else "grouping off",
            s.events,
            s.alerts,
            s.groups,
            s.notifications,
            s.mails,
            s.webhooks,
            f"{s.server_cpu:.1f}",
        ]
        for s in storms
    ]
    cpu_ratio = ""
    on = next((s for s in storms if s.grouping), None)
    off = next((s for s in storms if not s.grouping), None)
    if on is not None and off is not None and off.server_cpu > 0:
        cpu_ratio = (
            f"\n\nServer CPU with grouping: {fmt_ratio(ratio(on.server_cpu, off.server_cpu))} "
            "of the same storm without grouping."
        )
    storm_table = markdown_table(
        [
            "storm",
            "events",
            "alerts",
            "groups",
            "notifications",
            "mails received",
            "webhooks received",
            "server CPU s",
        ],
        storm_rows,
    )
    note = "" if mqtt else "\n\nMQTT left out: no broker answered on 127.0.0.1:1883."
    body = (
        "Alert created → delivered, per path (reference: the WebSocket message in the same run):"
        f"\n\n{latency_table}{note}\n\n"
        f"Alert storm, {STORM_RATE_PER_MIN} matching events per minute on one camera and line "
        f"({'15 s' if quick else '60 s'}):\n\n{storm_table}{cpu_ratio}"
    )
    return Section("Notifications: delivery latency and alert storms", body)


def run(quick: bool) -> Section:
    """Measure and render."""
    latencies, storms, mqtt = measure(quick)
    return render(latencies, storms, mqtt, quick)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.notify``."""
    return run_main(__doc__ or "", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
