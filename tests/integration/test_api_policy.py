"""The risk policy, its preview and the site's time zones over the REST API.

Memory and SQLite stores; the site is in Berlin (``ARGUS_SITE_TIMEZONE``) so
nothing depends on the machine's zone. Alerts are raised the way they are in
production (an event on the event subject), so a stored policy is shown to
reach the alerting worker, and a stored notification route the notifier.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from argus.domain.notify import Channel, Route, Target, WebhookSettings
from tests.auth_support import settings_for
from tests.integration.api_support import STORES, Api, api, crossing, eventually

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

CAMERA: dict[str, Any] = {
    "name": "Gate",
    "stream_url": "rtsp://10.0.0.5:554/stream1",
    "location": "north fence",
    "detect_fps": 4,
}
DAY = "2026-12-07T12:00:00+01:00"
"""Monday noon in Berlin."""
NIGHT = "2026-12-07T23:30:00+01:00"
"""Monday 23:30 in Berlin (22:30 UTC)."""
T0 = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    settings = settings_for(tmp_path, site_timezone="Europe/Berlin")
    async with api(request.param, tmp_path, settings=settings) as running:
        yield running


async def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def camera_and_rule(app: Api, **rule: Any) -> tuple[str, str]:
    camera = await ok(await app.client.post("/api/v1/cameras", json=CAMERA), 201)
    body = {
        "name": "Door",
        "camera_id": camera["id"],
        "event_types": ["line.crossed"],
        "weight": 0.5,
        **rule,
    }
    created = await ok(await app.client.post("/api/v1/rules", json=body), 201)
    return camera["id"], created["id"]


async def test_the_defaults_are_in_force_until_a_policy_is_stored(app: Api) -> None:
    policy = await ok(await app.client.get("/api/v1/risk-policy"))
    assert policy["night_start"] == 22
    assert policy["night_end"] == 6
    assert policy["timezone"] is None
    assert policy["site_timezone"] == "Europe/Berlin"
    assert policy["weights"]["rule"] == 0.35
    assert policy["defaults"] == {k: policy[k] for k in policy["defaults"]}


async def test_a_stored_policy_replaces_the_defaults_and_is_audited(app: Api) -> None:
    body = {"weights": {"rule": 1.0, "time_of_day": 1.0}, "night_start": 20, "night_end": 7}
    stored = await ok(await app.client.put("/api/v1/risk-policy", json=body))
    assert stored["weights"] == {
        "rule": 1.0,
        "confidence": 0.0,
        "dwell": 0.0,
        "zone": 0.0,
        "time_of_day": 1.0,
        "repeat": 0.0,
    }
    assert (stored["night_start"], stored["night_end"], stored["day_value"]) == (20, 7, 0.2)
    assert await ok(await app.client.get("/api/v1/risk-policy")) == stored
    audit = await ok(await app.client.get("/api/v1/audit", params={"action": "risk_policy."}))
    assert [entry["action"] for entry in audit["items"]] == ["risk_policy.update"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"weights": {"luck": 1.0}}, "unknown risk component"),
        ({"weights": {"rule": 0.0}}, "at least one risk weight"),
        ({"night_start": 24}, "night_start"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"colour": "red"}, "colour"),
        ({"repeat_full": 0}, "repeat_full"),
    ],
    ids=["unknown-component", "no-weight", "hour", "zone", "unknown-field", "repeat"],
)
async def test_an_invalid_policy_is_422_and_nothing_changes(
    app: Api, body: dict[str, Any], words: str
) -> None:
    before = await ok(await app.client.get("/api/v1/risk-policy"))
    response = await app.client.put("/api/v1/risk-policy", json=body)
    assert response.status_code == 422, response.text
    assert words in response.text
    assert await ok(await app.client.get("/api/v1/risk-policy")) == before


async def test_the_preview_judges_night_in_local_time_and_explains_bounds(app: Api) -> None:
    camera_id, rule_id = await camera_and_rule(app, weight=0.1, severity_ceiling="low")
    request = {"rule_id": rule_id, "camera_id": camera_id, "confidence": 0.9, "recent_alerts": 5}
    day = await ok(
        await app.client.post("/api/v1/risk-policy/preview", json={**request, "at": DAY})
    )
    night = await ok(
        await app.client.post("/api/v1/risk-policy/preview", json={**request, "at": NIGHT})
    )
    parts = {p["name"]: p for p in night["components"]}
    assert parts["time_of_day"]["value"] == 1.0
    assert "23:30 Europe/Berlin" in parts["time_of_day"]["reason"]
    assert {p["name"]: p for p in day["components"]}["time_of_day"]["value"] == 0.2
    assert night["timezone"] == "Europe/Berlin"
    assert night["local_time"].startswith("2026-12-07T23:30:00+01:00")
    for preview in (day, night):
        assert preview["severity"] == "low"
        assert preview["ceiling"] == "low"
        assert preview["score"] < 0.3
    assert parts["bounds"]["value"] >= 0.3  # medium without the ceiling
    assert "held at" in parts["bounds"]["reason"]


async def test_the_preview_scores_a_draft_without_storing_it(app: Api) -> None:
    camera_id, rule_id = await camera_and_rule(app, weight=1.0)
    request = {"rule_id": rule_id, "camera_id": camera_id, "at": DAY, "confidence": 1.0}
    stored = await ok(await app.client.post("/api/v1/risk-policy/preview", json=request))
    draft = {**request, "policy": {"weights": {"time_of_day": 1.0}}}
    drafted = await ok(await app.client.post("/api/v1/risk-policy/preview", json=draft))
    assert drafted["score"] == 0.2  # only the time of day counts, at its day value
    assert stored["score"] > drafted["score"]
    assert (await ok(await app.client.get("/api/v1/risk-policy")))["weights"]["rule"] == 0.35


@pytest.mark.parametrize("missing", ["rule_id", "camera_id"])
async def test_the_preview_of_an_unknown_rule_or_camera_is_404(app: Api, missing: str) -> None:
    camera_id, rule_id = await camera_and_rule(app)
    request = {"rule_id": rule_id, "camera_id": camera_id, "at": DAY, missing: "nope"}
    response = await app.client.post("/api/v1/risk-policy/preview", json=request)
    assert response.status_code == 404, response.text


async def test_the_site_and_camera_time_zones(app: Api) -> None:
    camera_id, rule_id = await camera_and_rule(app)
    site = await ok(await app.client.get("/api/v1/site"))
    assert site == {
        "timezone": "Europe/Berlin",
        "camera_timezones": {},
        "default_timezone": "Europe/Berlin",
    }
    body = {"timezone": "Europe/Lisbon", "camera_timezones": {camera_id: "America/New_York"}}
    stored = await ok(await app.client.put("/api/v1/site", json=body))
    assert stored["camera_timezones"] == {camera_id: "America/New_York"}
    assert (await ok(await app.client.get("/api/v1/risk-policy")))["site_timezone"] == (
        "Europe/Lisbon"
    )
    # 23:30 in Berlin is 17:30 in New York: daytime for that camera.
    request = {"rule_id": rule_id, "camera_id": camera_id, "at": NIGHT}
    preview = await ok(await app.client.post("/api/v1/risk-policy/preview", json=request))
    assert preview["timezone"] == "America/New_York"
    assert {p["name"]: p for p in preview["components"]}["time_of_day"]["value"] == 0.2
    audit = await ok(await app.client.get("/api/v1/audit", params={"action": "site."}))
    assert [entry["action"] for entry in audit["items"]] == ["site.update"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"timezone": "Nowhere/Town"}, "unknown time zone"),
        ({"camera_timezones": {"no-such-camera": "UTC"}}, "unknown camera"),
        ({"timezone": "UTC", "extra": 1}, "extra"),
    ],
    ids=["zone", "camera", "unknown-field"],
)
async def test_an_invalid_site_is_422(app: Api, body: dict[str, Any], words: str) -> None:
    response = await app.client.put("/api/v1/site", json=body)
    assert response.status_code == 422, response.text
    assert words in response.text


async def test_a_stored_policy_scores_the_next_alert_and_the_notifier_enqueues_it(
    app: Api,
) -> None:
    """From a PUT to the alert's explanation, and from the alert to the outbox."""
    await ok(await app.client.post("/api/v1/rules", json=_door_rule()), 201)
    await ok(await app.client.put("/api/v1/risk-policy", json={"weights": {"rule": 1.0}}))
    notify = app.plane.database.notify
    hook = WebhookSettings(url="https://hooks.example.org/argus", secret="s3cret")
    await notify.channels.add(Channel("hook", "Hook", "webhook", hook, T0, T0))
    await notify.routes.add(Route("all", "All alerts", T0, T0, (Target("hook"),)))
    await app.bus.publish(app.plane.events_subject, crossing("cam-a"))

    async def raised() -> bool:
        return bool((await app.client.get("/api/v1/alerts")).json()["total"] >= 1)

    await eventually(raised, "the alert")
    (alert,) = (await ok(await app.client.get("/api/v1/alerts")))["items"]
    assert alert["risk_score"] == 0.8  # only the rule's weight counts now
    assert {p["name"]: p["weight"] for p in alert["risk_components"]}["confidence"] == 0.0

    async def enqueued() -> bool:
        return len((await notify.outbox.list(limit=10)).items) >= 1

    await eventually(enqueued, "the notification")
    (item,) = (await notify.outbox.list(limit=10)).items
    assert (item.alert_id, item.channel_id, item.kind) == (alert["id"], "hook", "alert.created")


def _door_rule() -> dict[str, Any]:
    return {
        "name": "Door",
        "camera_id": "cam-a",
        "event_types": ["line.crossed"],
        "line": "door",
        "weight": 0.8,
    }
