"""Rules, alerts, feedback and incidents over the REST API, on the memory and SQLite stores.

Alerts are raised the way they are in production: an event published on the
event subject reaches the app's alerting worker, which evaluates it against
the stored rules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.api_support import STORES, Api, api, crossing, eventually

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

RULE: dict[str, Any] = {
    "name": "Door at night",
    "camera_id": "cam-a",
    "event_types": ["line.crossed"],
    "classes": ["person"],
    "line": "door",
    "direction": "in",
    "weight": 0.8,
}
SCHEDULE: dict[str, Any] = {
    "days": [0, 1, 2, 3, 4],
    "start": "22:00",
    "end": "06:00",
    "timezone": "Europe/Berlin",
}


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def add_rule(app: Api, **changes: Any) -> dict[str, Any]:
    response = await app.client.post("/api/v1/rules", json={**RULE, **changes})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def raise_alerts(
    app: Api, *events: tuple[str, int], expect: int | None = None
) -> list[dict[str, Any]]:
    """Publish a crossing per ``(camera_id, second)``; the ``expect`` new alerts, oldest first.

    ``expect`` defaults to one alert per event.
    """
    count = len(events) if expect is None else expect
    before = (await app.client.get("/api/v1/alerts")).json()["total"]
    for camera_id, second in events:
        await app.bus.publish(app.plane.events_subject, crossing(camera_id, second=second))

    async def raised() -> bool:
        body = (await app.client.get("/api/v1/alerts")).json()
        return bool(body["total"] >= before + count)

    await eventually(raised, f"{count} alert(s)")
    page = (await app.client.get("/api/v1/alerts", params={"limit": count})).json()
    items: list[dict[str, Any]] = page["items"][::-1]
    return items


async def step(app: Api, alert_id: str, action: str, **body: Any) -> Any:
    return await app.client.post(f"/api/v1/alerts/{alert_id}/{action}", json=body)


# --- rules ----------------------------------------------------------------------------------


async def test_rule_crud(app: Api) -> None:
    rule = await add_rule(app, schedule=SCHEDULE, min_confidence=0.5)
    rid = rule["id"]
    assert rule["schedule"] == {**SCHEDULE, "days": [0, 1, 2, 3, 4]}
    assert (rule["cooldown_scope"], rule["cooldown_seconds"], rule["enabled"]) == (
        "track",
        0.0,
        True,
    )
    assert (await app.client.get(f"/api/v1/rules/{rid}")).json() == rule

    changed = await app.client.patch(
        f"/api/v1/rules/{rid}", json={"schedule": None, "weight": 1, "min_confidence": None}
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["schedule"], body["weight"], body["min_confidence"]) == (None, 1.0, None)
    assert body["name"] == RULE["name"]
    assert body["updated_at"] >= rule["updated_at"]
    daily = await app.client.patch(
        f"/api/v1/rules/{rid}", json={"schedule": {"start": "08:00", "end": "18:00"}}
    )
    assert daily.json()["schedule"] == {
        "days": [0, 1, 2, 3, 4, 5, 6],
        "start": "08:00",
        "end": "18:00",
        "timezone": "UTC",
    }

    assert (await app.client.delete(f"/api/v1/rules/{rid}")).status_code == 204
    gone = await app.client.get(f"/api/v1/rules/{rid}")
    assert gone.status_code == 404
    assert rid in gone.json()["detail"]


async def test_rule_list_pages_and_filters(app: Api) -> None:
    await add_rule(app, name="A")
    await add_rule(app, name="B", camera_id="cam-b", enabled=False)
    await add_rule(app, name="Everywhere", camera_id=None)
    page = (await app.client.get("/api/v1/rules", params={"limit": 2})).json()
    assert (page["total"], len(page["items"]), page["limit"]) == (3, 2, 2)
    rest = (await app.client.get("/api/v1/rules", params={"limit": 2, "offset": 2})).json()
    assert [r["name"] for r in page["items"] + rest["items"]] == ["A", "B", "Everywhere"]
    cam_a = (await app.client.get("/api/v1/rules", params={"camera_id": "cam-a"})).json()
    assert [r["name"] for r in cam_a["items"]] == ["A", "Everywhere"]
    off = (await app.client.get("/api/v1/rules", params={"enabled": "false"})).json()
    assert [r["name"] for r in off["items"]] == ["B"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**RULE, "line": None}, "body"),
        ({**RULE, "zone": "desk"}, "body"),
        ({**RULE, "count": 3}, "body"),
        ({**RULE, "weight": 2}, "weight"),
        ({**RULE, "min_confidence": "high"}, "min_confidence"),
        ({**RULE, "event_types": ["crossed"]}, "event_types"),
        ({**RULE, "name": ""}, "name"),
        ({**RULE, "colour": "red"}, "colour"),
        ({**RULE, "cooldown_scope": "site"}, "cooldown_scope"),
        ({**RULE, "schedule": {**SCHEDULE, "timezone": "Mars/Olympus"}}, "timezone"),
        ({**RULE, "schedule": {**SCHEDULE, "timezone": "America"}}, "timezone"),
        ({**RULE, "schedule": {**SCHEDULE, "start": "24:00"}}, "start"),
        ({**RULE, "schedule": {**SCHEDULE, "days": [7]}}, "days"),
        ({**RULE, "schedule": {**SCHEDULE, "days": []}}, "days"),
    ],
    ids=[
        "direction-without-line",
        "line-and-zone",
        "count-without-window",
        "weight-high",
        "confidence-text",
        "undotted-type",
        "empty-name",
        "unknown-field",
        "bad-scope",
        "unknown-tz",
        "tz-folder",
        "bad-time",
        "bad-day",
        "no-days",
    ],
)
async def test_invalid_rule_is_422_with_field_path(
    app: Api, body: dict[str, Any], field: str
) -> None:
    response = await app.client.post("/api/v1/rules", json=body)
    assert response.status_code == 422, response.text
    assert any(field in error["loc"] for error in response.json()["detail"]), response.text


async def test_rule_patch_is_checked_after_merging(app: Api) -> None:
    rule = await add_rule(app)
    base = f"/api/v1/rules/{rule['id']}"
    no_line = await app.client.patch(base, json={"line": None})
    assert no_line.status_code == 422
    assert "direction needs a line" in no_line.text
    null_name = await app.client.patch(base, json={"name": None})
    assert null_name.status_code == 422
    assert "cannot be null" in null_name.text
    assert (await app.client.get(base)).json() == rule


# --- alerts ---------------------------------------------------------------------------------


async def test_confirming_an_alert_opens_an_incident(app: Api) -> None:
    rule = await add_rule(app)
    [alert] = await raise_alerts(app, ("cam-a", 1))
    assert (alert["rule_id"], alert["camera_id"], alert["state"]) == (
        rule["id"],
        "cam-a",
        "notified",
    )
    assert (alert["class_name"], alert["track_id"], alert["event_type"]) == (
        "person",
        7,
        "line.crossed",
    )
    names = {c["name"] for c in alert["risk_components"]}
    assert names == {"rule", "confidence", "dwell", "zone", "time_of_day", "repeat"}
    assert alert["ack_deadline"] is not None
    assert [(t["from_state"], t["to_state"]) for t in alert["history"]] == [("new", "notified")]
    aid = alert["id"]
    assert (await app.client.get(f"/api/v1/alerts/{aid}")).json() == alert

    early = await step(app, aid, "confirm")
    assert early.status_code == 409
    assert "cannot go from notified to confirmed" in early.json()["detail"]

    acked = await step(app, aid, "acknowledge", note="on it")
    assert acked.status_code == 200, acked.text
    assert (acked.json()["state"], acked.json()["ack_deadline"]) == ("acknowledged", None)
    assert acked.json()["history"][-1]["actor"] == "user:admin"
    twice = await step(app, aid, "acknowledge")
    assert twice.status_code == 409

    confirmed = await step(app, aid, "confirm", note="intruder", title="Break-in")
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    incident = body["incident"]
    assert body["alert"]["state"] == "confirmed"
    assert body["alert"]["incident_id"] == incident["id"]
    assert (incident["title"], incident["status"], incident["confirmed_by"]) == (
        "Break-in",
        "open",
        "user:admin",
    )
    assert incident["alert_ids"] == [aid]
    assert incident["evidence"] == [f"event:{alert['event_id']}"]
    stored = await app.client.get(f"/api/v1/incidents/{incident['id']}")
    assert stored.json() == incident

    for action in ("acknowledge", "confirm", "dismiss"):
        closed = await step(app, aid, action)
        assert closed.status_code == 409, action
    listed = (await app.client.get("/api/v1/incidents")).json()
    assert listed["total"] == 1


async def test_dismissed_alerts_are_feedback(app: Api) -> None:
    rule = await add_rule(app)
    first, second = await raise_alerts(app, ("cam-a", 1), ("cam-a", 2))
    assert (await step(app, first["id"], "dismiss")).status_code == 409
    await step(app, first["id"], "acknowledge")
    dismissed = await step(app, first["id"], "dismiss", note="a cleaner")
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["state"] == "false_positive"
    assert dismissed.json()["incident_id"] is None

    feedback = (await app.client.get("/api/v1/feedback")).json()
    assert (feedback["total"], feedback["limit"], feedback["offset"]) == (1, 50, 0)
    [item] = feedback["items"]
    assert item["alert"]["id"] == first["id"]
    assert item["alert"]["risk_components"] == first["risk_components"]
    assert (item["dismissed_by"], item["note"]) == ("user:admin", "a cleaner")
    assert item["rule"] == rule
    assert second["id"] not in str(feedback)
    assert (await app.client.get("/api/v1/incidents")).json()["total"] == 0

    await app.client.delete(f"/api/v1/rules/{rule['id']}")
    orphan = (await app.client.get("/api/v1/feedback")).json()["items"][0]
    assert orphan["rule"] is None
    assert orphan["alert"]["rule_name"] == RULE["name"]
    assert (await app.client.get("/api/v1/feedback", params={"offset": 1})).json()["items"] == []


async def test_alert_filters(app: Api) -> None:
    rule_a = await add_rule(app, name="A")
    rule_any = await add_rule(app, name="Any", camera_id=None)
    start = datetime.now(UTC) - timedelta(seconds=1)
    alerts = await raise_alerts(app, ("cam-a", 1), ("cam-b", 2), expect=3)
    assert len(alerts) == 3  # cam-a fires both rules, cam-b only the camera-less one

    async def ids(**params: Any) -> set[str]:
        response = await app.client.get("/api/v1/alerts", params=params)
        assert response.status_code == 200, response.text
        return {a["id"] for a in response.json()["items"]}

    everything = {a["id"] for a in alerts}
    assert await ids(camera_id="cam-b") == {a["id"] for a in alerts if a["camera_id"] == "cam-b"}
    assert len(await ids(rule_id=rule_a["id"])) == 1
    assert len(await ids(rule_id=rule_any["id"])) == 2
    acked = alerts[0]["id"]
    await step(app, acked, "acknowledge")
    assert await ids(state="acknowledged") == {acked}
    assert await ids(state=["acknowledged", "notified"]) == everything
    assert await ids(state="confirmed") == set()
    severities = {a["severity"] for a in alerts}
    assert await ids(severity=sorted(severities)) == everything
    assert await ids(severity=sorted({"low", "medium", "high"} - severities)) == set()
    assert await ids(since=start.isoformat()) == everything
    assert await ids(until=start.isoformat()) == set()
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await ids(since=start.isoformat(), until=later, camera_id="cam-a") == everything - (
        await ids(camera_id="cam-b")
    )
    page = (await app.client.get("/api/v1/alerts", params={"limit": 2, "offset": 2})).json()
    assert (page["total"], len(page["items"])) == (3, 1)


@pytest.mark.parametrize(
    "params",
    [
        {"state": "open"},
        {"severity": ["low", "extreme"]},
        {"since": "2026-03-01T12:00:00"},
        {"until": "1700000000"},
        {"limit": 0},
        {"camera_id": ["a", "b"]},
        {"rule_id": ""},
    ],
    ids=["bad-state", "bad-severity", "naive-time", "epoch", "limit-zero", "repeated", "empty"],
)
async def test_invalid_alert_query_is_422(app: Api, params: dict[str, Any]) -> None:
    response = await app.client.get("/api/v1/alerts", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][0] == "query"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/rules/NOPE"),
        ("PATCH", "/rules/NOPE"),
        ("DELETE", "/rules/NOPE"),
        ("GET", "/alerts/NOPE"),
        ("POST", "/alerts/NOPE/acknowledge"),
        ("POST", "/alerts/NOPE/confirm"),
        ("POST", "/alerts/NOPE/dismiss"),
        ("GET", "/incidents/NOPE"),
        ("PATCH", "/incidents/NOPE"),
        ("DELETE", "/incidents/NOPE"),
        ("POST", "/incidents/NOPE/notes"),
    ],
)
async def test_unknown_ids_are_404(app: Api, method: str, path: str) -> None:
    body = {"text": "hello"} if path.endswith("/notes") else {}
    json = body if method in {"POST", "PATCH"} else None
    response = await app.client.request(method, f"/api/v1{path}", json=json)
    assert response.status_code == 404, response.text
    assert "NOPE" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"actor": "mallory"},
        {"note": "x" * 2001},
        {"note": 5},
        {"reason": "typo"},
    ],
    ids=["actor-comes-from-the-sign-in", "long-note", "note-number", "unknown-field"],
)
async def test_invalid_step_body_is_422(app: Api, body: dict[str, Any]) -> None:
    await add_rule(app)
    [alert] = await raise_alerts(app, ("cam-a", 1))
    response = await step(app, alert["id"], "acknowledge", **body)
    assert response.status_code == 422, response.text
    assert (await app.client.get(f"/api/v1/alerts/{alert['id']}")).json()["state"] == "notified"


# --- incidents ------------------------------------------------------------------------------


async def test_incident_crud_links_and_notes(app: Api) -> None:
    await add_rule(app)
    first, second = await raise_alerts(app, ("cam-a", 1), ("cam-a", 2))
    unknown = await app.client.post(
        "/api/v1/incidents", json={"title": "Fence", "alert_ids": ["NOPE"]}
    )
    assert unknown.status_code == 422
    assert "NOPE" in unknown.text
    created = await app.client.post(
        "/api/v1/incidents",
        json={"title": "Fence", "camera_id": "cam-a", "alert_ids": [first["id"]]},
    )
    assert created.status_code == 201, created.text
    incident = created.json()
    iid = incident["id"]
    assert (incident["status"], incident["confirmed_by"], incident["version"]) == (
        "open",
        "user:admin",
        1,
    )
    base = f"/api/v1/incidents/{iid}"

    linked = await app.client.patch(
        base,
        json={"alert_ids": [first["id"], second["id"]], "evidence": ["clip:front/0001.mp4"]},
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["alert_ids"] == [first["id"], second["id"]]
    assert linked.json()["evidence"] == ["clip:front/0001.mp4"]
    bad_link = await app.client.patch(base, json={"alert_ids": [first["id"], "NOPE"]})
    assert bad_link.status_code == 422
    twice = await app.client.patch(base, json={"alert_ids": [first["id"], first["id"]]})
    assert twice.status_code == 422
    assert twice.json()["detail"][0]["loc"] == ["body", "alert_ids"]
    assert (await app.client.patch(base, json={"title": None})).status_code == 422
    cleared = await app.client.patch(base, json={"camera_id": None, "description": "cut wire"})
    assert (cleared.json()["camera_id"], cleared.json()["description"]) == (None, "cut wire")

    noted = await app.client.post(f"{base}/notes", json={"text": "police called"})
    assert noted.status_code == 201, noted.text
    assert [(n["author"], n["text"]) for n in noted.json()["notes"]] == [
        ("user:admin", "police called")
    ]
    assert (await app.client.post(f"{base}/notes", json={"text": ""})).status_code == 422

    for status in ("in_progress", "resolved", "closed"):
        moved = await app.client.post(f"{base}/status", json={"status": status, "note": status})
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status
    history = (await app.client.get(base)).json()["history"]
    assert [(t["from_state"], t["to_state"]) for t in history] == [
        ("open", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    reopen = await app.client.post(f"{base}/status", json={"status": "open"})
    assert reopen.status_code == 409
    assert "cannot go from closed to open" in reopen.json()["detail"]
    bogus = await app.client.post(f"{base}/status", json={"status": "done"})
    assert bogus.status_code == 422

    assert (await app.client.delete(base)).status_code == 204
    assert (await app.client.get(base)).status_code == 404
    assert (await app.client.get(f"/api/v1/alerts/{first['id']}")).status_code == 200


async def test_incident_list_filters(app: Api) -> None:
    for title, camera in [("A", "cam-a"), ("B", "cam-b"), ("C", None)]:
        response = await app.client.post(
            "/api/v1/incidents", json={"title": title, "camera_id": camera}
        )
        assert response.status_code == 201, response.text
    listed = (await app.client.get("/api/v1/incidents")).json()
    assert [i["title"] for i in listed["items"]] == ["C", "B", "A"]
    b_id = listed["items"][1]["id"]
    await app.client.post(f"/api/v1/incidents/{b_id}/status", json={"status": "resolved"})

    async def titles(**params: Any) -> list[str]:
        response = await app.client.get("/api/v1/incidents", params=params)
        assert response.status_code == 200, response.text
        return [i["title"] for i in response.json()["items"]]

    assert await titles(status="resolved") == ["B"]
    assert await titles(status="open") == ["C", "A"]
    assert await titles(camera_id="cam-a") == ["A"]
    assert await titles(limit=1, offset=1) == ["B"]
    bad = await app.client.get("/api/v1/incidents", params={"status": "done"})
    assert bad.status_code == 422


async def test_openapi_documents_the_alerting_routes(app: Api) -> None:
    document = (await app.client.get("/api/openapi.json")).json()
    paths = document["paths"]
    for path in (
        "/api/v1/rules",
        "/api/v1/rules/{rule_id}",
        "/api/v1/alerts",
        "/api/v1/alerts/{alert_id}/confirm",
        "/api/v1/feedback",
        "/api/v1/incidents/{incident_id}/status",
        "/api/v1/incidents/{incident_id}/notes",
    ):
        assert path in paths, path
    confirm = paths["/api/v1/alerts/{alert_id}/confirm"]["post"]["responses"]
    assert "state does not allow" in confirm["409"]["description"]
