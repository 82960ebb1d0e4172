"""Attacks on the console endpoints of issue 23, and what the server answers to each.

* Re-opening feedback: a dismissal (false positive) is final after its undo
  window; a plain or bulk acknowledge must not take it back at any time.
* Camera scope: an operator of camera A names alerts of camera B in a bulk
  step, asks for their overlay or undoes their dismissal: each answers as an
  unknown alert would (nothing tells that the alert exists), nothing changes,
  and the inbox totals count camera A only. A dry run or preview of a rule of
  every camera (which replays every camera's events) is refused to it.
* Roles: a viewer may not take bulk steps or undo a dismissal; an operator may
  not dry-run or preview rules (configure).
* Exhaustion: dwell per visit reads every minute of a camera's trajectory log,
  so its period is capped (31 days); a dry run's hours too (24).

Alerts are raised as in production (an event on the event subject reaches the
alerting worker), on the memory and SQLite stores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.auth_support import make_user
from tests.integration.api_support import STORES, Api, api
from tests.integration.test_api_alerts import RULE, add_rule, raise_alerts, step

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

BULK = "/api/v1/alerts/bulk"


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def _user(app: Api, name: str, role: str, cameras: list[str] | None = None) -> dict[str, str]:
    admin = app.client.headers["Authorization"].removeprefix("Bearer ")
    token = await make_user(app.client, admin, name, role, cameras)
    return {"Authorization": f"Bearer {token}"}


async def _state(app: Api, alert_id: str) -> str:
    answer = await app.client.get(f"/api/v1/alerts/{alert_id}")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["state"])


async def _dismissed(app: Api) -> str:
    await add_rule(app, camera_id=None)
    [alert] = await raise_alerts(app, ("cam-b", 1))
    for action, note in (("acknowledge", "seen"), ("dismiss", "a cat")):
        answer = await step(app, alert["id"], action, note=note)
        assert answer.status_code == 200, answer.text
    return str(alert["id"])


async def test_an_acknowledge_does_not_reopen_a_dismissed_alert(app: Api) -> None:
    alert_id = await _dismissed(app)
    again = await step(app, alert_id, "acknowledge", note="reopen")
    assert again.status_code == 409, again.text
    bulk = await app.client.post(BULK, json={"ids": [alert_id], "action": "acknowledge"})
    assert bulk.status_code == 200, bulk.text
    assert (bulk.json()["done"], bulk.json()["failed"]) == (0, 1)
    assert await _state(app, alert_id) == "false_positive"
    # The undo (within its window) is the one way back.
    undone = await app.client.post(f"/api/v1/alerts/{alert_id}/undo-dismiss", json={"note": "n"})
    assert undone.status_code == 200, undone.text
    assert undone.json()["state"] == "acknowledged"


async def test_another_cameras_alert_answers_like_an_unknown_one(app: Api) -> None:
    alert_id = await _dismissed(app)
    [mine] = await raise_alerts(app, ("cam-a", 2))
    alice = await _user(app, "alice", "operator", ["cam-a"])
    for action in ("acknowledge", "dismiss"):
        answer = await app.client.post(
            BULK,
            json={"ids": [alert_id, "no-such-alert"], "action": action, "note": "x"},
            headers=alice,
        )
        assert answer.status_code == 200, answer.text
        theirs, unknown = answer.json()["items"]
        assert not theirs["ok"]
        assert not unknown["ok"]
        assert theirs["error"].replace(alert_id, "ID") == unknown["error"].replace(
            "no-such-alert", "ID"
        )
    for path in (f"{alert_id}/overlay", "no-such-alert/overlay"):
        answer = await app.client.get(f"/api/v1/alerts/{path}", headers=alice)
        assert answer.status_code == 404, answer.text
    for target in (alert_id, "no-such-alert"):
        undo = await app.client.post(
            f"/api/v1/alerts/{target}/undo-dismiss", json={}, headers=alice
        )
        assert undo.status_code == 404, undo.text
    assert await _state(app, alert_id) == "false_positive"
    summary = await app.client.get("/api/v1/alerts/summary", headers=alice)
    assert summary.status_code == 200, summary.text
    assert summary.json()["total"] == 1
    listed = await app.client.get("/api/v1/alerts", params={"order": "triage"}, headers=alice)
    assert [a["id"] for a in listed.json()["items"]] == [mine["id"]]
    groups = await app.client.get("/api/v1/alert-groups", params={"order": "triage"}, headers=alice)
    assert {g["camera_id"] for g in groups.json()["items"]} == {"cam-a"}
    other = await app.client.get(
        "/api/v1/alerts/summary", params={"camera_id": "cam-b"}, headers=alice
    )
    assert other.status_code == 403, other.text
    for path, params in (
        ("/api/v1/cameras/cam-b/heatmap", {}),
        ("/api/v1/analytics/dwell", {"camera_id": "cam-b", "per": "visit"}),
    ):
        answer = await app.client.get(path, params=params, headers=alice)
        assert answer.status_code == 403, (path, answer.text)


async def test_trying_a_rule_of_every_camera_is_refused_to_a_scoped_user(app: Api) -> None:
    carol = await _user(app, "carol", "admin", ["cam-a"])
    every = {**RULE, "camera_id": None}
    for path, body in (
        ("dry-run", {"rule": every, "hours": 24}),
        ("preview", {"rule": every}),
        ("preview", {"rule": every, "camera_id": "cam-a"}),
        ("dry-run", {"rule": {**RULE, "camera_id": "cam-b"}}),
    ):
        answer = await app.client.post(f"/api/v1/rules/{path}", json=body, headers=carol)
        assert answer.status_code == 403, (path, answer.text)
    mine = await app.client.post(
        "/api/v1/rules/dry-run", json={"rule": RULE, "hours": 24}, headers=carol
    )
    assert mine.status_code == 200, mine.text


async def test_roles_bound_the_new_steps(app: Api) -> None:
    alert_id = await _dismissed(app)
    vera = await _user(app, "vera", "viewer")
    otto = await _user(app, "otto", "operator")
    refused: tuple[tuple[dict[str, str], str, dict[str, Any]], ...] = (
        (vera, BULK, {"ids": [alert_id], "action": "acknowledge"}),
        (vera, f"/api/v1/alerts/{alert_id}/undo-dismiss", {}),
        (otto, "/api/v1/rules/dry-run", {"rule": RULE}),
        (otto, "/api/v1/rules/preview", {"rule": RULE}),
    )
    for who, path, body in refused:
        answer = await app.client.post(path, json=body, headers=who)
        assert answer.status_code == 403, (path, answer.text)
    assert await _state(app, alert_id) == "false_positive"


@pytest.mark.parametrize(
    "body",
    [
        {"rule": RULE, "hours": 24.5},
        {"rule": RULE, "hours": -1},
        {"rule": RULE, "hours": 0},
        {"rule": RULE, "hours": "NaN"},
        {"rule": RULE, "hours": "Infinity"},
        {"rule": RULE, "hours": 1, "camera_id": "cam-a"},
        {"rule": {**RULE, "name": "x" * 10_000}},
        {"rule": {**RULE, "surprise": 1}},
    ],
)
async def test_a_malformed_dry_run_is_refused(app: Api, body: dict[str, Any]) -> None:
    answer = await app.client.post("/api/v1/rules/dry-run", json=body)
    assert answer.status_code == 422, answer.text


async def test_dwell_per_visit_is_capped_at_31_days(app: Api) -> None:
    base = {"camera_id": "cam-a", "per": "visit"}
    month = {**base, "since": "2026-01-01T00:00:00Z", "until": "2026-02-01T00:00:00Z"}
    answer = await app.client.get("/api/v1/analytics/dwell", params=month)
    assert answer.status_code == 200, answer.text
    year = {**base, "since": "2026-01-01T00:00:00Z", "until": "2026-12-31T00:00:00Z"}
    answer = await app.client.get("/api/v1/analytics/dwell", params=year)
    assert answer.status_code == 422, answer.text
    assert "31 days" in answer.text
    exits = await app.client.get("/api/v1/analytics/dwell", params={**year, "per": "exit"})
    assert exits.status_code == 200, exits.text
