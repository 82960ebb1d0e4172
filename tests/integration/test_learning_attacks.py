"""Attacks on what issue 21 added to the API surface, and what the server answers to each.

* Camera scope: an operator of camera A reads, claims, labels or reviews hard
  examples of camera B, reads their frames, or counts them: each answers as an
  unknown example would, and lists and counts hold camera A only.
* Roles: a viewer may not claim or label; an operator may not export datasets.
* Label payloads: NaN, negative or out-of-frame coordinates and more boxes than
  an example keeps are refused (422), and nothing changes.
* Races: of several people claiming one example, or reviewing one label, at
  the same time, exactly one wins; a labeller never reviews their own label.
* Dataset export: class names are free text; the YOLO ``data.yaml`` stays one
  YAML document with exactly the export's names (no injected keys, no
  characters YAML refuses), and a scoped administrator's export holds their
  cameras only. An export holds a bounded number of frame bytes in memory and
  one runs at a time (a second one meanwhile is refused).
* Model registry and trials: hostile ``name@version`` references (``../``,
  absolute paths, ``.onnx`` files) are refused; assignment, promotion, rollback
  and shadow runs stay within the caller's cameras and role; evaluations of
  every camera are hidden from a scoped user.
* Search in words: a scoped user's question never resolves another camera's
  name, zone or line; absurd time phrases are not server errors; events erased
  for privacy are no longer found.

Real app (memory and SQLite stores), real evidence vault, real MiniLM encoder
for search; no mocks.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from argus.adapters.db.memory import MemoryDatabase
from argus.bootstrap.datasets import EXPORT_MAX_PIXELS, evidence_frames
from argus.bootstrap.evidence import open_evidence_service
from argus.bootstrap.models import image_decoder
from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.cameras import Camera
from argus.domain.errors import ConflictError, ValidationError
from argus.domain.hard_examples import ExampleSource, ExampleState, HardExample, LabelBox
from argus.domain.model_trials import EvaluationRun, EvaluationState
from argus.services.dataset_export import DatasetExporter, ExportRequest
from argus.services.model_trials import MAX_PENDING_EVALUATIONS, EvaluationRequest, ModelTrials
from argus.services.shadow_runs import ShadowPlanBook
from tests.auth_support import make_user, settings_for
from tests.integration.api_support import STORES, Api, api, eventually
from tests.integration.test_api_datasets import frame
from tests.integration.test_event_search import add_site, history
from tests.integration.test_repositories_contract import T0

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

V1 = "/api/v1"


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


async def _user(app: Api, name: str, role: str, cameras: list[str] | None = None) -> dict[str, str]:
    admin = app.client.headers["Authorization"].removeprefix("Bearer ")
    token = await make_user(app.client, admin, name, role, cameras)
    return {"Authorization": f"Bearer {token}"}


async def _seed(
    app: Api,
    directory: Path,
    specs: Sequence[tuple[str, str, ExampleState, tuple[LabelBox, ...]]],
) -> None:
    """Hard examples ``(id, camera, state, labels)`` with real sealed frames."""
    database = app.plane.database
    evidence = await open_evidence_service(
        settings_for(directory), database.evidence, database.audit, secret=app.plane.secret
    )
    try:
        for n, (example_id, camera_id, state, labels) in enumerate(specs):
            item = await evidence.store(frame(n), "snapshot", "image/jpeg", camera_id=camera_id)
            at = T0 + timedelta(hours=n)
            labelled = state in (ExampleState.LABELLED, ExampleState.ACCEPTED)
            await database.hard_examples.add(
                HardExample(
                    id=example_id,
                    camera_id=camera_id,
                    source=ExampleSource.UNCERTAIN,
                    captured_at=at,
                    created_at=at,
                    frame_evidence_id=item.id,
                    width=160,
                    height=120,
                    model_ref="yolov7-tiny@1.0.0",
                    source_key=example_id,
                    state=state,
                    labels=labels,
                    labelled_by="user:ann" if labelled else None,
                    labelled_at=at if labelled else None,
                )
            )
    finally:
        await evidence.close()


PERSON = (LabelBox(10, 10, 60, 100, "person"),)
WORLD: list[tuple[str, str, ExampleState, tuple[LabelBox, ...]]] = [
    ("a-queued", "cam-a", ExampleState.QUEUED, ()),
    ("a-labelled", "cam-a", ExampleState.LABELLED, PERSON),
    ("b-queued", "cam-b", ExampleState.QUEUED, ()),
    ("b-labelled", "cam-b", ExampleState.LABELLED, PERSON),
    ("b-accepted", "cam-b", ExampleState.ACCEPTED, PERSON),
]


async def _example(app: Api, example_id: str) -> dict[str, Any]:
    answer = await app.client.get(f"{V1}/examples/{example_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_another_cameras_examples_answer_like_unknown_ones(app: Api, tmp_path: Path) -> None:
    await _seed(app, tmp_path, WORLD)
    alice = await _user(app, "alice", "operator", ["cam-a"])
    for target in ("b-queued", "no-such-example"):
        for method, path, body in (
            ("GET", f"{V1}/examples/{target}", None),
            ("GET", f"{V1}/examples/{target}/frame", None),
            ("POST", f"{V1}/examples/{target}/claim", None),
            ("POST", f"{V1}/examples/{target}/release", None),
            ("PUT", f"{V1}/examples/{target}/labels", {"labels": [], "empty": True}),
        ):
            answer = await app.client.request(method, path, json=body, headers=alice)
            assert answer.status_code == 404, (method, path, answer.text)
    review = {"accept": True}
    for target in ("b-labelled", "no-such-example"):
        answer = await app.client.post(f"{V1}/examples/{target}/review", json=review, headers=alice)
        assert answer.status_code == 404, (target, answer.text)
    assert (await _example(app, "b-queued"))["state"] == "queued"
    assert (await _example(app, "b-labelled"))["state"] == "labelled"

    listed = await app.client.get(f"{V1}/examples", headers=alice)
    assert listed.status_code == 200, listed.text
    assert {e["camera_id"] for e in listed.json()["items"]} == {"cam-a"}
    assert listed.json()["total"] == 2
    summary = await app.client.get(f"{V1}/examples/summary", headers=alice)
    assert summary.status_code == 200, summary.text
    assert "cam-b" not in json.dumps(summary.json())
    for path, params in (
        (f"{V1}/examples", {"camera_id": "cam-b"}),
        (f"{V1}/examples/summary", {"camera_id": "cam-b"}),
    ):
        answer = await app.client.get(path, params=params, headers=alice)
        assert answer.status_code == 403, (path, answer.text)
    # The next example to label is always one of camera A's.
    for _ in range(3):
        nxt = await app.client.post(f"{V1}/examples/next", headers=alice)
        assert nxt.status_code == 200, nxt.text
        example = nxt.json()["example"]
        assert example is None or example["camera_id"] == "cam-a", example
    other = await app.client.post(
        f"{V1}/examples/next", params={"camera_id": "cam-b"}, headers=alice
    )
    assert other.status_code == 403, other.text


async def test_roles_bound_labelling(app: Api, tmp_path: Path) -> None:
    await _seed(app, tmp_path, WORLD)
    vera = await _user(app, "vera", "viewer")
    otto = await _user(app, "otto", "operator")
    for method, path, body in (
        ("POST", f"{V1}/examples/a-queued/claim", None),
        ("POST", f"{V1}/examples/next", None),
        ("PUT", f"{V1}/examples/a-queued/labels", {"labels": [], "empty": True}),
        ("POST", f"{V1}/examples/a-labelled/review", {"accept": True}),
    ):
        answer = await app.client.request(method, path, json=body, headers=vera)
        assert answer.status_code == 403, (path, answer.text)
    for path in ("/datasets/preview", "/datasets/export"):
        answer = await app.client.post(f"{V1}{path}", json={}, headers=otto)
        assert answer.status_code == 403, (path, answer.text)
    anonymous = await app.client.get(f"{V1}/examples/a-queued/frame", headers={"Authorization": ""})
    assert anonymous.status_code == 401, anonymous.text
    assert (await _example(app, "a-queued"))["state"] == "queued"


def _box(**changes: Any) -> dict[str, Any]:
    return {"x1": 10, "y1": 10, "x2": 50, "y2": 50, "class_name": "person"} | changes


@pytest.mark.parametrize(
    "labels",
    [
        [_box(x1="NaN")],
        [_box(x2="Infinity")],
        [_box(x1=-5)],
        [_box(x2=161)],
        [_box(y2=10)],
        [_box(class_name="")],
        [_box(class_name="x" * 65)],
        [_box()] * 301,
        [_box()] * 5000,
    ],
    ids=["nan", "inf", "negative", "outside", "flat", "no-class", "long-class", "301", "5000"],
)
async def test_a_malformed_label_is_refused(
    app: Api, tmp_path: Path, labels: list[dict[str, Any]]
) -> None:
    await _seed(app, tmp_path, WORLD[:1])
    answer = await app.client.put(
        f"{V1}/examples/a-queued/labels", json={"labels": labels, "submit": True}
    )
    assert answer.status_code == 422, answer.text
    after = await _example(app, "a-queued")
    assert (after["state"], after["labels"]) == ("queued", [])


async def test_two_people_claiming_at_once_get_one_hold(app: Api, tmp_path: Path) -> None:
    await _seed(app, tmp_path, WORLD[:1])
    people = [await _user(app, f"op{n}", "operator") for n in range(4)]
    answers = await asyncio.gather(
        *(app.client.post(f"{V1}/examples/a-queued/claim", headers=who) for who in people)
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409, 409, 409], [a.text for a in answers]
    holder = (await _example(app, "a-queued"))["assignee"]
    [winner] = [a.json()["assignee"] for a in answers if a.status_code == 200]
    assert holder == winner


async def test_the_labeller_cannot_review_their_own_label(app: Api, tmp_path: Path) -> None:
    await _seed(app, tmp_path, WORLD[:1])
    otto = await _user(app, "otto", "operator")
    saved = await app.client.put(
        f"{V1}/examples/a-queued/labels", json={"labels": [_box()], "submit": True}, headers=otto
    )
    assert saved.status_code == 200, saved.text
    review = await app.client.post(
        f"{V1}/examples/a-queued/review", json={"accept": True}, headers=otto
    )
    assert review.status_code == 403, review.text
    assert (await _example(app, "a-queued"))["state"] == "labelled"


HOSTILE_CLASSES = [
    "person\nnc: 999",
    'car"]\nval: /etc',
    "truck: {x: 1}",
    "bus\u0085x",
    "van\u2028y",
    "odd\x7fname",
    "<script>alert(1)</script>",
]


async def test_hostile_class_names_stay_names_in_the_export(tmp_path: Path) -> None:
    async with api("memory", tmp_path) as app:
        specs = [
            (f"ex{n}", "cam-a", ExampleState.ACCEPTED, (LabelBox(10, 10, 60, 100, name),))
            for n, name in enumerate(HOSTILE_CLASSES)
        ]
        await _seed(app, tmp_path, specs)
        answer = await app.client.post(
            f"{V1}/datasets/export",
            json={"licence": "a: b\nnames: [x]", "camera_licences": {"cam-a": "'\n- x"}},
        )
        assert answer.status_code == 200, answer.text
        with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
            names = archive.namelist()
            document = yaml.safe_load(archive.read("data.yaml"))
        assert all(not n.startswith("/") and ".." not in n.split("/") for n in names)
        assert set(document) == {"path", "train", "val", "nc", "names"}
        assert document["names"] == sorted(HOSTILE_CLASSES)
        assert document["nc"] == len(HOSTILE_CLASSES)


async def test_a_scoped_administrator_exports_their_cameras_only(tmp_path: Path) -> None:
    async with api("memory", tmp_path) as app:
        await _seed(app, tmp_path, [*WORLD, ("a-accepted", "cam-a", ExampleState.ACCEPTED, PERSON)])
        carol = await _user(app, "carol", "admin", ["cam-a"])
        refused = await app.client.post(
            f"{V1}/datasets/preview", json={"camera_ids": ["cam-a", "cam-b"]}, headers=carol
        )
        assert refused.status_code == 403, refused.text
        preview = await app.client.post(
            f"{V1}/datasets/preview", json={"include_unreviewed": True}, headers=carol
        )
        assert preview.status_code == 200, preview.text
        assert preview.json()["cameras"] == {"cam-a": 2}
        answer = await app.client.post(f"{V1}/datasets/export", json={}, headers=carol)
        assert answer.status_code == 200, answer.text
        with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
        assert {i["camera_id"] for i in manifest["images"]} == {"cam-a"}
        assert set(manifest["licences"]) == {"cam-a"}


async def test_search_does_not_name_another_cameras_things(tmp_path: Path) -> None:
    async with api("memory", tmp_path) as app:
        await add_site(app.plane.database)
        street = await _user(app, "sam", "viewer", ["cam-s"])
        answer = await app.client.get(
            f"{V1}/search",
            params={"q": "person loitering in the gate at north gate"},
            headers=street,
        )
        assert answer.status_code == 200, answer.text
        text = answer.text.lower()
        assert "cam-n" not in text, answer.json()
        assert answer.json()["items"] == []


@pytest.mark.parametrize(
    "question",
    ["events in the last 999999999999 days", "in the last 99999999 weeks", "cars on 9999-12-31"],
)
async def test_an_absurd_time_phrase_is_not_a_server_error(tmp_path: Path, question: str) -> None:
    async with api("memory", tmp_path) as app:
        answer = await app.client.get(f"{V1}/search", params={"q": question})
        assert answer.status_code in (200, 422), answer.text


async def _cameras(app: Api) -> None:
    for camera_id in ("cam-a", "cam-b"):
        await app.plane.database.cameras.add(
            Camera(id=camera_id, name=camera_id.upper(), stream_url="rtsp://10.0.0.9/s")
        )


BOTH = ["cam-a", "cam-b"]


async def test_model_assignment_stays_within_scope_and_role(app: Api) -> None:
    await _cameras(app)
    carol = await _user(app, "carol", "admin", ["cam-a"])
    otto = await _user(app, "otto", "operator")
    vera = await _user(app, "vera", "viewer", ["cam-a"])
    refused: tuple[tuple[dict[str, str], str, str, dict[str, Any] | None], ...] = (
        (carol, "PUT", "/cameras/cam-b/model", {"ref": "yolov7-tiny"}),
        (carol, "POST", "/cameras/cam-b/model/rollback", None),
        (
            carol,
            "POST",
            "/models/promote",
            {"ref": "yolov7-tiny", "camera_ids": ["cam-a", "cam-b"]},
        ),
        (carol, "PUT", "/cameras/cam-b/shadow", {"candidate": "yolov7-tiny"}),
        (carol, "DELETE", "/cameras/cam-b/shadow", None),
        (otto, "PUT", "/cameras/cam-a/model", {"ref": "yolov7-tiny"}),
        (otto, "POST", "/models/promote", {"ref": "yolov7-tiny", "camera_ids": ["cam-a"]}),
        (otto, "POST", "/models/evaluations", {"model": "yolov7-tiny"}),
        (vera, "GET", "/cameras/cam-b/model", None),
        (vera, "GET", "/models/shadow?camera_id=cam-b", None),
    )
    for who, method, path, body in refused:
        answer = await app.client.request(method, f"{V1}{path}", json=body, headers=who)
        assert answer.status_code in (403, 404), (path, answer.status_code, answer.text)
    for camera_id in ("cam-a", "cam-b"):
        camera = await app.plane.database.cameras.get(camera_id)
        assert camera.model == "yolov7-tiny", camera


@pytest.mark.parametrize(
    "ref",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "yolov7-tiny@../../x",
        "yolov7-tiny@1/../../x",
        "a@b@c",
        "x.onnx",
        "../x.onnx",
        "yolov7-tiny@" + "9" * 300,
        "yolo\u0000v7",
    ],
)
async def test_a_hostile_model_reference_is_refused(tmp_path: Path, ref: str) -> None:
    async with api("memory", tmp_path) as app:
        await _cameras(app)
        for method, path, body in (
            ("PUT", "/cameras/cam-a/model", {"ref": ref}),
            ("POST", "/models/promote", {"ref": ref, "camera_ids": ["cam-a"]}),
            ("PUT", "/cameras/cam-a/shadow", {"candidate": ref}),
            ("POST", "/models/evaluations", {"model": ref}),
            ("GET", f"/models/{quote(ref, safe='')}/versions", None),
        ):
            answer = await app.client.request(method, f"{V1}{path}", json=body)
            assert answer.status_code in (404, 422), (path, answer.status_code, answer.text)
        camera = await app.plane.database.cameras.get("cam-a")
        assert camera.model == "yolov7-tiny"


async def test_evaluations_of_every_camera_are_hidden_from_a_scoped_user(tmp_path: Path) -> None:
    async with api("memory", tmp_path) as app:
        await _cameras(app)
        asked = await app.client.post(f"{V1}/models/evaluations", json={"model": "yolov7-tiny"})
        assert asked.status_code == 202, asked.text
        vera = await _user(app, "vera", "viewer", ["cam-a"])
        listed = await app.client.get(f"{V1}/models/evaluations", headers=vera)
        assert listed.status_code == 200, listed.text
        assert asked.json()["id"] not in listed.text
        one = await app.client.get(f"{V1}/models/evaluations/{asked.json()['id']}", headers=vera)
        assert one.status_code == 404, one.text


async def test_queued_evaluations_are_bounded() -> None:
    # Finding P3: 60 requests queued 60 evaluations, each a model run over the whole
    # annotated set. Here nothing drains the queue (the runner is not started).
    trials = ModelTrials(MemoryDatabase(), None, events_subject="events", book=ShadowPlanBook())
    outcomes = await asyncio.gather(
        *(
            trials.request_evaluation(SYSTEM_ACTOR, EvaluationRequest("yolov7-tiny"))
            for _ in range(60)
        ),
        return_exceptions=True,
    )
    accepted = [o for o in outcomes if isinstance(o, EvaluationRun)]
    refused = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(accepted) == MAX_PENDING_EVALUATIONS
    assert len(refused) == 60 - MAX_PENDING_EVALUATIONS
    assert "already waiting or running" in str(refused[0])
    assert await trials.run_pending() == MAX_PENDING_EVALUATIONS  # no tools: each fails fast
    await trials.request_evaluation(SYSTEM_ACTOR, EvaluationRequest("yolov7-tiny"))


async def test_an_evaluation_flood_gets_409_over_http(tmp_path: Path) -> None:
    async with api("memory", tmp_path) as app:
        codes = [
            (
                await app.client.post(f"{V1}/models/evaluations", json={"model": "yolov7-tiny"})
            ).status_code
            for _ in range(60)
        ]
        assert set(codes) <= {202, 409}, codes
        runs = await app.plane.database.model_trials.evaluations(limit=100)
        waiting = [r for r in runs if r.state in (EvaluationState.QUEUED, EvaluationState.RUNNING)]
        assert len(waiting) <= MAX_PENDING_EVALUATIONS


async def test_a_hold_is_not_taken_or_ended_by_another_operator(app: Api, tmp_path: Path) -> None:
    await _seed(app, tmp_path, WORLD[:1])
    first = await _user(app, "op1", "operator")
    second = await _user(app, "op2", "operator")
    held = await app.client.post(f"{V1}/examples/a-queued/claim", headers=first)
    assert held.status_code == 200, held.text
    version = held.json()["version"]
    for method, path, body in (
        ("POST", f"{V1}/examples/a-queued/release", None),
        ("PUT", f"{V1}/examples/a-queued/labels", {"labels": [_box()], "submit": True}),
        ("POST", f"{V1}/examples/a-queued/claim", None),
    ):
        answer = await app.client.request(method, path, json=body, headers=second)
        assert answer.status_code in (403, 409), (path, answer.text)
    stale = await app.client.put(
        f"{V1}/examples/a-queued/labels",
        json={"labels": [_box()], "expected_version": version - 1},
        headers=first,
    )
    assert stale.status_code == 409, stale.text
    after = await _example(app, "a-queued")
    assert (after["assignee"], after["labels"], after["version"]) == ("user:op1", [], version)


async def _exporter(app: Api, directory: Path, **limits: Any) -> tuple[DatasetExporter, Any]:
    database = app.plane.database
    evidence = await open_evidence_service(
        settings_for(directory), database.evidence, database.audit, secret=app.plane.secret
    )
    exporter = DatasetExporter(
        database,
        evidence_frames(evidence),
        image_decoder(EXPORT_MAX_PIXELS),
        lambda: T0,
        **limits,
    )
    return exporter, evidence


async def test_an_export_holds_a_bounded_amount_of_frames(tmp_path: Path) -> None:
    async with api("memory", tmp_path) as app:
        specs = [(f"ex{n}", "cam-a", ExampleState.ACCEPTED, PERSON) for n in range(4)]
        await _seed(app, tmp_path, specs)
        one = len(frame(0))
        exporter, evidence = await _exporter(app, tmp_path, max_bytes=2 * one)
        try:
            with pytest.raises(ValidationError, match="narrow it"):
                await exporter.export(SYSTEM_ACTOR, ExportRequest())
            narrow = ExportRequest(until=T0 + timedelta(minutes=30))
            archive = await exporter.export(SYSTEM_ACTOR, narrow)
            assert archive.summary.images["train"] + archive.summary.images["val"] == 1
        finally:
            await evidence.close()


async def test_one_export_runs_at_a_time(tmp_path: Path) -> None:
    async with api("memory", tmp_path) as app:
        await _seed(app, tmp_path, [("ex0", "cam-a", ExampleState.ACCEPTED, PERSON)])
        _, evidence = await _exporter(app, tmp_path)
        reading, go_on = asyncio.Event(), asyncio.Event()

        async def slow(actor: Actor, example: HardExample) -> bytes:
            reading.set()
            await go_on.wait()
            return await evidence_frames(evidence)(actor, example)

        exporter = DatasetExporter(
            app.plane.database, slow, image_decoder(EXPORT_MAX_PIXELS), lambda: T0
        )
        try:
            first = asyncio.create_task(exporter.export(SYSTEM_ACTOR, ExportRequest()))
            await asyncio.wait_for(reading.wait(), 30)
            for second in (exporter.export, exporter.preview):
                with pytest.raises(ConflictError, match="another dataset export"):
                    await second(SYSTEM_ACTOR, ExportRequest())
            go_on.set()
            archive = await asyncio.wait_for(first, 60)
            assert archive.summary.images["train"] + archive.summary.images["val"] == 1
            assert (
                await exporter.preview(SYSTEM_ACTOR, ExportRequest())
            ).images == archive.summary.images
        finally:
            go_on.set()
            await evidence.close()


async def test_a_scoped_api_key_labels_its_cameras_only(app: Api, tmp_path: Path) -> None:
    await _seed(app, tmp_path, WORLD)
    made = await app.client.post(
        f"{V1}/api-keys",
        json={"name": "labeller", "permissions": ["view", "operate"], "cameras": ["cam-a"]},
    )
    assert made.status_code == 201, made.text
    key = {"X-API-Key": made.json()["key"], "Authorization": ""}
    for method, path, body in (
        ("GET", f"{V1}/examples/b-queued", None),
        ("GET", f"{V1}/examples/b-accepted/frame", None),
        ("PUT", f"{V1}/examples/b-queued/labels", {"labels": [_box()], "submit": True}),
        ("POST", f"{V1}/examples/b-labelled/review", {"accept": True}),
    ):
        answer = await app.client.request(method, path, json=body, headers=key)
        assert answer.status_code == 404, (path, answer.text)
    mine = await app.client.put(
        f"{V1}/examples/a-queued/labels", json={"labels": [_box()], "submit": True}, headers=key
    )
    assert mine.status_code == 200, mine.text
    assert mine.json()["labelled_by"].startswith("apikey:")
    listed = await app.client.get(f"{V1}/examples", headers=key)
    assert {e["camera_id"] for e in listed.json()["items"]} == {"cam-a"}


async def test_two_reviewers_at_once_decide_once(app: Api, tmp_path: Path) -> None:
    await _seed(app, tmp_path, WORLD[1:2])
    people = [await _user(app, f"rev{n}", "operator") for n in range(3)]
    answers = await asyncio.gather(
        *(
            app.client.post(
                f"{V1}/examples/a-labelled/review", json={"accept": n != 1}, headers=who
            )
            for n, who in enumerate(people)
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409, 409], [a.text for a in answers]
    [winner] = [a.json() for a in answers if a.status_code == 200]
    after = await _example(app, "a-labelled")
    assert (after["state"], after["reviewed_by"]) == (winner["state"], winner["reviewed_by"])
    audit = await app.client.get(f"{V1}/audit", params={"action": "example.review"})
    assert audit.json()["total"] == 1, audit.text


async def test_erased_events_are_no_longer_found_by_search(tmp_path: Path) -> None:
    async with api("sqlite", tmp_path) as app:
        await add_site(app.plane.database)
        recorded = history()
        for envelope in recorded:
            await app.bus.publish(app.plane.events_subject, envelope)

        async def indexed() -> bool:
            answer = await app.client.get(f"{V1}/search", params={"q": "cars", "limit": 50})
            return answer.status_code == 200 and len(answer.json()["items"]) == 6

        await eventually(indexed, "the history to be indexed")
        cars = {e.event_id for e in recorded if e.source.camera_id == "cam-s"}
        erased = await app.client.post(
            f"{V1}/privacy/erasures",
            json={
                "camera_id": "cam-s",
                "since": "2026-12-06T00:00:00Z",
                "until": "2026-12-07T00:00:00Z",
                "reason": "subject access request",
            },
        )
        assert erased.status_code == 200, erased.text
        for question in ("cars", "vehicle crossing the kerb line on Sunday"):
            answer = await app.client.get(f"{V1}/search", params={"q": question, "limit": 50})
            assert answer.status_code == 200, answer.text
            assert not cars & {i["id"] for i in answer.json()["items"]}, answer.json()
