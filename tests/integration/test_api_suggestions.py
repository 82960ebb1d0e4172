"""``/suggestions``: rule suggestions from verdicts given over the API, applied and dismissed.

Who may call what is in the authorisation matrix (``test_authz_matrix``: viewers
read, admins refresh, apply and dismiss). Here, on the memory and SQLite
stores: alerts raised by the alerting worker from published crossings, dismissed
and confirmed over the API, become a threshold suggestion whose effect is
counted on them; applying it changes the rule (audited), a second decision is
a 409, and an exclusion zone (no positions in this history) is not proposed.
Crossings that carry their foot point (``point``, as the pipeline writes it)
give an exclusion zone; applied, it joins the rule's ``exclude_areas`` and the
next crossing inside it raises no alert while one outside (or without a point) does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from argus.domain.events import Envelope, EventSource, LineCrossed
from tests.integration.api_support import STORES, Api, api, eventually
from tests.integration.test_api_alerts import add_rule, step

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


def _crossing(track: int, confidence: float, point: tuple[float, float] | None = None) -> Envelope:
    event = LineCrossed("door", track, 0, "person", "in", 1.0, confidence=confidence)
    moment = datetime(2026, 3, 1, 12, 0, track, tzinfo=UTC)
    envelope = Envelope.wrap(event, EventSource("edge-1", "cam-a"), moment)
    if point is None:
        return envelope
    return replace(envelope, payload={**envelope.payload, "point": list(point)})


async def _reviewed(app: Api, confidences: list[float], cut: float) -> None:
    for track, confidence in enumerate(confidences):
        await app.bus.publish(app.plane.events_subject, _crossing(track, confidence))

    async def raised() -> bool:
        body = (await app.client.get("/api/v1/alerts")).json()
        return bool(body["total"] >= len(confidences))

    await eventually(raised, f"{len(confidences)} alerts")
    alerts = (await app.client.get("/api/v1/alerts", params={"limit": 100})).json()["items"]
    for alert in alerts:
        event = (await app.client.get(f"/api/v1/events/{alert['event_id']}")).json()
        assert (await step(app, alert["id"], "acknowledge")).status_code == 200
        action = "dismiss" if event["payload"]["confidence"] < cut else "confirm"
        assert (await step(app, alert["id"], action)).status_code == 200


async def test_a_threshold_suggestion_is_computed_applied_and_audited(app: Api) -> None:
    rule = await add_rule(app)
    await _reviewed(app, [0.31, 0.33, 0.35, 0.38, 0.4, 0.85, 0.9, 0.95], cut=0.5)

    assert (await app.client.get("/api/v1/suggestions")).json() == {"items": []}
    refreshed = await app.client.post("/api/v1/suggestions/refresh")
    assert refreshed.status_code == 200, refreshed.text
    found: dict[str, dict[str, Any]] = {s["kind"]: s for s in refreshed.json()["items"]}
    assert "exclusion_zone" not in found
    threshold = found["threshold"]
    assert (threshold["rule_id"], threshold["state"], threshold["applicable"]) == (
        rule["id"],
        "open",
        True,
    )
    assert threshold["change"] == {"min_confidence": 0.41}
    assert threshold["effect"] == {
        "false_positives": 5,
        "false_positive_total": 5,
        "confirmed_lost": 0,
        "confirmed_total": 3,
    }

    applied = await app.client.post(f"/api/v1/suggestions/{threshold['id']}/apply")
    assert applied.status_code == 200, applied.text
    assert applied.json()["state"] == "applied"
    stored = (await app.client.get(f"/api/v1/rules/{rule['id']}")).json()
    assert stored["min_confidence"] == 0.41
    again = await app.client.post(f"/api/v1/suggestions/{threshold['id']}/apply")
    assert again.status_code == 409
    listed = (await app.client.get("/api/v1/suggestions", params={"state": "applied"})).json()
    assert [s["id"] for s in listed["items"]] == [threshold["id"]]

    audit = (await app.client.get("/api/v1/audit", params={"action": "suggestion."})).json()
    assert {r["action"] for r in audit["items"]} >= {"suggestion.refresh", "suggestion.apply"}


async def test_dismissing_keeps_it_dismissed_and_unknown_ids_are_404(app: Api) -> None:
    await add_rule(app)
    await _reviewed(app, [0.3, 0.32, 0.34, 0.9], cut=0.5)
    [suggestion] = (await app.client.post("/api/v1/suggestions/refresh")).json()["items"]
    dismissed = await app.client.post(
        f"/api/v1/suggestions/{suggestion['id']}/dismiss", json={"note": "known birds"}
    )
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["state"] == "dismissed"
    [again] = (await app.client.post("/api/v1/suggestions/refresh")).json()["items"]
    assert (again["id"], again["state"]) == (suggestion["id"], "dismissed")
    missing = await app.client.post("/api/v1/suggestions/nope/dismiss", json={})
    assert missing.status_code == 404
    bad = await app.client.post(
        f"/api/v1/suggestions/{suggestion['id']}/dismiss", json={"note": "x" * 501}
    )
    assert bad.status_code == 422


async def test_an_exclusion_zone_is_applied_and_silences_crossings_in_it(app: Api) -> None:
    # Five false positives at the top left (as confident as the true ones), three
    # confirmed crossings at the bottom: only an area tells them apart.
    points = [(0.05 + 0.01 * i, 0.1) for i in range(5)] + [(0.5, 0.9)] * 3
    rule = await add_rule(app, name="Door, by area")
    before = (await app.client.get("/api/v1/alerts")).json()["total"]
    for track, point in enumerate(points, start=20):
        await app.bus.publish(app.plane.events_subject, _crossing(track, 0.9, point))

    async def raised() -> bool:
        return bool((await app.client.get("/api/v1/alerts")).json()["total"] >= before + 8)

    await eventually(raised, "8 more alerts")
    alerts = (await app.client.get("/api/v1/alerts", params={"limit": 100})).json()["items"]
    for alert in (a for a in alerts if a["rule_id"] == rule["id"]):
        event = (await app.client.get(f"/api/v1/events/{alert['event_id']}")).json()
        assert (await step(app, alert["id"], "acknowledge")).status_code == 200
        action = "dismiss" if event["payload"]["point"][1] < 0.5 else "confirm"
        assert (await step(app, alert["id"], action)).status_code == 200

    items = (await app.client.post("/api/v1/suggestions/refresh")).json()["items"]
    zone = next(s for s in items if s["kind"] == "exclusion_zone" and s["rule_id"] == rule["id"])
    assert zone["applicable"] is True
    assert zone["effect"]["false_positives"] == 5
    assert zone["effect"]["confirmed_lost"] == 0
    applied = await app.client.post(f"/api/v1/suggestions/{zone['id']}/apply")
    assert applied.status_code == 200, applied.text
    stored = (await app.client.get(f"/api/v1/rules/{rule['id']}")).json()
    assert stored["exclude_areas"] == [[list(p) for p in zone["change"]["polygon"]]]

    total = (await app.client.get("/api/v1/alerts")).json()["total"]
    await app.bus.publish(app.plane.events_subject, _crossing(40, 0.9, (0.07, 0.1)))  # inside
    await app.bus.publish(app.plane.events_subject, _crossing(41, 0.9, (0.5, 0.9)))  # outside
    await app.bus.publish(app.plane.events_subject, _crossing(42, 0.9))  # no point

    async def two_more() -> bool:
        return bool((await app.client.get("/api/v1/alerts")).json()["total"] >= total + 2)

    await eventually(two_more, "two alerts: outside and without a point")
    newest = (await app.client.get("/api/v1/alerts", params={"limit": 100})).json()["items"]
    tracks = {a["track_id"] for a in newest}
    assert {41, 42} <= tracks
    assert 40 not in tracks
    audit = (await app.client.get("/api/v1/audit", params={"action": "rule.update"})).json()
    assert audit["items"]


async def test_rules_take_exclusion_areas_over_the_api(app: Api) -> None:
    area = [[0.0, 0.0], [0.3, 0.0], [0.3, 0.2]]
    rule = await add_rule(app, exclude_areas=[area])
    assert rule["exclude_areas"] == [area]
    changed = await app.client.patch(f"/api/v1/rules/{rule['id']}", json={"exclude_areas": []})
    assert changed.status_code == 200, changed.text
    assert changed.json()["exclude_areas"] == []
    for bad in ([[[0, 0], [1, 0]]], [[[0, 0], [1, 0], [2, 1]]], [[[0, 0], [0.5, 0.5], [1, 1]]]):
        refused = await app.client.post(
            "/api/v1/rules", json={"name": "x", "camera_id": "cam-a", "exclude_areas": bad}
        )
        assert refused.status_code == 422, refused.text
    nulled = await app.client.patch(f"/api/v1/rules/{rule['id']}", json={"exclude_areas": None})
    assert nulled.status_code == 422
