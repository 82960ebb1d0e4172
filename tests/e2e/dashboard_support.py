"""Helpers of the dashboard tests of issue 18 (alert groups, notifications, settings, privacy).

The API is called as the test admin of a real ``argus serve``; events are posted as
line crossings of a made-up class so that only the test's own rules raise alerts;
webhooks are received by the real ``tests.servers.webhook_sink`` process.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from argus.domain.events import Envelope, EventSource, LineCrossed
from tests.auth_support import ADMIN, ADMIN_PASSWORD
from tests.e2e.browser_support import sign_in
from tests.e2e.serve_support import ServeProcess

__all__ = [
    "WAIT_S",
    "Sink",
    "alerts_of",
    "call",
    "camera",
    "crossings",
    "fits_a_phone",
    "signed_in",
    "wait_for",
    "webhook_sink",
]

WAIT_S = 120.0
"""Longest wait for the server to raise alerts or deliver (bounded polls)."""
DEAD_STREAM = "rtsp://127.0.0.1:9/nothing-here"
"""Cameras of these tests never stream: events are posted to the API."""
CLASS = "unicorn"
"""The class of every posted crossing (nothing else in a test has it)."""


def call(
    server: ServeProcess,
    method: str,
    path: str,
    json: object = None,
    *,
    headers: Mapping[str, str] | None = None,
    status: int | None = None,
) -> Any:
    """Call ``/api/v1{path}`` (as the admin unless ``headers``); check the status; the body."""
    answer = httpx.request(
        method,
        f"{server.base}/api/v1{path}",
        headers=headers or server.headers,
        json=json,
        timeout=30,
    )
    if status is None:
        assert answer.is_success, f"{method} {path}: {answer.status_code} {answer.text}"
    else:
        assert answer.status_code == status, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.json() if answer.content else None


def camera(server: ServeProcess, name: str) -> str:
    """A new camera (that never streams); its id."""
    return str(call(server, "POST", "/cameras", {"name": name, "stream_url": DEAD_STREAM})["id"])


def crossings(
    server: ServeProcess,
    camera_id: str,
    lines: Sequence[str],
    at: datetime | None = None,
) -> list[str]:
    """Post one crossing of ``CLASS`` per line name (in order); their event ids."""
    start = at or datetime.now(UTC)
    envelopes = [
        Envelope.wrap(
            LineCrossed(
                line=line,
                track_id=4000 + i,
                class_id=0,
                class_name=CLASS,
                direction="in",
                timestamp=float(i),
                confidence=0.9,
            ),
            EventSource("dashboard-e2e", camera_id),
            start + timedelta(milliseconds=10 * i),
        )
        for i, line in enumerate(lines)
    ]
    call(server, "POST", "/events", {"events": [e.to_dict() for e in envelopes]})
    return [e.event_id for e in envelopes]


def alerts_of(server: ServeProcess, event_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The alerts raised by these events, in the events' order (waits for all, bounded)."""
    wanted = set(event_ids)
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found.clear()
        cursor: str | None = None
        while True:
            query = f"/alerts?limit=1000{f'&cursor={cursor}' if cursor else ''}"
            page = call(server, "GET", query)
            for alert in page["items"]:
                if alert["event_id"] in wanted:
                    found[alert["event_id"]] = alert
            cursor = page.get("next_cursor")
            if not cursor:
                break
        if len(found) == len(wanted):
            return [found[e] for e in event_ids]
        time.sleep(0.3)
    pytest.fail(f"{len(found)} of {len(wanted)} alerts raised:\n{server.output()[-4000:]}")


def wait_for(what: str, check: Any, server: ServeProcess) -> Any:
    """Poll ``check()`` until it returns something truthy (bounded); that value."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"{what}: not within {WAIT_S} s\n{server.output()[-4000:]}")


@dataclass(frozen=True, slots=True)
class Sink:
    """A running webhook receiver: its URL and the file of what it received."""

    url: str
    out: Path

    def received(self) -> list[str]:
        """The bodies received so far."""
        import json

        if not self.out.exists():
            return []
        return [json.loads(line)["body"] for line in self.out.read_text().splitlines() if line]


@contextmanager
def webhook_sink(folder: Path, status: int = 200) -> Iterator[Sink]:
    """A ``tests.servers.webhook_sink`` process answering ``status``; killed at the end."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"webhook-{status}.jsonl"
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "tests.servers.webhook_sink"),
            *("--port", "0", "--out", str(out), "--status", str(status)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("READY "), f"webhook sink: {line}"
        yield Sink(url=f"http://127.0.0.1:{line.split()[1]}/hook", out=out)
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def signed_in(chromium: Browser, server: ServeProcess, errors: list[str]) -> Page:
    """A new desktop page signed in as the admin; uncaught errors go to ``errors``."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    page.set_default_timeout(30_000)
    sign_in(page, f"{server.base}/ui/", ADMIN, ADMIN_PASSWORD)
    expect(page.get_by_role("heading", name="Live")).to_be_visible()
    return page


def fits_a_phone(page: Page, name: str) -> None:
    """On a 390 px wide phone the page needs no sideways scrolling (wide tables scroll alone)."""
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"{name} is {width} px wide on a 390 px phone"
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
