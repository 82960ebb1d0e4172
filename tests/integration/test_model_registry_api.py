"""``/models`` and ``/cameras/{id}/model`` over the real app, on memory and SQLite.

Two versions of an imported pack lie in the models directory; the API lists
them, assigns one to a camera (its pipeline gets the new model), promotes
the other to two cameras, rolls one back, and answers errors by the table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from argus.bootstrap.container import build_container
from tests.auth_support import settings_for
from tests.factories import Candidate, write_yolo_model, yolo_output
from tests.integration.api_support import STORES, api

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def _import(data_dir: Path, class_id: int) -> str:
    base = yolo_output("yolov8", [Candidate(32, 32, 20, 20, class_id, 0.9)], 3, rows=10)
    model = write_yolo_model(data_dir / f"toy-{class_id}.onnx", base, input_size=64)
    names = data_dir / "names.txt"
    names.write_text("person\ncar\nbicycle\n")
    container = build_container(settings_for(data_dir))
    return container.import_model("toy", model, names_file=names).version


@pytest.mark.parametrize("kind", STORES)
async def test_list_assign_promote_and_roll_back(kind: str, tmp_path: Path) -> None:
    first, second = _import(tmp_path, 0), _import(tmp_path, 2)
    async with api(kind, tmp_path) as app:
        client = app.client
        ids = []
        for name in ("gate", "door"):
            made = await client.post(
                "/api/v1/cameras", json={"name": name, "stream_url": "rtsp://127.0.0.1:9/x"}
            )
            assert made.status_code == 201, made.text
            ids.append(made.json()["id"])
        gate, door = ids

        listed = (await client.get("/api/v1/models")).json()["items"]
        toy = next(p for p in listed if p["name"] == "toy")
        assert toy["current_version"] == second
        assert [(v["ref"], v["current"], v["on_disk"]) for v in toy["versions"]] == [
            (f"toy@{first}", False, True),
            (f"toy@{second}", True, True),
        ]
        assert toy["versions"][0]["input_sizes"] == [64]
        assert toy["versions"][0]["classes"] == 3
        one = (await client.get("/api/v1/models/toy/versions")).json()
        assert one == toy

        put = await client.put(f"/api/v1/cameras/{gate}/model", json={"ref": f"toy@{first}"})
        assert put.status_code == 200, put.text
        body = put.json()
        assert (body["assigned"], body["resolved"], body["pinned"]) == (
            f"toy@{first}",
            f"toy@{first}",
            True,
        )
        assert app.pipelines.applied[gate].camera.model == f"toy@{first}"  # the pipeline restarted

        promoted = await client.post(
            "/api/v1/models/promote", json={"ref": f"toy@{second}", "camera_ids": [door, gate]}
        )
        assert promoted.status_code == 200, promoted.text
        assert [c["camera_id"] for c in promoted.json()["items"]] == [door, gate]

        back = await client.post(f"/api/v1/cameras/{gate}/model/rollback")
        assert back.status_code == 200, back.text
        assert back.json()["assigned"] == f"toy@{first}"
        assert [h["action"] for h in back.json()["history"]] == ["rollback", "promote", "assign"]
        read = (await client.get(f"/api/v1/cameras/{door}/model")).json()
        assert (read["assigned"], read["history"][0]["previous_ref"]) == (
            f"toy@{second}",
            "yolov7-tiny",
        )

        for method, path, payload, status in (
            ("PUT", f"/api/v1/cameras/{gate}/model", {"ref": "toy@missing"}, 404),
            ("PUT", f"/api/v1/cameras/{gate}/model", {"ref": "Not A Ref"}, 422),
            ("PUT", "/api/v1/cameras/nope/model", {"ref": f"toy@{first}"}, 404),
            ("POST", "/api/v1/models/promote", {"ref": f"toy@{first}", "camera_ids": []}, 422),
            ("POST", "/api/v1/cameras/nope/model/rollback", None, 404),
            ("GET", "/api/v1/models/unknown/versions", None, 404),
        ):
            answer = await client.request(method, path, json=payload)
            assert answer.status_code == status, (method, path, answer.text)
