"""``/api/v1/workstations/policy`` over the REST API: defaults, stored values, audit, bad input.

Memory and SQLite stores; the defaults come from ``ARGUS_WORKSTATION_*``
settings given to the app. That a stored policy decides the next frame of a
live session is in ``test_verify_policy_live``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.auth_support import settings_for
from tests.integration.api_support import STORES, Api, api

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

POLICY = "/api/v1/workstations/policy"
SETTINGS = {"workstation_match_threshold": 0.55, "workstation_wrong_user_frames": 4}


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path, settings=settings_for(tmp_path, **SETTINGS)) as running:
        yield running


async def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_settings_are_the_defaults_until_a_policy_is_stored(app: Api) -> None:
    policy = await ok(await app.client.get(POLICY))
    assert policy["verification"]["match_threshold"] == 0.55
    assert policy["verification"]["wrong_user_frames"] == 4
    assert policy["verification"]["liveness_threshold"] == 0.5  # no setting: the domain's
    assert policy["phone"] == {"min_confidence": 0.4, "face_reach": 3.0, "window": 5, "min_hits": 3}
    assert policy["defaults"] == {"verification": policy["verification"], "phone": policy["phone"]}
    sources = policy["sources"]
    assert set(sources["verification"].values()) == set(sources["phone"].values()) == {"default"}


async def test_a_stored_policy_reports_its_sources_and_is_audited(app: Api) -> None:
    body = {"verification": {"match_threshold": 0.45, "spoof_windows": 3}, "phone": {"window": 8}}
    stored = await ok(await app.client.put(POLICY, json=body))
    assert stored["verification"]["match_threshold"] == 0.45
    assert stored["verification"]["spoof_windows"] == 3
    assert stored["verification"]["wrong_user_frames"] == 4  # left out: the setting
    assert stored["phone"]["window"] == 8
    assert stored["defaults"]["verification"]["match_threshold"] == 0.55
    assert stored["sources"]["verification"]["match_threshold"] == "stored"
    assert stored["sources"]["verification"]["wrong_user_frames"] == "default"
    assert stored["sources"]["phone"]["window"] == "stored"
    assert await ok(await app.client.get(POLICY)) == stored

    restored = await ok(await app.client.put(POLICY, json={}))
    assert restored["verification"] == restored["defaults"]["verification"]
    assert set(restored["sources"]["verification"].values()) == {"default"}

    audit = await ok(
        await app.client.get("/api/v1/audit", params={"action": "workstation.policy."})
    )
    entries = sorted(audit["items"], key=lambda entry: entry["seq"])
    assert [e["action"] for e in entries] == ["workstation.policy.update"] * 2
    first, second = (e["details"] for e in entries)
    assert entries[0]["actor"] == "user:admin"
    assert entries[0]["target"] == "settings:workstation_policy"
    assert first["before"]["verification"]["match_threshold"] == 0.55
    assert first["after"]["verification"]["match_threshold"] == 0.45
    assert first["stored"] == body
    assert second["before"] == first["after"]
    assert second["after"]["verification"]["match_threshold"] == 0.55
    assert second["stored"] == {"verification": {}, "phone": {}}


BAD: list[tuple[Any, str]] = [
    ({"verification": {"match_threshold": 0}}, "match_threshold"),
    ({"verification": {"match_threshold": 2.5}}, "match_threshold"),
    ({"verification": {"liveness_threshold": 1}}, "liveness_threshold"),
    ({"verification": {"no_face_seconds": -1}}, "no_face_seconds"),
    ({"verification": {"wrong_user_frames": 0}}, "wrong_user_frames"),
    ({"verification": {"wrong_user_frames": 1.5}}, "wrong_user_frames"),
    ({"verification": {"spoof_windows": "2"}}, "spoof_windows"),
    ({"verification": {"violations_to_block": True}}, "violations_to_block"),
    ({"verification": {"violation_seconds": 0}}, "violation_seconds"),
    ({"verification": {"phone_class": "remote"}}, "phone_class"),
    ({"phone": {"phone_class": "remote"}}, "phone_class"),
    ({"phone": {"min_confidence": 1.5}}, "min_confidence"),
    ({"phone": {"window": 101}}, "window"),
    ({"phone": {"window": 2, "min_hits": 3}}, "min_hits <= window"),
    ({"thresholds": {}}, "thresholds"),
    ({"verification": []}, "verification"),
    ([], "body"),
]
"""Bodies refused with 422 and a word of the answer that says where."""


async def test_bad_policies_are_refused_and_nothing_changes(tmp_path: Path) -> None:
    async with api("memory", tmp_path, settings=settings_for(tmp_path, **SETTINGS)) as app:
        before = await ok(await app.client.get(POLICY))
        for body, where in BAD:
            answer = await app.client.put(POLICY, json=body)
            assert answer.status_code == 422, (body, answer.text)
            assert where in answer.text, (body, answer.text)
        answer = await app.client.put(
            POLICY, content=b"{not json", headers={"content-type": "application/json"}
        )
        assert answer.status_code == 422, answer.text
        assert await ok(await app.client.get(POLICY)) == before
        audit = await app.client.get("/api/v1/audit", params={"action": "workstation.policy."})
        assert (await ok(audit))["items"] == []


async def test_the_policy_outlives_a_restart(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, **SETTINGS)
    async with api("sqlite", tmp_path, settings=settings) as first:
        body = {"verification": {"liveness_threshold": 0.7}, "phone": {"min_hits": 2}}
        stored = await ok(await first.client.put(POLICY, json=body))
    async with api("sqlite", tmp_path, settings=settings) as second:
        assert await ok(await second.client.get(POLICY)) == stored
