"""``/api/v1/retention``, legal holds and audit checkpoints over the REST API.

Memory and SQLite stores. The app sweeps once at start; each test waits for
that sweep (``last_sweep`` in ``GET /retention``) before it seeds old data, so
the counts a ``POST /retention/sweep`` answers are its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from argus.adapters.db.audit_memory import MemoryAuditLog
from argus.adapters.db.sql import SqlDatabase
from argus.domain.audit import AuditCheckpoint
from argus.domain.cameras import utc_now
from argus.domain.events import new_event_id
from tests.auth_support import admin_token, make_user, settings_for
from tests.integration.api_support import STORES, Api, api, crossing, eventually

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    # This server sweeps at start, as a deployed one does (test settings turn it off).
    settings = settings_for(tmp_path, retention_sweep=True)
    async with api(request.param, tmp_path, settings=settings) as running:

        async def swept() -> bool:
            answer = await running.client.get("/api/v1/retention")
            return answer.status_code == 200 and answer.json()["last_sweep"] is not None

        await eventually(swept, "the sweep at start")
        yield running


async def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_policy_reads_and_changes_partially(app: Api) -> None:
    body = await ok(await app.client.get("/api/v1/retention"))
    assert body["policy"] == body["defaults"]
    assert (body["policy"]["events"], body["policy"]["evidence"]) == (90.0, 30.0)
    changed = await ok(await app.client.put("/api/v1/retention", json={"events": 7, "audit": 400}))
    assert (changed["policy"]["events"], changed["policy"]["audit"]) == (7.0, 400.0)
    assert changed["policy"]["alerts"] == changed["defaults"]["alerts"] == 365.0
    assert (await ok(await app.client.get("/api/v1/retention")))["policy"] == changed["policy"]
    for bad in ({"eventz": 7}, {"events": 0}, {"events": 40_000}, {"events": "7"}):
        assert (await app.client.put("/api/v1/retention", json=bad)).status_code == 422
    audit = await ok(await app.client.get("/api/v1/audit", params={"action": "retention.update"}))
    assert audit["total"] == 1
    assert audit["items"][0]["details"]["changed"]["events"] == {"from": 90.0, "to": 7.0}


async def test_a_sweep_now_deletes_old_events_and_is_audited(app: Api) -> None:
    database = app.plane.database
    old = [crossing("cam-1", second=s) for s in range(3)]  # March 2026: past 90 days
    now = utc_now()
    recent = replace(old[0], event_id=new_event_id(now), timestamp=now - timedelta(minutes=1))
    await database.events.add_many([*old, recent])
    report = await ok(await app.client.post("/api/v1/retention/sweep"))
    assert report["deleted"]["events"] == 3
    assert report["total"] >= 3
    assert report["errors"] == {}
    assert [e.event_id for e in (await database.events.query()).items] == [recent.event_id]
    audit = await ok(await app.client.get("/api/v1/audit", params={"action": "retention.sweep"}))
    assert audit["items"][0]["actor"] == "user:admin"
    assert audit["items"][0]["details"]["deleted"]["events"] == 3
    assert (await ok(await app.client.get("/api/v1/retention")))["last_sweep"] == report


async def test_a_legal_hold_is_set_refuses_deletion_and_is_released(app: Api) -> None:
    incident = await ok(await app.client.post("/api/v1/incidents", json={"title": "Break-in"}), 201)
    path = f"/api/v1/incidents/{incident['id']}/hold"
    held = await ok(await app.client.put(path, json={"reason": "police case 2026-117"}))
    assert held["legal_hold"] == "police case 2026-117"
    assert held["version"] == incident["version"] + 1
    deleted = await app.client.delete(f"/api/v1/incidents/{incident['id']}")
    assert deleted.status_code == 409
    assert "legal hold" in deleted.json()["detail"]
    released = await ok(await app.client.delete(path))
    assert released["legal_hold"] is None
    assert (await app.client.delete(path)).status_code == 409
    assert (await app.client.put(path, json={"reason": ""})).status_code == 422
    unknown = "/api/v1/incidents/nope/hold"
    assert (await app.client.put(unknown, json={"reason": "x"})).status_code == 404
    actions = await ok(await app.client.get("/api/v1/audit", params={"action": "incident.legal"}))
    assert [r["action"] for r in actions["items"]] == [
        "incident.legal_hold_release",
        "incident.legal_hold",
    ]


async def test_only_admins_manage_retention(app: Api) -> None:
    admin = await admin_token(app.client)
    operator = await make_user(app.client, admin, "op", "operator")
    headers = {"Authorization": f"Bearer {operator}"}
    for method, path in (
        ("GET", "/api/v1/retention"),
        ("POST", "/api/v1/retention/sweep"),
        ("GET", "/api/v1/audit/checkpoints"),
    ):
        answer = await app.client.request(method, path, headers=headers)
        assert answer.status_code == 403, (method, path)


async def test_the_audit_chain_verifies_after_pruning_and_refuses_a_forged_checkpoint(
    app: Api,
) -> None:
    audit = app.plane.database.audit
    head = await audit.head()
    pruned = await audit.prune_before(utc_now() + timedelta(days=1), limit=1000, at=utc_now())
    assert pruned == head[0] - 1
    checkpoints = await ok(await app.client.get("/api/v1/audit/checkpoints"))
    assert [c["seq"] for c in checkpoints["items"]] == [head[0] - 1]
    verified = await ok(
        await app.client.get("/api/v1/audit/verify", params={"expect_head": f"{head[0]}:{head[1]}"})
    )
    assert verified["ok"], verified

    checkpoint = AuditCheckpoint.from_dict(checkpoints["items"][0])
    forged = AuditCheckpoint.from_dict({**checkpoint.to_dict(), "signature": "cd" * 32})
    if isinstance(audit, MemoryAuditLog):
        audit.tables()[1].append(forged)
    else:
        assert isinstance(app.plane.database, SqlDatabase)
        async with app.plane.database.engine.begin() as connection:
            await connection.execute(
                sa.text("UPDATE audit_checkpoints SET signature = :s"), {"s": forged.signature}
            )
    report = await ok(await app.client.get("/api/v1/audit/verify"))
    assert not report["ok"]
    assert "forged" in {p["kind"] for p in report["problems"]}
