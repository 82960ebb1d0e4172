"""Alert evidence over the API: captured, encrypted, served verified, tamper caught, locked,
exported, uploaded; on the memory store and a SQLite file with the file blob store."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from argus.services.evidence import verify_bundle
from tests.auth_support import bearer, make_user
from tests.integration.api_support import STORES, Api, api, crossing, eventually

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def _alert_with_evidence(app: Api) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A camera, a rule, a crossing: the alert and its stored snapshot and clip."""
    camera = await app.client.post(
        "/api/v1/cameras", json={"name": "gate", "stream_url": "rtsp://127.0.0.1:8554/gate"}
    )
    assert camera.status_code == 201, camera.text
    camera_id = camera.json()["id"]
    rule = await app.client.post("/api/v1/rules", json={"name": "any crossing"})
    assert rule.status_code == 201, rule.text
    await app.bus.publish("events", crossing(camera_id))
    found: list[dict[str, Any]] = []

    async def stored() -> bool:
        alerts = (await app.client.get("/api/v1/alerts")).json()["items"]
        if not alerts:
            return False
        page = await app.client.get("/api/v1/evidence", params={"alert_id": alerts[0]["id"]})
        found[:] = page.json()["items"]
        return len(found) == 2

    await eventually(stored, "the alert's snapshot and clip")
    alert = (await app.client.get("/api/v1/alerts")).json()["items"][0]
    return alert, found


async def test_new_alert_gets_a_snapshot_and_a_clip(app: Api) -> None:
    alert, items = await _alert_with_evidence(app)
    by_kind = {item["kind"]: item for item in items}
    assert set(by_kind) == {"snapshot", "clip"}
    assert {item["camera_id"] for item in items} == {alert["camera_id"]}
    snapshot = await app.client.get(by_kind["snapshot"]["content_url"])
    assert snapshot.status_code == 200, snapshot.text
    assert snapshot.headers["content-type"] == "image/jpeg"
    assert snapshot.content.startswith(b"\xff\xd8")
    assert hashlib.sha256(snapshot.content).hexdigest() == by_kind["snapshot"]["sha256"]
    assert snapshot.headers["x-evidence-sha256"] == by_kind["snapshot"]["sha256"]
    clip = await app.client.get(by_kind["clip"]["content_url"])
    assert clip.headers["content-type"] == "video/mp4"
    assert clip.content[4:8] == b"ftyp"
    records = await app.plane.database.audit.records(limit=1000)
    reads = [r for r in records if r.entry.action == "evidence.read"]
    assert {r.entry.target for r in reads} == {f"evidence:{i['id']}" for i in items}
    stores = [r for r in records if r.entry.action == "evidence.store"]
    assert {r.entry.actor for r in stores} == {"system"}


async def test_a_flipped_byte_in_storage_is_caught_and_never_served(
    app: Api, tmp_path: Path
) -> None:
    _, items = await _alert_with_evidence(app)
    snapshot = next(i for i in items if i["kind"] == "snapshot")
    objects = [p for p in (tmp_path / "evidence").rglob("*") if p.is_file()]
    assert len(objects) == 2
    target = next(p for p in objects if snapshot["id"] in p.name or snapshot["id"] in str(p))
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    target.write_bytes(bytes(raw))
    answer = await app.client.get(snapshot["content_url"])
    assert answer.status_code == 409
    assert "integrity" in answer.json()["detail"].lower() or "hmac" in answer.text.lower()
    assert b"\xff\xd8" not in answer.content
    verify = await app.client.get(f"/api/v1/evidence/{snapshot['id']}/verify")
    assert verify.status_code == 409
    failures = await app.client.get(
        "/api/v1/audit", params={"action": "evidence.read", "outcome": "failure"}
    )
    assert failures.json()["total"] == 1


