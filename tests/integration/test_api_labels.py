"""The labelling API (``/api/v1/examples/{id}/claim|release|labels|review``, ``/examples/next``).

Over the real app on memory and SQLite: an operator claims and labels, a
second operator cannot take the held example, submits, the labeller cannot
review it, another user does; a viewer may not label; a camera-scoped operator
sees no examples of other cameras; bad boxes answer 422 and stale versions 409.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from argus.domain.hard_examples import ExampleSource, HardExample, LabelBox
from argus.ports.audit import AuditFilter
from tests.auth_support import admin_token, bearer, make_user
from tests.integration.api_support import STORES, Api, api

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BOX = {"x1": 10, "y1": 20, "x2": 110.5, "y2": 220, "class_name": "person"}


def _example(example_id: str, camera_id: str) -> HardExample:
    return HardExample(
        id=example_id,
        camera_id=camera_id,
        source=ExampleSource.UNCERTAIN,
        captured_at=AT,
        created_at=AT,
        frame_evidence_id=f"ev-{example_id}",
        width=640,
        height=480,
        model_ref="yolov7-tiny@1",
        boxes=(LabelBox(1, 1, 40, 80, "person", 0.35),),
        source_key=example_id,
    )


@dataclass
class World:
    app: Api
    ana: dict[str, str]
    ben: dict[str, str]
    viewer: dict[str, str]
    scoped: dict[str, str]


@pytest.fixture(params=STORES)
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    async with api(request.param, tmp_path) as app:
        admin = await admin_token(app.client)
        examples = app.plane.database.hard_examples
        for example_id, camera in (("e1", "cam-a"), ("e2", "cam-a"), ("e3", "cam-b")):
            assert await examples.add(_example(example_id, camera))
        yield World(
            app,
            bearer(await make_user(app.client, admin, "ana", "operator")),
            bearer(await make_user(app.client, admin, "ben", "operator")),
            bearer(await make_user(app.client, admin, "vic", "viewer")),
            bearer(await make_user(app.client, admin, "sam", "operator", ["cam-a"])),
        )


async def test_claim_label_submit_and_review_by_someone_else(world: World) -> None:
    client = world.app.client
    claimed = await client.post("/api/v1/examples/e1/claim", headers=world.ana)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["assignee"] == "user:ana"
    taken = await client.post("/api/v1/examples/e1/claim", headers=world.ben)
    assert taken.status_code == 409
    assert "held by user:ana" in taken.json()["detail"]
    body = {"labels": [BOX], "expected_version": claimed.json()["version"]}
    draft = await client.put("/api/v1/examples/e1/labels", json=body, headers=world.ana)
    assert draft.status_code == 200, draft.text
    assert draft.json()["labels"] == [{**BOX, "score": None}]
    assert draft.json()["state"] == "queued"
    stale = await client.put("/api/v1/examples/e1/labels", json=body, headers=world.ana)
    assert stale.status_code == 409
    submit = {"labels": [BOX], "submit": True, "expected_version": draft.json()["version"]}
    done = await client.put("/api/v1/examples/e1/labels", json=submit, headers=world.ana)
    assert done.json()["state"] == "labelled"
    assert done.json()["labelled_by"] == "user:ana"
    own = await client.post("/api/v1/examples/e1/review", json={"accept": True}, headers=world.ana)
    assert own.status_code == 403
    accepted = await client.post(
        "/api/v1/examples/e1/review", json={"accept": True, "note": "fine"}, headers=world.ben
    )
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["state"], accepted.json()["reviewed_by"]) == ("accepted", "user:ben")
    audit = await world.app.plane.database.audit.list(
        limit=20, where=AuditFilter(target="example:e1")
    )
    assert [r.entry.action for r in reversed(audit.items)] == [
        "example.claim",
        "example.label",
        "example.label",
        "example.review",
    ]


async def test_next_release_and_nothing_here(world: World) -> None:
    client = world.app.client
    first = await client.post("/api/v1/examples/next", headers=world.ana)
    assert first.status_code == 200, first.text
    picked = first.json()["example"]["id"]
    assert picked in {"e1", "e2", "e3"}
    released = await client.post(f"/api/v1/examples/{picked}/release", headers=world.ana)
    assert released.json()["assignee"] is None
    again = await client.post(f"/api/v1/examples/{picked}/release", headers=world.ana)
    assert again.status_code == 409
    empty = {"labels": [], "empty": True, "submit": True}
    for example_id in ("e1", "e2", "e3"):
        answer = await client.put(
            f"/api/v1/examples/{example_id}/labels", json=empty, headers=world.ben
        )
        assert answer.json()["empty"] is True
    none_left = await client.post("/api/v1/examples/next", headers=world.ana)
    assert none_left.json() == {"example": None}


@pytest.mark.parametrize(
    ("labels", "empty"),
    [
        pytest.param([{**BOX, "x2": 5}], False, id="edges the wrong way round"),
        pytest.param([{**BOX, "x2": 700}], False, id="outside the frame"),
        pytest.param([BOX], True, id="boxes with nothing here"),
        pytest.param([{**BOX, "class_name": ""}], False, id="no class"),
        pytest.param([BOX] * 301, False, id="too many boxes"),
    ],
)
async def test_bad_labels_are_refused(world: World, labels: list[object], empty: bool) -> None:
    answer = await world.app.client.put(
        "/api/v1/examples/e2/labels", json={"labels": labels, "empty": empty}, headers=world.ana
    )
    assert answer.status_code == 422, answer.text


async def test_viewers_may_not_label_and_scope_hides_other_cameras(world: World) -> None:
    client = world.app.client
    viewer = await client.post("/api/v1/examples/e1/claim", headers=world.viewer)
    assert viewer.status_code == 403
    hidden = await client.post("/api/v1/examples/e3/claim", headers=world.scoped)
    assert hidden.status_code == 404
    outside = await client.post(
        "/api/v1/examples/next", params={"camera_id": "cam-b"}, headers=world.scoped
    )
    assert outside.status_code == 403
    mine = await client.post("/api/v1/examples/next", headers=world.scoped)
    assert mine.json()["example"]["camera_id"] == "cam-a"
    unknown = await client.post("/api/v1/examples/nope/claim", headers=world.ana)
    assert unknown.status_code == 404
