"""One contract, run against every ModelStore implementation."""

from __future__ import annotations

from pathlib import Path

import pytest

from argus.adapters.modelpacks.store import FileModelStore, MemoryModelStore, sha256_file
from argus.domain.errors import ModelNotFoundError, ValidationError
from argus.domain.models import ModelFile, ModelManifest
from argus.ports.modelstore import ModelStore


def _manifest(name: str, files: tuple[ModelFile, ...]) -> ModelManifest:
    return ModelManifest(
        name=name,
        version="1.0",
        kind="yolo-onnx",
        source_package="pkg",
        source_version="0.1",
        licence="Apache-2.0",
        class_names=("person", "car"),
        files=files,
        layout="yolov5",
    )


class StoreHarness:
    """A store plus a way to put a file's bytes behind it and to corrupt them."""

    def __init__(self, store: ModelStore, tmp: Path) -> None:
        self.store = store
        self.tmp = tmp

    def add_file(self, name: str, rel: str, data: bytes) -> ModelFile:
        target = (
            self.store.path(name) / rel
            if isinstance(self.store, FileModelStore)
            else (self.tmp / rel)
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return ModelFile(rel, sha256_file(target), 320)

    def corrupt(self, name: str, rel: str) -> None:
        if isinstance(self.store, FileModelStore):
            (self.store.path(name) / rel).write_bytes(b"tampered")
        else:
            assert isinstance(self.store, MemoryModelStore)
            self.store.digests[(name, rel)] = "0" * 64


@pytest.fixture(params=["file", "memory"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> StoreHarness:
    store: ModelStore = (
        FileModelStore(tmp_path / "models") if request.param == "file" else MemoryModelStore()
    )
    return StoreHarness(store, tmp_path)


def test_empty_store(harness: StoreHarness) -> None:
    assert harness.store.manifests() == []
    assert not harness.store.has("yolo")
    with pytest.raises(ModelNotFoundError, match="yolo"):
        harness.store.get("yolo")


def test_save_get_list_round_trip(harness: StoreHarness) -> None:
    f = harness.add_file("b-pack", "m.onnx", b"weights")
    harness.store.save(_manifest("b-pack", (f,)))
    harness.store.save(_manifest("a-pack", ()))
    assert [m.name for m in harness.store.manifests()] == ["a-pack", "b-pack"]
    got = harness.store.get("b-pack")
    assert got == _manifest("b-pack", (f,))
    assert got.ref == "b-pack@1.0"
    assert got.input_sizes == (320,)


def test_verify_finds_changed_files(harness: StoreHarness) -> None:
    f = harness.add_file("pack", "m.onnx", b"weights")
    harness.store.save(_manifest("pack", (f,)))
    assert harness.store.verify("pack") == []
    harness.corrupt("pack", "m.onnx")
    problems = harness.store.verify("pack")
    assert [p.path for p in problems] == ["m.onnx"]
    assert problems[0].expected == f.sha256
    assert problems[0].actual != f.sha256


@pytest.mark.parametrize("name", ["../evil", "a/b", "", "UPPER", ".hidden", "x" * 65])
def test_unsafe_names_are_refused(harness: StoreHarness, name: str) -> None:
    with pytest.raises(ValidationError, match="invalid model pack name"):
        harness.store.path(name)


def test_file_store_reports_missing_files(tmp_path: Path) -> None:
    store = FileModelStore(tmp_path)
    store.save(_manifest("pack", (ModelFile("gone.onnx", "a" * 64, 320),)))
    assert [p.actual for p in store.verify("pack")] == ["missing"]


def test_manifest_refuses_unknown_schema() -> None:
    data = _manifest("pack", ()).to_dict()
    assert ModelManifest.from_dict(data) == _manifest("pack", ())
    data["schema"] = 99
    with pytest.raises(ValidationError, match="schema"):
        ModelManifest.from_dict(data)
    with pytest.raises(ValidationError, match="malformed"):
        ModelManifest.from_dict({"schema": 1, "name": "x"})
