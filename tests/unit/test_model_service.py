"""ModelService with an in-memory store and a fake builder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from argus.adapters.modelpacks.store import MemoryModelStore
from argus.domain.errors import ModelIntegrityError, ModelNotFoundError
from argus.domain.models import ModelFile, ModelManifest
from argus.services.models import ModelService


class FakeBuilder:
    name = "fake"
    description = "a fake pack"
    licence = "MIT"
    default_sizes: tuple[int, ...] = (320, 640)

    def __init__(self) -> None:
        self.calls: list[tuple[int, ...]] = []

    def build(self, out_dir: Path, sizes: Sequence[int]) -> ModelManifest:
        self.calls.append(tuple(sizes))
        files = tuple(ModelFile(f"m{s}.onnx", f"{s:064d}", s) for s in sizes)
        return ModelManifest("fake", "1", "yolo-onnx", "pkg", "1", "MIT", ("a",), files)


def _service() -> tuple[ModelService, MemoryModelStore, FakeBuilder]:
    store, builder = MemoryModelStore(), FakeBuilder()
    return ModelService(store, {"fake": builder}), store, builder


def test_build_is_idempotent_until_forced_or_new_sizes() -> None:
    service, _, builder = _service()
    assert service.build("fake").input_sizes == (320, 640)
    service.build("fake")
    service.build("fake", [320])
    assert builder.calls == [(320, 640)]
    service.build("fake", force=True)
    service.build("fake", [416])
    assert builder.calls == [(320, 640), (320, 640), (416,)]


def test_a_tampered_pack_is_rebuilt_and_refused_meanwhile() -> None:
    service, store, builder = _service()
    service.build("fake")
    store.digests[("fake", "m320.onnx")] = "f" * 64
    with pytest.raises(ModelIntegrityError, match=r"m320\.onnx"):
        service.require_sound("fake")
    service.build("fake")
    assert len(builder.calls) == 2


def test_listing_and_unknown_packs() -> None:
    service, store, _ = _service()
    assert [(p.name, p.manifest) for p in service.packs()] == [("fake", None)]
    store.save(ModelManifest("mine", "abc", "yolo-onnx", "custom", "x.onnx", "MIT", ("a",), ()))
    assert [p.name for p in service.packs()] == ["fake", "mine"]
    with pytest.raises(ModelNotFoundError, match="no builder"):
        service.build("nope")
    assert service.ensure("fake").name == "fake"
