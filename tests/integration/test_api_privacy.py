"""``/api/v1/privacy`` through the real API (memory and SQLite): erase, export, list.

Subjects, cameras, events, incidents and evidence are made through the API
where it offers a route; workstation decisions (made by the verify pipeline)
and a legal hold (set by the retention API) are written to the store directly.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from argus.domain.alerts import Incident
from argus.domain.cameras import new_id
from argus.domain.workstations import DecisionRecord
from argus.services.privacy_bundle import open_bundle
from tests.auth_support import bearer, make_user
from tests.integration.api_support import STORES, Api, api, crossing
from tests.node_support import NOON

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

PASSPHRASE = "a long enough passphrase"
CAMERA: dict[str, Any] = {"name": "Lobby", "stream_url": "rtsp://10.0.0.9:554/stream1"}


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def _subject_with_decision(app: Api, name: str) -> tuple[str, DecisionRecord]:
    made = await app.client.post("/api/v1/workstations/subjects", json={"name": name})
    assert made.status_code == 201, made.text
    subject_id = str(made.json()["id"])
    decision = DecisionRecord(
        id=new_id(),
        client_id="ws-1",
        action="lock_screen",
        reasons=("unknown_face",),
        at=NOON,
        subject=subject_id,
    )
    await app.plane.database.verify_decisions.add(decision)
    return subject_id, decision


async def test_privacy_requests_are_for_admins_only(app: Api) -> None:
    admin = app.client.headers["Authorization"].removeprefix("Bearer ")
    operator = bearer(await make_user(app.client, admin, "olga", "operator"))
    for method, url, body in (
        ("POST", "/api/v1/privacy/subjects/s1/erase", {"reason": "r"}),
        ("POST", "/api/v1/privacy/subjects/s1/export", {"passphrase": PASSPHRASE}),
        (
            "POST",
            "/api/v1/privacy/erasures",
            {
                "camera_id": "c",
                "since": "2026-03-01T00:00:00Z",
                "until": "2026-03-02T00:00:00Z",
                "reason": "r",
            },
        ),
        ("GET", "/api/v1/privacy/requests", None),
    ):
        answer = await app.client.request(method, url, json=body, headers=operator)
        assert answer.status_code == 403, (url, answer.text)


async def test_a_subject_is_exported_then_erased_and_both_are_listed(app: Api) -> None:
    subject_id, decision = await _subject_with_decision(app, "Ada")
    base = f"/api/v1/privacy/subjects/{subject_id}"

    short = await app.client.post(f"{base}/export", json={"passphrase": "short"})
    assert short.status_code == 422, short.text
    exported = await app.client.post(
        f"{base}/export", json={"passphrase": PASSPHRASE, "reason": "access request 3"}
    )
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == "application/octet-stream"
    assert exported.headers["cache-control"] == "no-store"
    assert f"argus-subject-{subject_id}" in exported.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(open_bundle(exported.content, PASSPHRASE)))
    assert json.loads(archive.read("subject.json"))["name"] == "Ada"
    assert [d["id"] for d in json.loads(archive.read("decisions.json"))] == [decision.id]

    missing_reason = await app.client.post(f"{base}/erase", json={})
    assert missing_reason.status_code == 422, missing_reason.text
    erased = await app.client.post(f"{base}/erase", json={"reason": "erasure request 4"})
    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert body["subject_id"] == subject_id
    assert body["erased"] == {"descriptors": 0, "decisions": 1, "evidence": 0}
    assert body["kept"] == []
    gone = await app.client.get(f"/api/v1/workstations/subjects/{subject_id}")
    assert gone.status_code == 404, gone.text
    again = await app.client.post(f"{base}/erase", json={"reason": "erasure request 4"})
    assert again.status_code == 404, again.text

    listed = (await app.client.get("/api/v1/privacy/requests")).json()
    assert [r["action"] for r in listed["items"]] == [
        "privacy.erase_subject",
        "privacy.export_subject",
    ]
    assert listed["total"] == 2
    assert listed["items"][0]["details"]["reason"] == "erasure request 4"
    assert PASSPHRASE not in json.dumps(listed)


async def test_a_camera_range_is_erased_except_what_a_legal_hold_keeps(app: Api) -> None:
    camera = await app.client.post("/api/v1/cameras", json=CAMERA)
    assert camera.status_code == 201, camera.text
    camera_id = str(camera.json()["id"])
    events = [crossing(camera_id, second=s) for s in range(3)]
    posted = await app.client.post("/api/v1/events", json={"events": [e.to_dict() for e in events]})
    assert posted.status_code == 200, posted.text
    opened = await app.client.post(
        "/api/v1/incidents", json={"title": "Broken door", "camera_id": camera_id}
    )
    assert opened.status_code == 201, opened.text
    held = Incident(
        id=new_id(),
        title="Held",
        created_at=NOON,
        updated_at=NOON,
        camera_id=camera_id,
        legal_hold="subpoena 12",
    )
    await app.plane.database.incidents.add(held)
    uploads = []
    for incident_id in (opened.json()["id"], held.id):
        uploaded = await app.client.post(
            f"/api/v1/incidents/{incident_id}/evidence",
            files={"file": ("frame.jpg", b"\xff\xd8\xff\xe0frame", "image/jpeg")},
            data={"kind": "frame"},
        )
        assert uploaded.status_code == 201, uploaded.text
        uploads.append(uploaded.json()["id"])
    # From the events' day to far ahead: the evidence is stored at the server's time.
    window = {"since": "2026-03-01T00:00:00Z", "until": "2999-01-01T00:00:00Z"}

    backwards = await app.client.post(
        "/api/v1/privacy/erasures",
        json={
            "camera_id": camera_id,
            "since": window["until"],
            "until": window["since"],
            "reason": "r",
        },
    )
    assert backwards.status_code == 422, backwards.text
    naive = await app.client.post(
        "/api/v1/privacy/erasures",
        json={
            "camera_id": camera_id,
            "since": "2026-03-01T00:00:00",
            "until": window["until"],
            "reason": "r",
        },
    )
    assert naive.status_code == 422, naive.text
    erased = await app.client.post(
        "/api/v1/privacy/erasures",
        json={"camera_id": camera_id, **window, "reason": "erasure request 5"},
    )

    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert body["erased"] == {"events": 3, "evidence": 1}
    assert body["kept"] == [
        {
            "kind": "evidence",
            "id": uploads[1],
            "reason": f"legal hold on incident {held.id}: subpoena 12",
        }
    ]
    left = await app.client.get("/api/v1/events", params={"camera_id": camera_id})
    assert left.json()["total"] == 0
    assert (await app.client.get(f"/api/v1/evidence/{uploads[0]}")).status_code == 404
    assert (await app.client.get(f"/api/v1/evidence/{uploads[1]}")).status_code == 200
    listed = (await app.client.get("/api/v1/privacy/requests", params={"limit": 1})).json()
    assert listed["items"][0]["action"] == "privacy.erase_range"
    assert listed["items"][0]["target"] == f"camera:{camera_id}"
