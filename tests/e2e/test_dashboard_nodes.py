"""The dashboard's edge views in headless chromium against a real ``argus serve``.

No ``argus edge`` process runs here: the test speaks for a node over the same
HTTP API a node uses (an API key with the ``edge`` permission, ``POST
/api/v1/edge/register``, ``POST /api/v1/edge/sync``), so what the node reports
is exactly known. The steps run in order: the Nodes page shows a registered
node with its state, outbox and cameras; a later report with one camera
covered and one stream lost updates the page in place and puts tamper and
offline badges on those cameras' Live tiles; a tamper alert carries its
before/after frames side by side and is shown as cleared once the node says
the view is back. No step may raise an uncaught JavaScript error. On a server
with a one-second health interval, a node that stops reporting turns offline
on the open page, and back online with its next report.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import cv2
import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from argus.adapters.crypto.seal import seal
from argus.domain.edge import (
    CameraHealth,
    EdgeEvidence,
    NodeHealth,
    NodeRegistration,
    NodeState,
    OutboxItem,
    SyncBatch,
    TamperState,
)
from argus.domain.event_ids import new_event_id
from argus.domain.events import Envelope, EventSource
from tests.auth_support import ADMIN, ADMIN_PASSWORD, server_env
from tests.e2e.browser_support import shoot as _shoot
from tests.e2e.browser_support import sign_in
from tests.e2e.serve_support import ServeProcess, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

NODE = "gate-node-1"
GATE = "Gate (edge)"
YARD = "Yard (edge)"
CAMERA = {"stream_url": "rtsp://127.0.0.1:9/edge-only", "edge_node_id": NODE}
"""The node's cameras (never opened by the server: they run on the node)."""
UPDATE_MS = 30_000
"""Longest wait for the pages' polling (every 5 s) to show a new report."""
ALERT_WAIT_S = 60.0
"""Seconds to wait for the server to raise or clear an alert (bounded poll)."""
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@dataclass(frozen=True, slots=True)
class Node:
    """The node the test speaks for: its key header, evidence key and camera ids."""

    headers: Mapping[str, str]
    evidence_key: bytes
    gate: str
    yard: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    root = tmp_path_factory.mktemp("dashboard-nodes")
    with serving(root / "data", root / "serve.log") as running:
        yield running


@pytest.fixture(scope="module")
def node(server: ServeProcess) -> Node:
    """A registered node with an ``edge`` key and two cameras assigned to it."""
    headers, key = _register(server, NODE)
    gate, yard = (
        _call(server, "POST", "/cameras", server.headers, {**CAMERA, "name": name})["id"]
        for name in (GATE, YARD)
    )
    return Node(headers=headers, evidence_key=key, gate=str(gate), yard=str(yard))


@pytest.fixture(scope="module")
def errors() -> list[str]:
    """Uncaught JavaScript errors of every page of the module."""
    return []


@pytest.fixture(scope="module")
def page(chromium: Browser, server: ServeProcess, errors: list[str]) -> Iterator[Page]:
    context = chromium.new_context(viewport=DESKTOP)
    opened = context.new_page()
    opened.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    opened.set_default_timeout(30_000)
    sign_in(opened, f"{server.base}/ui/", ADMIN, ADMIN_PASSWORD)
    expect(opened.get_by_role("heading", name="Live")).to_be_visible()
    yield opened
    context.close()


def _register(server: ServeProcess, node_id: str) -> tuple[dict[str, str], bytes]:
    """A new ``edge`` key that registered ``node_id``: its header, and the evidence key."""
    made = _call(
        server, "POST", "/api-keys", server.headers, {"name": node_id, "permissions": ["edge"]}
    )
    headers = {"X-API-Key": str(made["key"])}
    registration = NodeRegistration(
        node_id=node_id,
        version="0.1.0",
        models=("yolov7-tiny@1",),
        capabilities=("tamper", "evidence", "rtsp"),
        hostname="gate-box",
    )
    reply = _call(server, "POST", "/edge/register", headers, registration.to_dict())
    return headers, base64.b64decode(str(reply["evidence_key"]))


def _call(
    server: ServeProcess,
    method: str,
    path: str,
    headers: Mapping[str, str],
    json: object = None,
) -> Any:
    answer = httpx.request(
        method, f"{server.base}/api/v1{path}", headers=headers, json=json, timeout=30
    )
    assert answer.is_success, f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.json()


