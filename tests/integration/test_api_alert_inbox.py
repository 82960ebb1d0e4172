"""The inbox over the REST API: triage order, totals, and bulk steps by id.

Alerts are raised as in production (an event on the event subject reaches the
alerting worker), on the memory and SQLite stores. The order itself is pinned
by the repository contract (``test_alerts_triage_contract``); here the API
passes it through, refuses a cursor with it, sums up what ``GET /alerts``
lists, and steps many alerts each by its id, audited one by one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.api_support import STORES, Api, api
from tests.integration.test_api_alerts import add_rule, raise_alerts

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

BULK = "/api/v1/alerts/bulk"


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def _get(app: Api, path: str, **params: Any) -> Any:
    response = await app.client.get(f"/api/v1{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_triage_order_pages_by_offset_and_refuses_a_cursor(app: Api) -> None:
    await add_rule(app)
    raised = await raise_alerts(app, *(("cam-a", s) for s in range(1, 5)))
    assert {a["escalation_level"] for a in raised} == {0}
    assert {a["state"] for a in raised} <= {"new", "notified"}
    # None escalated, all waiting: high first, then the oldest (it waited longest).
    rank = {"high": 0, "medium": 1, "low": 2}
    triage = sorted(raised, key=lambda a: (rank[a["severity"]], a["created_at"], a["id"]))
    oldest = [a["id"] for a in triage]
    newest_ids = [a["id"] for a in sorted(raised, key=lambda a: (a["created_at"], a["id"]))][::-1]
    triaged = await _get(app, "/alerts", order="triage", limit=2)
    assert [a["id"] for a in triaged["items"]] == oldest[:2]
    assert (triaged["total"], triaged["next_cursor"]) == (4, None)
    rest = await _get(app, "/alerts", order="triage", limit=2, offset=2)
    assert [a["id"] for a in rest["items"]] == oldest[2:]
    newest = await _get(app, "/alerts", limit=2)
    assert [a["id"] for a in newest["items"]] == newest_ids[:2]
    refused = await app.client.get(
        "/api/v1/alerts", params={"order": "triage", "cursor": newest["next_cursor"]}
    )
    assert refused.status_code == 422
    unknown = await app.client.get("/api/v1/alerts", params={"order": "random"})
    assert unknown.status_code == 422


async def test_summary_counts_what_the_list_filters(app: Api) -> None:
    await add_rule(app)
    await add_rule(app, name="B door", camera_id="cam-b")
    raised = await raise_alerts(app, ("cam-a", 1), ("cam-a", 2), ("cam-b", 3))
    await app.client.post(f"/api/v1/alerts/{raised[0]['id']}/acknowledge", json={})
    everything = await _get(app, "/alerts/summary")
    assert everything["total"] == 3
    assert sum(everything["by_severity"].values()) == 3
    assert set(everything["by_state"]) >= {"new", "notified", "acknowledged", "escalated"}
    assert everything["by_state"]["acknowledged"] == 1
    severity = raised[0]["severity"]
    assert everything["by_severity"][severity] == 3
    cam_a = await _get(app, "/alerts/summary", camera_id="cam-a")
    listed = await _get(app, "/alerts", camera_id="cam-a")
    assert cam_a["total"] == listed["total"] == 2
    waiting = await _get(app, "/alerts/summary", state=["new", "notified", "escalated"])
    assert waiting["total"] == 2
    assert waiting["by_state"]["acknowledged"] == 0


async def test_bulk_acknowledge_reports_each_alert_by_id(app: Api) -> None:
    await add_rule(app)
    raised = await raise_alerts(app, *(("cam-a", s) for s in range(1, 4)))
    ids = [a["id"] for a in raised]
    answer = await app.client.post(
        BULK, json={"ids": [ids[0], "no-such-alert", ids[2]], "action": "acknowledge", "note": "n"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [(i["id"], i["ok"]) for i in body["items"]] == [
        (ids[0], True),
        ("no-such-alert", False),
        (ids[2], True),
    ]
    assert (body["done"], body["failed"]) == (2, 1)
    assert body["items"][0]["alert"]["state"] == "acknowledged"
    assert "no-such-alert" in body["items"][1]["error"]
    # The one not named is untouched; taking a taken alert again fails for it alone.
    assert (await _get(app, f"/alerts/{ids[1]}"))["state"] != "acknowledged"
    again = (await app.client.post(BULK, json={"ids": ids, "action": "acknowledge"})).json()
    assert [i["ok"] for i in again["items"]] == [False, True, False]
    audit = await _get(app, "/audit", action="alert.acknowledge", limit=100)
    targets = sorted(r["target"] for r in audit["items"])
    assert targets == sorted(f"alert:{i}" for i in ids)


async def test_bulk_dismiss_needs_a_reason_and_takes_waiting_alerts_first(app: Api) -> None:
    await add_rule(app)
    raised = await raise_alerts(app, ("cam-a", 1), ("cam-a", 2))
    ids = [a["id"] for a in raised]
    await app.client.post(f"/api/v1/alerts/{ids[0]}/acknowledge", json={})
    for note in ("", "   "):
        refused = await app.client.post(BULK, json={"ids": ids, "action": "dismiss", "note": note})
        assert refused.status_code == 422, refused.text
    assert {(await _get(app, f"/alerts/{i}"))["state"] for i in ids} != {"false_positive"}
    done = await app.client.post(
        BULK, json={"ids": ids, "action": "dismiss", "note": "a delivery van"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["done"] == 2
    for alert_id in ids:
        alert = await _get(app, f"/alerts/{alert_id}")
        assert alert["state"] == "false_positive"
        assert alert["history"][-1]["note"] == "a delivery van"
    dismissed = await _get(app, "/audit", action="alert.dismiss", limit=100)
    assert sorted(r["target"] for r in dismissed["items"]) == sorted(f"alert:{i}" for i in ids)


@pytest.mark.parametrize(
    "body",
    [
        {"ids": [], "action": "acknowledge"},
        {"ids": ["a", "a"], "action": "acknowledge"},
        {"ids": [f"id-{n}" for n in range(501)], "action": "acknowledge"},
        {"ids": ["a"], "action": "confirm"},
        {"ids": ["a"], "action": "acknowledge", "extra": 1},
    ],
    ids=["none", "twice", "too-many", "unknown-action", "unknown-field"],
)
async def test_bulk_refuses_malformed_requests(app: Api, body: dict[str, Any]) -> None:
    answer = await app.client.post(BULK, json=body)
    assert answer.status_code == 422, answer.text


async def test_groups_list_in_triage_order_by_offset(app: Api) -> None:
    await add_rule(app)
    await add_rule(app, name="B door", camera_id="cam-b")
    await raise_alerts(app, ("cam-a", 1), ("cam-b", 2))
    triaged = await _get(app, "/alert-groups", order="triage", limit=1)
    assert (triaged["total"], len(triaged["items"]), triaged["next_cursor"]) == (2, 1, None)
    second = await _get(app, "/alert-groups", order="triage", limit=1, offset=1)
    both = {triaged["items"][0]["id"], second["items"][0]["id"]}
    assert len(both) == 2
    newest = await _get(app, "/alert-groups", limit=1)
    refused = await app.client.get(
        "/api/v1/alert-groups", params={"order": "triage", "cursor": newest["next_cursor"]}
    )
    assert refused.status_code == 422
