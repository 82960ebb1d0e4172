"""Dataset export end to end: sealed frames and labelled examples in, a COCO/YOLO ZIP out.

Examples live in each real store (memory, SQLite, PostgreSQL), their frames
are sealed in the evidence vault (local files), and the ZIP is read back:
COCO with faster-coco-eval's loader, YOLO label files against the boxes,
every file against the manifest's sha256.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from faster_coco_eval import COCO  # type: ignore[import-untyped]

from argus.bootstrap.datasets import (
    EXPORT_MAX_PIXELS,
    build_dataset_exporter,
    evidence_frames,
)
from argus.bootstrap.evidence import open_evidence_service
from argus.bootstrap.models import image_decoder
from argus.config import Settings
from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.dataset_split import SplitRule
from argus.domain.errors import PermissionDeniedError, ValidationError
from argus.domain.hard_examples import ExampleSource, ExampleState, HardExample, LabelBox
from argus.domain.identity import Principal
from argus.ports.audit import AuditFilter
from argus.ports.hard_examples import ExampleFilter
from argus.services.dataset_export import DatasetArchive, DatasetExporter, ExportRequest
from argus.services.evidence import EvidenceService
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import SECRET, T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store
W, H = 320, 240


def scene(seed: int, noise: int = 0) -> bytes:
    """A JPEG of a blocky random scene; ``noise`` adds a faint speckle (a near copy)."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
    image = cv2.resize(blocks, (W, H), interpolation=cv2.INTER_NEAREST).astype(np.int16)
    if noise:
        image += np.random.default_rng(1000 + noise).integers(-3, 4, image.shape, dtype=np.int16)
    ok, data = cv2.imencode(".jpg", np.clip(image, 0, 255).astype(np.uint8))
    assert ok
    return bytes(data.tobytes())


@dataclass
class Bench:
    store: Store
    evidence: EvidenceService
    exporter: DatasetExporter

    async def add(
        self,
        example_id: str,
        camera_id: str,
        minutes: float,
        frame: bytes,
        labels: tuple[LabelBox, ...] = (),
        *,
        state: ExampleState = ExampleState.ACCEPTED,
        empty: bool = False,
        model_ref: str = "yolov7-tiny@1.0.0",
    ) -> HardExample:
        item = await self.evidence.store(frame, "snapshot", "image/jpeg", camera_id=camera_id)
        at = T0 + timedelta(minutes=minutes)
        example = HardExample(
            id=example_id,
            camera_id=camera_id,
            source=ExampleSource.FALSE_POSITIVE,
            captured_at=at,
            created_at=at,
            frame_evidence_id=item.id,
            width=W,
            height=H,
            model_ref=model_ref,
            boxes=(LabelBox(1, 2, 30, 40, "person", 0.4),),
            source_key=example_id,
            state=state,
            labels=labels,
            empty=empty,
            labelled_by="user:ann" if state != ExampleState.QUEUED else None,
            labelled_at=at if state != ExampleState.QUEUED else None,
        )
        assert await self.store.db.hard_examples.add(example)
        return example


def exporter(store: Store, evidence: EvidenceService, max_examples: int = 100) -> DatasetExporter:
    """An exporter at a fixed time (exports of the same examples are byte-identical)."""
    return DatasetExporter(
        store.db,
        evidence_frames(evidence),
        image_decoder(EXPORT_MAX_PIXELS),
        Clock(),
        max_examples=max_examples,
    )


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(days=30)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def bench(store: Store, tmp_path: Path) -> AsyncIterator[Bench]:
    settings = Settings(data_dir=tmp_path)
    evidence = await open_evidence_service(
        settings, store.db.evidence, store.db.audit, secret=SECRET
    )

    assert build_dataset_exporter(settings, store.db, evidence_frames(evidence))  # as served
    try:
        yield Bench(store, evidence, exporter(store, evidence))
    finally:
        await evidence.close()


PERSON = LabelBox(10, 20, 110, 220, "person")
CAR = LabelBox(150.5, 100.25, 300, 200, "car")


async def seed(bench: Bench) -> None:
    """Two cameras; a near copy of cam-a's first frame three hours later on cam-b."""
    for i in range(6):
        await bench.add(f"a{i}", "cam-a", 30 * i, scene(i), (PERSON, CAR) if i % 2 else (PERSON,))
    for i in range(3):
        await bench.add(f"b{i}", "cam-b", 45 * i + 7, scene(10 + i), (CAR,), model_ref="ssd@2")
    await bench.add("b-copy", "cam-b", 180, scene(0, noise=1), (PERSON,))
    await bench.add("b-empty", "cam-b", 400, scene(20), empty=True)
    await bench.add("a-unreviewed", "cam-a", 500, scene(21), (PERSON,), state=ExampleState.LABELLED)
    await bench.add("a-queued", "cam-a", 600, scene(22), state=ExampleState.QUEUED)


def read_zip(archive: DatasetArchive) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive.data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def side_of(files: dict[str, bytes], example_id: str) -> str:
    (found,) = [p.split("/")[1] for p in files if p.endswith(f"/{example_id}.jpg")]
    return found


