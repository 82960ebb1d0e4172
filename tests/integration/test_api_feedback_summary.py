"""``GET /feedback/summary``: verdicts per rule and camera, on the memory and SQLite stores.

Who may call it is in the authorisation matrix (``test_authz_matrix``, viewers
and up); here: the counts, shares and reasons of real dismissals and
confirmations made over the API, the time range, and bad input (422).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.api_support import STORES, Api, api
from tests.integration.test_api_alerts import add_rule, raise_alerts, step

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SUMMARY = "/api/v1/feedback/summary"


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def _verdict(app: Api, alert_id: str, action: str, note: str = "") -> None:
    assert (await step(app, alert_id, "acknowledge")).status_code == 200
    done = await step(app, alert_id, action, note=note)
    assert done.status_code == 200, done.text


async def test_verdicts_are_counted_per_rule_and_camera_with_share_and_reasons(app: Api) -> None:
    door = await add_rule(app)
    yard = await add_rule(app, name="Yard", camera_id="cam-b")
    a1, a2, a3, b1, b2 = await raise_alerts(
        app, ("cam-a", 1), ("cam-a", 2), ("cam-a", 3), ("cam-b", 4), ("cam-b", 5)
    )
    await _verdict(app, a1["id"], "dismiss", "a cleaner")
    await _verdict(app, a2["id"], "dismiss", "  a   cleaner ")
    await _verdict(app, a3["id"], "confirm")
    await _verdict(app, b1["id"], "dismiss")
    # b2 is still waiting: no verdict, not counted.
    del b2

    response = await app.client.get(SUMMARY)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["false_positives"], body["confirmed"], body["truncated"]) == (3, 1, False)
    rules = {g["key"]: g for g in body["by_rule"]}
    assert [g["key"] for g in body["by_rule"]] == [door["id"], yard["id"]]
    assert rules[door["id"]] == {
        "key": door["id"],
        "name": "Door at night",
        "false_positives": 2,
        "confirmed": 1,
        "reviewed": 3,
        "share": 0.6667,
        "reasons": [{"reason": "a cleaner", "count": 2}],
    }
    assert (rules[yard["id"]]["share"], rules[yard["id"]]["reasons"]) == (
        1.0,
        [{"reason": "", "count": 1}],
    )
    cameras = {g["key"]: (g["false_positives"], g["confirmed"]) for g in body["by_camera"]}
    assert cameras == {"cam-a": (2, 1), "cam-b": (1, 0)}


async def test_the_time_range_narrows_the_count(app: Api) -> None:
    await add_rule(app)
    [alert] = await raise_alerts(app, ("cam-a", 1))
    await _verdict(app, alert["id"], "dismiss")
    created = alert["created_at"]

    async def dismissed(**params: Any) -> int:
        response = await app.client.get(SUMMARY, params=params)
        assert response.status_code == 200, response.text
        count: int = response.json()["false_positives"]
        return count

    assert await dismissed(since=created) == 1
    assert await dismissed(until=created) == 0
    assert await dismissed(since="2000-01-01T00:00:00Z", until="2000-01-02T00:00:00Z") == 0


@pytest.mark.parametrize(
    "params",
    [
        {"since": "yesterday"},
        {"since": "2026-01-01T00:00:00"},  # no offset
        {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
        {"since": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    ],
    ids=["not-a-time", "naive", "until-before-since", "empty-range"],
)
async def test_bad_ranges_are_refused_with_422(app: Api, params: dict[str, str]) -> None:
    response = await app.client.get(SUMMARY, params=params)
    assert response.status_code == 422, response.text
