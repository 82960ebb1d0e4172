"""``argus dataset export``: the installed command writes a COCO/YOLO ZIP of labelled examples.

The examples and their sealed frames are written in-process into the
installation's database and evidence vault (as the hard-example service
writes them); the command runs in a private data directory with its secret.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from pydantic import SecretStr

from argus.bootstrap.adapters import installation_secret, open_database
from argus.bootstrap.evidence import open_evidence_service
from argus.config import Settings
from argus.domain.hard_examples import ExampleSource, ExampleState, HardExample, LabelBox
from tests.e2e.conftest import ARGUS

SECRET = "e2e-secret-key-0123456789abcdef"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _argus(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_")}
    env.update({"ARGUS_DATA_DIR": str(data_dir), "ARGUS_SECRET_KEY": SECRET})
    return subprocess.run(
        [ARGUS, "dataset", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def _frame(seed: int) -> bytes:
    blocks = np.random.default_rng(seed).integers(0, 255, (6, 8, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", cv2.resize(blocks, (160, 120), interpolation=cv2.INTER_NEAREST))
    assert ok
    return bytes(data.tobytes())


def _seed(data_dir: Path, count: int) -> None:
    settings = Settings(data_dir=data_dir, secret_key=SecretStr(SECRET))

    async def run() -> None:
        secret = installation_secret(settings)
        database = await open_database(settings, secret)
        evidence = await open_evidence_service(
            settings, database.evidence, database.audit, secret=secret
        )
        try:
            for i in range(count):
                item = await evidence.store(_frame(i), "snapshot", "image/jpeg", camera_id="cam-1")
                at = T0 + timedelta(hours=i)
                await database.hard_examples.add(
                    HardExample(
                        id=f"ex{i}",
                        camera_id="cam-1",
                        source=ExampleSource.CONFIRMED,
                        captured_at=at,
                        created_at=at,
                        frame_evidence_id=item.id,
                        width=160,
                        height=120,
                        model_ref="yolov7-tiny@1.0.0",
                        source_key=f"ex{i}",
                        state=ExampleState.ACCEPTED,
                        labels=(LabelBox(5, 5, 80, 110, "person"),),
                        labelled_by="user:ann",
                        labelled_at=at,
                    )
                )
        finally:
            await evidence.close()
            await database.close()

    asyncio.run(run())


def test_export_writes_the_zip_and_preview_prints_counts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _seed(data_dir, 5)

    preview = _argus(data_dir, "export", "--preview", "--val-fraction", "0.4")
    assert preview.returncode == 0, preview.stderr
    assert "images: 3 train, 2 val" in preview.stdout
    assert not list(tmp_path.glob("*.zip"))

    out = tmp_path / "set.zip"
    run = _argus(
        data_dir, "export", str(out), "--val-fraction", "0.4", "--camera-licence", "cam-1=CC0"
    )
    assert run.returncode == 0, run.stderr
    assert f"wrote {out}" in run.stdout
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = set(archive.namelist())
    assert {"annotations/train.json", "annotations/val.json", "data.yaml"} <= names
    assert len([n for n in names if n.startswith("labels/")]) == 5
    assert manifest["created_by"].startswith("cli:")
    assert {i["licence"] for i in manifest["images"]} == {"CC0"}


def test_bad_options_are_one_clear_error(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    bad = _argus(data_dir, "export", "--camera-licence", "no-equals-sign")
    assert bad.returncode == 2
    assert "CAMERA_ID=TEXT" in bad.stderr
    empty = _argus(data_dir, "export", str(tmp_path / "none.zip"))
    assert empty.returncode == 2
    assert "nothing to export" in empty.stderr