async def test_export_writes_coco_yolo_and_a_manifest_that_hold_together(
    bench: Bench, tmp_path: Path
) -> None:
    await seed(bench)
    request = ExportRequest(
        rule=SplitRule(val_fraction=0.4, seed=1, max_distance=16),
        camera_licences={"cam-b": "CC-BY-4.0 (test footage)"},
        name="gate-set",
    )
    archive = await bench.exporter.export(SYSTEM_ACTOR, request)
    files = read_zip(archive)
    assert archive.filename == "gate-set-20260331T120000Z.zip"
    assert archive.sha256 == hashlib.sha256(archive.data).hexdigest()

    manifest = json.loads(files["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for path, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[path]).hexdigest(), path
    exported = {e["example_id"]: e for e in manifest["images"]}
    assert set(exported) == {f"a{i}" for i in range(6)} | {"b0", "b1", "b2", "b-copy", "b-empty"}
    assert exported["b0"]["licence"] == "CC-BY-4.0 (test footage)"
    assert exported["a0"]["licence"] == "site footage"
    assert exported["b0"]["model_ref"] == "ssd@2"
    assert exported["a1"]["camera_id"] == "cam-a"
    assert manifest["classes"] == ["car", "person"]
    assert manifest["split_rule"]["seed"] == 1
    counts = manifest["counts"]
    assert counts["images"]["train"] + counts["images"]["val"] == 11
    assert counts["images"]["val"] > 0
    assert counts["model_refs"] == {"ssd@2": 3, "yolov7-tiny@1.0.0": 8}
    # The near copy on another camera, hours later, shares its original's side.
    assert side_of(files, "b-copy") == side_of(files, "a0")
    assert exported["b-copy"]["group"] == exported["a0"]["group"]

    by_id = {
        e.id: e for e in (await bench.store.db.hard_examples.list(ExampleFilter(), limit=100)).items
    }
    for split in ("train", "val"):
        coco = COCO(json.loads(files[f"annotations/{split}.json"]))
        names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
        assert sorted(names.values()) == ["car", "person"]
        for image in coco.loadImgs(coco.getImgIds()):
            example = by_id[image["argus_example_id"]]
            assert f"images/{split}/{image['file_name']}" in files
            assert (image["width"], image["height"]) == (W, H)
            anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
            got = sorted((names[a["category_id"]], *a["bbox"]) for a in anns)
            want = sorted(
                (b.class_name, b.x1, b.y1, b.x2 - b.x1, b.y2 - b.y1) for b in example.labels
            )
            assert got == want
            yolo = files[f"labels/{split}/{example.id}.txt"].decode().splitlines()
            assert len(yolo) == len(example.labels)
            boxes = sorted(example.labels, key=lambda b: b.class_name)
            for line, box in zip(sorted(yolo), boxes, strict=True):
                number, cx, cy, w, h = line.split()
                assert manifest["classes"][int(number)] == box.class_name
                assert float(cx) * W == pytest.approx((box.x1 + box.x2) / 2, abs=1e-3)
                assert float(cy) * H == pytest.approx((box.y1 + box.y2) / 2, abs=1e-3)
                assert float(w) * W == pytest.approx(box.x2 - box.x1, abs=1e-3)
                assert float(h) * H == pytest.approx(box.y2 - box.y1, abs=1e-3)
    assert files[f"labels/{side_of(files, 'b-empty')}/b-empty.txt"] == b""
    yaml = files["data.yaml"].decode()
    assert "train: images/train" in yaml
    assert 'names: ["car", "person"]' in yaml

    audit = await bench.store.db.audit.list(limit=10, where=AuditFilter(action="dataset."))
    (entry,) = [r.entry for r in audit.items]
    assert entry.action == "dataset.export"
    assert entry.details["sha256"] == archive.sha256

    again = await bench.exporter.export(SYSTEM_ACTOR, request)
    assert again.data == archive.data  # same examples, rule and time: the same bytes


async def test_unreviewed_classes_and_scope(bench: Bench) -> None:
    await seed(bench)
    wider = await bench.exporter.preview(SYSTEM_ACTOR, ExportRequest(include_unreviewed=True))
    assert sum(wider.images.values()) == 12
    only_cars = await bench.exporter.preview(SYSTEM_ACTOR, ExportRequest(classes=("car",)))
    assert only_cars.classes == ("car",)
    assert sum(only_cars.boxes.values()) == 6
    assert only_cars.dropped_boxes == 7  # six on cam-a, one on its copy

    scoped = Actor(
        Principal("user", "u-1", "op-1", frozenset({"view", "configure"}), frozenset({"cam-a"}))
    )
    mine = await bench.exporter.preview(scoped, ExportRequest())
    assert mine.cameras == {"cam-a": 6}
    with pytest.raises(PermissionDeniedError):
        await bench.exporter.preview(scoped, ExportRequest(camera_ids=("cam-b",)))


async def test_refuses_empty_and_oversized_exports_and_skips_a_bad_frame(bench: Bench) -> None:
    with pytest.raises(ValidationError, match="nothing to export"):
        await bench.exporter.export(SYSTEM_ACTOR, ExportRequest())
    await seed(bench)
    small = exporter(bench.store, bench.evidence, max_examples=5)
    with pytest.raises(ValidationError, match="at most 5"):
        await small.export(SYSTEM_ACTOR, ExportRequest())

    wrong = await bench.add("a-wrong-size", "cam-a", 700, scene(30))
    examples = bench.store.db.hard_examples
    await examples.update(replace(wrong.bumped(), width=W - 1), expected_version=wrong.version)
    summary = await bench.exporter.preview(SYSTEM_ACTOR, ExportRequest())
    assert "a-wrong-size" in summary.skipped
    assert sum(summary.images.values()) == 11