async def test_an_edited_metadata_field_is_caught(tmp_path: Path) -> None:
    async with api("sqlite", tmp_path) as app:
        _, items = await _alert_with_evidence(app)
        clip = next(i for i in items if i["kind"] == "clip")
        with sqlite3.connect(tmp_path / "argus.db") as db:
            (body,) = db.execute("SELECT body FROM evidence WHERE id = ?", (clip["id"],)).fetchone()
            forged = body.replace(clip["created_by"], "user:someone-else")
            assert forged != body
            db.execute("UPDATE evidence SET body = ? WHERE id = ?", (forged, clip["id"]))
        answer = await app.client.get(clip["content_url"])
        assert answer.status_code == 409, answer.text
        assert answer.content[4:8] != b"ftyp"


async def test_lock_delete_and_roles(app: Api) -> None:
    _, items = await _alert_with_evidence(app)
    admin = app.client.headers["Authorization"].removeprefix("Bearer ")
    viewer = await make_user(app.client, admin, "vi", "viewer")
    operator = await make_user(app.client, admin, "op", "operator")
    item = items[0]
    base = f"/api/v1/evidence/{item['id']}"
    assert (await app.client.get(item["content_url"], headers=bearer(viewer))).status_code == 200
    assert (await app.client.post(f"{base}/lock", headers=bearer(viewer))).status_code == 403
    locked = await app.client.post(f"{base}/lock", headers=bearer(operator))
    assert (locked.status_code, locked.json()["locked"]) == (200, True)
    assert locked.json()["locked_by"] == "user:op"
    assert (await app.client.delete(base, headers=bearer(operator))).status_code == 403
    refused = await app.client.delete(base)
    assert refused.status_code == 409
    assert (await app.client.get(base)).status_code == 200
    await app.client.post(f"{base}/unlock", headers=bearer(operator))
    assert (await app.client.delete(base)).status_code == 204
    assert (await app.client.get(base)).status_code == 404


async def test_export_bundle_verifies_offline(app: Api) -> None:
    _, items = await _alert_with_evidence(app)
    answer = await app.client.post(
        "/api/v1/evidence-bundles", json={"ids": [i["id"] for i in items]}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    key = (await app.client.get("/api/v1/evidence/keys/signing")).json()
    report = verify_bundle(answer.content, bytes.fromhex(key["public_key_hex"]))
    assert report.ok, report.failures
    other_key = bytes(32)
    assert not verify_bundle(answer.content, other_key).ok
    tampered = bytearray(answer.content)
    tampered[len(tampered) // 3] ^= 0xFF
    assert not verify_bundle(bytes(tampered)).ok


async def test_upload_to_an_incident(app: Api) -> None:
    alert, items = await _alert_with_evidence(app)
    for step in ("acknowledge", "confirm"):
        done = await app.client.post(f"/api/v1/alerts/{alert['id']}/{step}", json={})
        assert done.status_code == 200, done.text
    incident_id = done.json()["incident"]["id"]
    url = f"/api/v1/incidents/{incident_id}/evidence"
    uploaded = await app.client.post(
        url, files={"file": ("statement.txt", b"the guard's statement", "text/plain")}
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["incident_id"] == incident_id
    listed = (await app.client.get(url)).json()
    assert {i["id"] for i in listed["items"]} == {i["id"] for i in items} | {uploaded.json()["id"]}
    content = await app.client.get(uploaded.json()["content_url"])
    assert content.content == b"the guard's statement"
    for name in ("../../etc/passwd", "..\\secret.key", "a/b.txt", ".."):
        bad = await app.client.post(url, files={"file": (name, b"x", "text/plain")})
        assert bad.status_code == 422, (name, bad.text)
    wrong_type = await app.client.post(url, files={"file": ("a.html", b"<b>", "text/html")})
    assert wrong_type.status_code == 422
    huge = await app.client.post(
        url, files={"file": ("big.bin", b"\0" * (26 << 20), "application/octet-stream")}
    )
    assert huge.status_code == 413
    assert (await app.client.get("/health/live")).status_code == 200
