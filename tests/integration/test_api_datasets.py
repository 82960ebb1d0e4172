"""``/api/v1/datasets``: preview and export a COCO/YOLO dataset over the running app.

The examples and their sealed frames are written beside the app, as the
hard-example service writes them: frames through an evidence service over the
app's own store, data directory and installation secret.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from faster_coco_eval import COCO  # type: ignore[import-untyped]

from argus.bootstrap.evidence import open_evidence_service
from argus.domain.hard_examples import ExampleSource, ExampleState, HardExample, LabelBox
from tests.auth_support import settings_for
from tests.integration.api_support import STORES, Api, api
from tests.integration.test_repositories_contract import T0

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def frame(seed: int) -> bytes:
    blocks = np.random.default_rng(seed).integers(0, 255, (6, 8, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", cv2.resize(blocks, (160, 120), interpolation=cv2.INTER_NEAREST))
    assert ok
    return bytes(data.tobytes())


async def seed_examples(app: Api, directory: Path, count: int) -> None:
    database = app.plane.database
    evidence = await open_evidence_service(
        settings_for(directory), database.evidence, database.audit, secret=app.plane.secret
    )
    try:
        for i in range(count):
            item = await evidence.store(frame(i), "snapshot", "image/jpeg", camera_id="cam-a")
            at = T0 + timedelta(hours=i)
            await database.hard_examples.add(
                HardExample(
                    id=f"ex{i}",
                    camera_id="cam-a",
                    source=ExampleSource.UNCERTAIN,
                    captured_at=at,
                    created_at=at,
                    frame_evidence_id=item.id,
                    width=160,
                    height=120,
                    model_ref="yolov7-tiny@1.0.0",
                    source_key=f"ex{i}",
                    state=ExampleState.ACCEPTED,
                    labels=(LabelBox(10, 10, 60, 100, "person"),),
                    labelled_by="user:ann",
                    labelled_at=at,
                )
            )
    finally:
        await evidence.close()


@pytest.mark.parametrize("kind", STORES)
async def test_preview_and_export(kind: str, tmp_path: Path) -> None:
    async with api(kind, tmp_path) as app:
        empty = await app.client.post("/api/v1/datasets/export", json={})
        assert empty.status_code == 422, empty.text

        await seed_examples(app, tmp_path, 5)
        body = {"val_fraction": 0.4, "name": "north-gate", "licence": "CC0 test footage"}
        preview = await app.client.post("/api/v1/datasets/preview", json=body)
        assert preview.status_code == 200, preview.text
        counts = preview.json()
        assert counts["images"] == {"train": 3, "val": 2}
        assert counts["classes"] == ["person"]
        assert counts["cameras"] == {"cam-a": 5}

        answer = await app.client.post("/api/v1/datasets/export", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/zip"
        assert 'filename="north-gate-' in answer.headers["content-disposition"]
        with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            coco = COCO(json.loads(archive.read("annotations/val.json")))
        assert len(coco.getImgIds()) == 2
        assert len(coco.getAnnIds()) == 2
        assert {i["licence"] for i in manifest["images"]} == {"CC0 test footage"}

        audit = await app.client.get("/api/v1/audit", params={"action": "dataset.export"})
        assert audit.status_code == 200, audit.text
        assert audit.json()["total"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"val_fraction": 0.95},
        {"split_by": "day"},
        {"name": "../etc"},
        {"surprise": 1},
        {"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
    ],
    ids=["share", "unit", "name", "unknown-field", "until-before-since"],
)
async def test_refuses_bad_requests(body: dict[str, object], tmp_path: Path) -> None:
    async with api("memory", tmp_path) as app:
        answer = await app.client.post("/api/v1/datasets/preview", json=body)
        assert answer.status_code == 422, answer.text