def _sync(
    server: ServeProcess, node: Node, items: Sequence[OutboxItem], node_id: str = NODE
) -> None:
    """Send one batch as the node; every item must be stored."""
    headers = node.headers
    batch = SyncBatch(node_id=node_id, sent_at=datetime.now(UTC), items=tuple(items))
    reply = _call(server, "POST", "/edge/sync", headers, batch.to_dict())
    statuses = [(r["id"], r["status"], r.get("reason")) for r in reply["results"]]
    assert all(status == "stored" for _, status, _ in statuses), statuses


def _camera(camera_id: str, state: str = "online", tamper: TamperState = "ok") -> CameraHealth:
    return CameraHealth(
        camera_id=camera_id,
        state=state,
        fps_in=12.0 if state == "online" else 0.0,
        fps_analysed=5.0 if state == "online" else 0.0,
        decode_errors=3,
        reconnects=1 if state == "online" else 4,
        last_frame_age_s=0.2 if state == "online" else 41.0,
        tamper=tamper,
        tamper_score=0.83 if tamper not in ("ok", "learning") else 0.05,
    )


def _report(
    state: NodeState, outbox_items: int, cameras: Sequence[CameraHealth], node_id: str = NODE
) -> OutboxItem:
    at = datetime.now(UTC)
    return OutboxItem.of_health(
        NodeHealth(
            report_id=new_event_id(at),
            node_id=node_id,
            at=at,
            state=state,
            cpu_percent=37.5,
            memory_percent=61.0,
            disk_free_bytes=40 << 30,
            disk_total_bytes=64 << 30,
            temperature_c=54.5,
            outbox_items=outbox_items,
            outbox_bytes=outbox_items * 2048,
            outbox_oldest_age_s=75.0 if outbox_items else None,
            outbox_dropped={"health": 2},
            quarantined=1,
            clock_offset_s=0.25,
            versions={"argus": "0.1.0", "opencv": "4.10"},
            cameras=tuple(cameras),
        )
    )


