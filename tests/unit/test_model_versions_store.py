"""Kept versions of a pack, on every ModelStore implementation.

A build or an import replaces a pack's current directory; ``keep`` first
copies the version it replaces aside, so ``name@version`` stays runnable.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from argus.adapters.modelpacks.store import FileModelStore
from argus.domain.errors import ModelNotFoundError, ValidationError
from argus.domain.model_registry import format_ref, split_ref
from argus.domain.models import ModelManifest
from tests.unit import test_modelstore_contract as contract
from tests.unit.test_modelstore_contract import StoreHarness

harness = contract.harness


def _save(harness: StoreHarness, version: str, data: bytes, created: str) -> ModelManifest:
    f = harness.add_file("pack", "m.onnx", data)
    manifest = dataclasses.replace(
        contract._manifest("pack", (f,)), version=version, created=created
    )
    harness.store.save(manifest)
    return manifest


def test_keep_then_replace_leaves_both_versions_runnable(harness: StoreHarness) -> None:
    store = harness.store
    store.keep("pack")  # nothing built: nothing to keep
    assert store.versions("pack") == []
    old = _save(harness, "1.0", b"old weights", "2026-01-01T00:00:00Z")
    store.keep("pack")
    new = _save(harness, "2.0", b"new weights", "2026-02-01T00:00:00Z")
    assert store.versions("pack") == [old, new]
    assert store.names() == ["pack"]
    assert store.get_version("pack", "1.0") == old
    assert store.get_version("pack", "2.0") == new
    assert store.version_path("pack", "2.0") == store.path("pack")
    assert store.version_path("pack", "1.0") != store.path("pack")
    assert store.verify_version("pack", "1.0") == []
    assert store.verify_version("pack", "2.0") == []
    if isinstance(store, FileModelStore):
        kept = store.version_path("pack", "1.0") / "m.onnx"
        assert kept.read_bytes() == b"old weights"
        assert (store.path("pack") / "m.onnx").read_bytes() == b"new weights"
        kept.write_bytes(b"tampered")
        assert [p.path for p in store.verify_version("pack", "1.0")] == ["m.onnx"]
    assert [m.name for m in store.manifests()] == ["pack"]  # kept versions are no packs
    with pytest.raises(ModelNotFoundError):
        store.get_version("pack", "3.0")
    with pytest.raises(ModelNotFoundError):
        store.version_path("other", "1.0")


def test_rebuilding_the_same_version_keeps_one_copy(harness: StoreHarness) -> None:
    store = harness.store
    _save(harness, "1.0", b"weights", "2026-01-01T00:00:00Z")
    store.keep("pack")
    again = _save(harness, "1.0", b"weights, more sizes", "2026-01-02T00:00:00Z")
    assert store.versions("pack") == [again]
    assert store.version_path("pack", "1.0") == store.path("pack")


def test_kept_directory_names_refuse_path_tricks(tmp_path: Path) -> None:
    store = FileModelStore(tmp_path)
    with pytest.raises(ValidationError):
        store.version_path("pack", "../../etc")
    with pytest.raises(ValidationError):
        store.version_path("../pack", "1.0")


@pytest.mark.parametrize(
    ("ref", "parts"),
    [
        ("yolov7-tiny", ("yolov7-tiny", None)),
        ("yolov7-tiny@1.0.3", ("yolov7-tiny", "1.0.3")),
        ("my-model@0a1b2c3d4e5f", ("my-model", "0a1b2c3d4e5f")),
        ("centerface@1.0.1-2", ("centerface", "1.0.1-2")),
    ],
    ids=["bare", "version", "hash", "dashed"],
)
def test_refs_split_and_format(ref: str, parts: tuple[str, str | None]) -> None:
    assert split_ref(ref) == parts
    assert format_ref(*parts) == ref


@pytest.mark.parametrize(
    "ref",
    ["", "Yolo", "pack@", "pack@../x", "../pack@1", "pack@1@2", "pack@ 1", "/tmp/m.onnx"],
    ids=["empty", "upper", "no-version", "dots", "path-name", "two-at", "space", "path"],
)
def test_malformed_refs_are_refused(ref: str) -> None:
    with pytest.raises(ValidationError):
        split_ref(ref)
