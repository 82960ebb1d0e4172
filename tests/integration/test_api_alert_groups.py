"""Alert groups, cursor paging, snoozes and maintenance windows over the REST API.

Alerts are raised the way they are in production: crossings published on the
event subject reach the app's alerting worker (memory and SQLite stores).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.auth_support import bearer, make_user
from tests.integration.api_support import STORES, Api, api, crossing, eventually
from tests.integration.test_api_alerts import RULE

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def add_rule(app: Api) -> dict[str, Any]:
    response = await app.client.post("/api/v1/rules", json=RULE)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def storm(app: Api, count: int, *, first: int = 1) -> list[dict[str, Any]]:
    """Publish ``count`` crossings on cam-a; the alerts they raise, oldest first."""
    before = (await app.client.get("/api/v1/alerts")).json()["total"]
    for second in range(first, first + count):
        await app.bus.publish(app.plane.events_subject, crossing("cam-a", second=second))

    async def raised() -> bool:
        return bool((await app.client.get("/api/v1/alerts")).json()["total"] >= before + count)

    await eventually(raised, f"{count} alerts")
    page = (await app.client.get("/api/v1/alerts", params={"limit": count})).json()
    items: list[dict[str, Any]] = page["items"][::-1]
    return items


def _later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


async def test_a_storm_is_one_group_paged_by_cursor(app: Api) -> None:
    await add_rule(app)
    alerts = await storm(app, 5)
    # A repeat unless more severe than any alert before it (the risk's repeat component
    # raises the score of a storm): then it is notified and escalates like a first alert.
    rank = ("low", "medium", "high").index
    for n, alert in enumerate(alerts):
        worse = all(rank(alert["severity"]) > rank(a["severity"]) for a in alerts[:n])
        assert alert["repeat"] is not worse
        assert (alert["ack_deadline"] is not None) is worse
    assert {a["suppressed"] for a in alerts} == {None}
    groups = (await app.client.get("/api/v1/alert-groups")).json()
    assert (groups["total"], groups["next_cursor"]) == (1, None)
    [group] = groups["items"]
    assert {a["group_id"] for a in alerts} == {group["id"]}
    assert (group["count"], group["open_count"], group["state"]) == (5, 5, "open")
    assert (group["first_alert_id"], group["latest_alert_id"]) == (
        alerts[0]["id"],
        alerts[-1]["id"],
    )
    assert group["subject"] == "door"
    assert (await app.client.get(f"/api/v1/alert-groups/{group['id']}")).json() == group

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await app.client.get(f"/api/v1/alert-groups/{group['id']}/alerts", params=params)
        body = page.json()
        assert body["total"] == 5
        seen += [a["id"] for a in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [a["id"] for a in reversed(alerts)]
    first = (await app.client.get("/api/v1/alerts", params={"limit": 3})).json()
    rest = await app.client.get(
        "/api/v1/alerts", params={"limit": 3, "cursor": first["next_cursor"]}
    )
    ids = [a["id"] for a in first["items"] + rest.json()["items"]]
    assert ids == [a["id"] for a in reversed(alerts)]
    assert rest.json()["next_cursor"] is None
    by_group = await app.client.get("/api/v1/alerts", params={"group_id": group["id"]})
    assert by_group.json()["total"] == 5
    assert (await app.client.get("/api/v1/alerts", params={"cursor": "bogus"})).status_code == 422
    assert (await app.client.get("/api/v1/alert-groups", params={"state": "closed"})).json()[
        "total"
    ] == 0
    assert (await app.client.get("/api/v1/alert-groups/nope")).status_code == 404


async def test_a_group_is_acknowledged_then_dismissed_at_once(app: Api) -> None:
    await add_rule(app)
    alerts = await storm(app, 3)
    gid = alerts[0]["group_id"]
    url = f"/api/v1/alert-groups/{gid}"
    assert (await app.client.post(f"{url}/dismiss", json={"note": "x"})).status_code == 409
    acked = await app.client.post(f"{url}/acknowledge", json={"note": "on it"})
    assert acked.status_code == 200, acked.text
    assert sorted(acked.json()["alerts"]) == sorted(a["id"] for a in alerts)
    assert (await app.client.post(f"{url}/acknowledge", json={})).status_code == 409
    assert (await app.client.post(f"{url}/dismiss", json={"note": ""})).status_code == 422
    dismissed = await app.client.post(f"{url}/dismiss", json={"note": "the cleaner"})
    assert dismissed.status_code == 200, dismissed.text
    group = dismissed.json()["group"]
    assert (group["state"], group["open_count"], group["count"]) == ("closed", 0, 3)
    states = (await app.client.get("/api/v1/alerts", params={"group_id": gid})).json()["items"]
    assert {a["state"] for a in states} == {"false_positive"}
    audit = (await app.client.get("/api/v1/audit", params={"limit": 100})).json()["items"]
    actions = [r["action"] for r in audit]
    assert "alert_group.acknowledge" in actions
    assert "alert_group.dismiss" in actions


async def test_a_snooze_stores_alerts_suppressed_until_deleted(app: Api) -> None:
    rule = await add_rule(app)
    refused = await app.client.post("/api/v1/snoozes", json={"until": _later(hours=1)})
    assert refused.status_code == 422
    unknown = await app.client.post(
        "/api/v1/snoozes", json={"rule_id": "nope", "until": _later(hours=1)}
    )
    assert unknown.status_code == 404
    too_long = await app.client.post(
        "/api/v1/snoozes", json={"rule_id": rule["id"], "until": _later(days=31)}
    )
    assert too_long.status_code == 422
    made = await app.client.post(
        "/api/v1/snoozes",
        json={"rule_id": rule["id"], "until": _later(hours=1), "reason": "cleaning crew"},
    )
    assert made.status_code == 201, made.text
    snooze = made.json()
    [alert] = await storm(app, 1)
    assert alert["suppressed"].startswith(f"snoozed: rule {RULE['name']} until ")
    assert alert["ack_deadline"] is None
    listed = (await app.client.get("/api/v1/snoozes")).json()
    assert [s["id"] for s in listed["items"]] == [snooze["id"]]
    assert (await app.client.delete(f"/api/v1/snoozes/{snooze['id']}")).status_code == 204
    assert (await app.client.delete(f"/api/v1/snoozes/{snooze['id']}")).status_code == 404
    [after] = await storm(app, 1, first=30)
    assert after["suppressed"] is None
    assert after["repeat"] is False  # the group was never notified before
    assert after["ack_deadline"] is not None


async def test_maintenance_windows_need_configure_and_suppress(app: Api) -> None:
    await add_rule(app)
    window = {
        "name": "Roof works",
        "start": _later(minutes=-1),
        "end": _later(hours=2),
        "reason": "scaffolding in view",
    }
    admin = app.client.headers["Authorization"].removeprefix("Bearer ")
    operator = await make_user(app.client, admin, "olga", "operator")
    denied = await app.client.post(
        "/api/v1/maintenance-windows", json=window, headers=bearer(operator)
    )
    assert denied.status_code == 403
    seen = await app.client.get("/api/v1/maintenance-windows", headers=bearer(operator))
    assert seen.status_code == 200
    backwards = {**window, "end": window["start"]}
    assert (await app.client.post("/api/v1/maintenance-windows", json=backwards)).status_code == 422
    made = await app.client.post("/api/v1/maintenance-windows", json=window)
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["camera_ids"], body["recurrence"]) == ([], None)
    weekly = {"days": [6], "start": "01:00", "end": "02:00", "timezone": "Europe/Berlin"}
    recurring = {**window, "name": "Sunday backups", "recurrence": weekly}
    repeated = await app.client.post("/api/v1/maintenance-windows", json=recurring)
    assert repeated.status_code == 201, repeated.text
    assert repeated.json()["recurrence"] == weekly
    await app.client.delete(f"/api/v1/maintenance-windows/{repeated.json()['id']}")
    [alert] = await storm(app, 1)
    assert alert["suppressed"] == "maintenance: Roof works"
    listed = (await app.client.get("/api/v1/maintenance-windows")).json()
    assert [w["id"] for w in listed["items"]] == [body["id"]]
    gone = await app.client.delete(f"/api/v1/maintenance-windows/{body['id']}")
    assert gone.status_code == 204
    assert (await app.client.get("/api/v1/maintenance-windows")).json()["total"] == 0


async def test_rules_carry_severity_bounds(app: Api) -> None:
    made = await app.client.post(
        "/api/v1/rules", json={**RULE, "severity_floor": "medium", "severity_ceiling": "high"}
    )
    assert made.status_code == 201, made.text
    rule = made.json()
    assert (rule["severity_floor"], rule["severity_ceiling"]) == ("medium", "high")
    changed = await app.client.patch(f"/api/v1/rules/{rule['id']}", json={"severity_floor": None})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["severity_floor"], changed.json()["severity_ceiling"]) == (None, "high")
    inverted = {**RULE, "severity_floor": "high", "severity_ceiling": "low"}
    assert (await app.client.post("/api/v1/rules", json=inverted)).status_code == 422
    unknown = {**RULE, "severity_floor": "extreme"}
    assert (await app.client.post("/api/v1/rules", json=unknown)).status_code == 422
    plain = (await app.client.post("/api/v1/rules", json=RULE)).json()
    assert (plain["severity_floor"], plain["severity_ceiling"]) == (None, None)