def _jpeg(shade: int) -> bytes:
    frame = np.full((90, 160, 3), shade, dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", frame)
    assert ok
    return bytes(data.tobytes())


def _tamper_event(node: Node, kind: str) -> Envelope:
    at = datetime.now(UTC)
    # The payload the node's tamper monitor sends (the catalogue validates it).
    payload: dict[str, object] = (
        {"kind": "covered", "score": 0.83, "state": "raised"}
        if kind == "camera.tamper"
        else {"kind": "covered", "score": 0.05, "state": "cleared"}
    )
    return Envelope(
        event_id=new_event_id(at),
        type=kind,
        timestamp=at,
        source=EventSource(NODE, node.gate),
        payload=payload,
    )


def _frame(node: Node, event_id: str, kind: Literal["before", "after"], shade: int) -> OutboxItem:
    at = datetime.now(UTC)
    evidence_id = new_event_id(at)
    aad = f"{evidence_id}|{NODE}|{node.gate}|{kind}".encode()
    return OutboxItem.of_evidence(
        EdgeEvidence(
            evidence_id=evidence_id,
            node_id=NODE,
            camera_id=node.gate,
            event_ids=(event_id,),
            kind=kind,
            content_type="image/jpeg",
            captured_at=at,
            blob=seal(node.evidence_key, _jpeg(shade), aad),
        )
    )


def _alert_of(server: ServeProcess, event_id: str, state: str | None = None) -> dict[str, Any]:
    """The alert raised by ``event_id`` (in ``state`` when given); waits, bounded."""
    deadline = time.monotonic() + ALERT_WAIT_S
    while time.monotonic() < deadline:
        page = _call(server, "GET", "/alerts?limit=200", server.headers)
        for alert in page["items"]:
            if alert["event_id"] == event_id and state in (None, alert["state"]):
                return dict(alert)
        time.sleep(0.5)
    pytest.fail(f"no alert of event {event_id} in state {state}:\n{server.output()[-4000:]}")


def test_the_nodes_page_shows_a_node_its_outbox_and_its_cameras(
    page: Page, server: ServeProcess, node: Node, shots: list[Path]
) -> None:
    _sync(server, node, [_report("buffering", 42, [_camera(node.gate), _camera(node.yard)])])
    page.get_by_role("link", name="Nodes").click()
    expect(page.get_by_role("heading", name="Nodes", exact=True)).to_be_visible()
    card = page.locator(f"article.node[data-node='{NODE}']")
    expect(card.locator(".node-state")).to_have_text("buffering")
    expect(card.locator(".last-report")).to_contain_text(re.compile(r"\d+ s ago"))
    expect(card.locator("dd[data-field='outbox']")).to_have_text("42 items (84 KiB)")
    expect(card.locator("dd[data-field='oldest']")).to_have_text("75 s")
    expect(card.locator("dd[data-field='dropped']")).to_have_text("health 2")
    expect(card.locator("dd[data-field='quarantined']")).to_have_text("1")
    expect(card.locator("dd[data-field='disk']")).to_have_text("40 GiB of 64 GiB (63 %)")
    expect(card.locator("dd[data-field='temperature']")).to_have_text("54.5 °C")
    expect(card.locator("dd[data-field='clock']")).to_have_text("+0.25 s")
    expect(card.locator("dd[data-field='versions']")).to_contain_text("opencv 4.10")
    gate = card.locator(f"tr[data-camera='{node.gate}']")
    expect(gate.locator("td[data-field='name']")).to_have_text(GATE)
    expect(gate.locator(".cam-state")).to_have_text("online")
    expect(gate.locator("td[data-field='fps']")).to_have_text("12.0 / 5.0")
    expect(gate.locator(".tamper-state")).to_have_text("ok")
    _shoot(page, shots, "01-nodes")
    page.set_viewport_size(PHONE)
    fits = page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert fits, "the Nodes page is wider than a phone"
    _shoot(page, shots, "01-nodes-phone")
    page.set_viewport_size(DESKTOP)


def test_a_new_report_updates_the_page_in_place_and_badges_the_live_tiles(
    page: Page, server: ServeProcess, node: Node, shots: list[Path]
) -> None:
    card = page.locator(f"article.node[data-node='{NODE}']")
    # Marked so that a re-rendered card (flicker, lost focus) would be noticed.
    card.evaluate("(el) => { el.dataset.kept = 'yes'; }")
    covered = _camera(node.gate, tamper="covered")
    _sync(server, node, [_report("syncing", 7, [covered, _camera(node.yard, state="offline")])])
    expect(card.locator(".node-state")).to_have_text("syncing", timeout=UPDATE_MS)
    expect(card.locator("dd[data-field='outbox']")).to_have_text("7 items (14 KiB)")
    gate = card.locator(f"tr[data-camera='{node.gate}']")
    expect(gate.locator(".tamper-state")).to_have_text("TAMPER: covered (0.83)")
    expect(gate.locator(".tamper-state")).to_have_attribute("data-tamper", "covered")
    yard = card.locator(f"tr[data-camera='{node.yard}']")
    expect(yard.locator(".cam-state")).to_have_text("offline")
    expect(card).to_have_attribute("data-kept", "yes")
    _shoot(page, shots, "02-nodes-tampered")

    page.get_by_role("link", name="Live").click()
    gate_tile = page.get_by_role("article", name=GATE)
    yard_tile = page.get_by_role("article", name=YARD)
    expect(gate_tile.locator(".tile-badge.tamper")).to_have_text(
        "TAMPER: covered", timeout=UPDATE_MS
    )
    expect(gate_tile.locator(".tile-badge.down")).to_be_hidden()
    expect(yard_tile.locator(".tile-badge.down")).to_have_text("OFFLINE", timeout=UPDATE_MS)
    expect(yard_tile.locator(".tile-badge.tamper")).to_be_hidden()
    _shoot(page, shots, "03-live-badges")


def test_a_tamper_alert_shows_before_and_after_frames_and_then_cleared(
    page: Page, server: ServeProcess, node: Node, errors: list[str], shots: list[Path]
) -> None:
    rule = {"name": "gate tampering", "camera_id": node.gate, "event_types": ["camera.tamper"]}
    _call(server, "POST", "/rules", server.headers, rule)
    raised = _tamper_event(node, "camera.tamper")
    _sync(server, node, [OutboxItem.of_event(raised)])
    alert = _alert_of(server, raised.event_id)
    page.get_by_role("link", name=re.compile("^Alerts")).click()
    card = page.locator(f"li.alert[data-alert='{alert['id']}']")
    expect(card).to_be_visible()
    # The frames arrive after the alert is on screen: alert.evidence redraws its card with them.
    _sync(
        server,
        node,
        [_frame(node, raised.event_id, "before", 140), _frame(node, raised.event_id, "after", 5)],
    )
    pair = card.locator(".before-after")
    expect(pair.locator("figure[data-kind='before'] figcaption")).to_have_text("before")
    expect(pair.locator("figure[data-kind='after'] figcaption")).to_have_text("after")
    expect(pair.get_by_role("img", name="Alert before")).to_have_attribute(
        "src", re.compile("^blob:")
    )
    expect(pair.get_by_role("img", name="Alert after")).to_have_attribute(
        "src", re.compile("^blob:")
    )
    before = pair.locator("figure[data-kind='before']").bounding_box()
    after = pair.locator("figure[data-kind='after']").bounding_box()
    assert before is not None
    assert after is not None
    assert before["x"] + before["width"] <= after["x"], (before, after)  # side by side
    assert abs(before["y"] - after["y"]) < 1, (before, after)
    _shoot(page, shots, "04-alert-before-after")

    _sync(server, node, [OutboxItem.of_event(_tamper_event(node, "camera.tamper_cleared"))])
    _alert_of(server, raised.event_id, state="cleared")
    # A cleared alert is no longer open: it shows under its own state, muted, with no actions.
    page.get_by_label("State").select_option("cleared")
    expect(card).to_have_attribute("data-state", "cleared", timeout=UPDATE_MS)
    expect(card.locator(".state")).to_have_text("cleared")
    expect(card.get_by_role("button", name="Acknowledge")).to_be_disabled()
    expect(card.locator(".before-after img[src^='blob:']")).to_have_count(2)
    assert float(card.evaluate("(el) => getComputedStyle(el).opacity")) < 1
    _shoot(page, shots, "05-alert-cleared")
    assert errors == []


def test_a_silent_node_turns_offline_on_the_open_page_and_back_online(
    chromium: Browser, tmp_path: Path, shots: list[Path]
) -> None:
    # A node is offline after three intervals without a report: three seconds here.
    env = server_env(ARGUS_EDGE_HEALTH_INTERVAL_S="1")
    with serving(tmp_path / "data", tmp_path / "serve.log", env=env) as server:
        quiet = "quiet-node"
        headers, key = _register(server, quiet)
        silent = Node(headers=headers, evidence_key=key, gate="", yard="")
        _sync(server, silent, [_report("online", 0, [], node_id=quiet)], node_id=quiet)
        context = chromium.new_context(viewport=DESKTOP)
        errors: list[str] = []
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
        page.set_default_timeout(30_000)
        try:
            sign_in(page, f"{server.base}/ui/", ADMIN, ADMIN_PASSWORD)
            expect(page.get_by_role("heading", name="Live")).to_be_visible()
            page.get_by_role("link", name="Nodes").click()
            card = page.locator(f"article.node[data-node='{quiet}']")
            expect(card).to_be_visible()
            card.evaluate("(el) => { el.dataset.kept = 'yes'; }")
            expect(card.locator(".node-state")).to_have_text("offline", timeout=UPDATE_MS)
            expect(card).to_have_attribute("data-state", "offline")
            expect(card.locator(".stale-note")).to_have_text("(as of the last report)")
            expect(card.locator("dd[data-field='outbox']")).to_have_text("0 items (0 B)")
            _shoot(page, shots, "06-node-offline")
            # Reporting again (every half second, as it would turn offline again after three):
            # the page shows it online at its next refresh.
            deadline = time.monotonic() + UPDATE_MS / 1000
            state = ""
            while state != "online" and time.monotonic() < deadline:
                _sync(server, silent, [_report("online", 0, [], node_id=quiet)], node_id=quiet)
                page.wait_for_timeout(500)
                state = card.locator(".node-state").text_content() or ""
            assert state == "online"
            expect(card).to_have_attribute("data-kept", "yes")
        finally:
            context.close()
        assert errors == []
