"""A camera-scoped operator cannot link, or probe for, another camera's alert (issue 15, #11).

The attack: an operator limited to ``cam-a`` opens or edits an incident with
an alert id of ``cam-b``. Before the fix the link was stored (201), and the
201/422 answers told apart ids that exist from ids that do not. Now such an
alert answers exactly like an unknown id: the same status and the same body
but for the id itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.auth_support import bearer, make_user
from tests.integration.api_support import STORES, Api, api, crossing, eventually

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

RULE: dict[str, Any] = {
    "name": "Door",
    "event_types": ["line.crossed"],
    "classes": ["person"],
    "line": "door",
    "direction": "in",
}
UNKNOWN = "01UNKNOWNALERTID0000000000"


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def _alert_of(app: Api, camera_id: str) -> str:
    """Raise one alert on ``camera_id`` (as the admin) and return its id."""
    made = await app.client.post("/api/v1/rules", json={**RULE, "camera_id": camera_id})
    assert made.status_code == 201, made.text
    await app.bus.publish(app.plane.events_subject, crossing(camera_id))

    async def raised() -> bool:
        page = await app.client.get("/api/v1/alerts", params={"camera_id": camera_id})
        return bool(page.json()["total"] == 1)

    await eventually(raised, f"an alert on {camera_id}")
    page = (await app.client.get("/api/v1/alerts", params={"camera_id": camera_id})).json()
    return str(page["items"][0]["id"])


def _shape(answer: httpx.Response, alert_id: str) -> tuple[int, str]:
    """Status and body with the alert id blanked out: what the caller can tell apart."""
    return answer.status_code, answer.text.replace(alert_id, "<id>")


async def test_another_cameras_alert_answers_like_an_unknown_one(app: Api) -> None:
    own = await _alert_of(app, "cam-a")
    foreign = await _alert_of(app, "cam-b")
    admin = app.client.headers["Authorization"].removeprefix("Bearer ")
    operator = bearer(await make_user(app.client, admin, "op-a", "operator", ["cam-a"]))

    async def open_incident(alert_id: str) -> httpx.Response:
        body = {"title": "Fence", "camera_id": "cam-a", "alert_ids": [alert_id]}
        return await app.client.post("/api/v1/incidents", json=body, headers=operator)

    linked_foreign = await open_incident(foreign)
    linked_unknown = await open_incident(UNKNOWN)
    assert linked_unknown.status_code == 422, linked_unknown.text
    assert _shape(linked_foreign, foreign) == _shape(linked_unknown, UNKNOWN)

    created = await open_incident(own)
    assert created.status_code == 201, created.text
    base = f"/api/v1/incidents/{created.json()['id']}"

    async def relink(alert_id: str) -> httpx.Response:
        body = {"alert_ids": [own, alert_id]}
        return await app.client.patch(base, json=body, headers=operator)

    patched_foreign = await relink(foreign)
    patched_unknown = await relink(UNKNOWN)
    assert patched_unknown.status_code == 422, patched_unknown.text
    assert _shape(patched_foreign, foreign) == _shape(patched_unknown, UNKNOWN)
    assert (await app.client.get(base, headers=operator)).json()["alert_ids"] == [own]

    # An unscoped admin may link both; the operator may still edit the incident
    # (its camera is in scope) and keeps the link it could not have made itself.
    assert (await app.client.patch(base, json={"alert_ids": [own, foreign]})).status_code == 200
    retitled = await app.client.patch(base, json={"title": "Fence, north"}, headers=operator)
    assert retitled.status_code == 200, retitled.text
    assert retitled.json()["alert_ids"] == [own, foreign]
