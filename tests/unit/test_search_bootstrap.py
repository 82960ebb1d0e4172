"""The settings choose the vector index and its file; the encoder is built once per process."""

from __future__ import annotations

from pathlib import Path

import pytest

from argus.adapters.search import MemoryVectorIndex, SqliteVecIndex, USearchIndex
from argus.bootstrap.search import open_vector_index, text_encoder, vector_index_choice
from argus.config import Settings
from argus.domain.errors import ConfigError

PG = "postgresql://argus:argus@127.0.0.1:5432/argus"


@pytest.mark.parametrize(
    ("values", "kind", "file"),
    [
        ({}, "sqlite-vec", "db/argus.vectors.db"),
        ({"database_url": PG}, "usearch", "data/search/vectors.usearch"),
        ({"database_url": "sqlite://"}, "memory", None),
        ({"search_index": "memory"}, "memory", None),
        ({"search_index": "usearch"}, "usearch", "data/search/vectors.usearch"),
        (
            {"database_url": PG, "search_index": "sqlite-vec"},
            "sqlite-vec",
            "data/search/vectors.db",
        ),
        ({"search_index_path": "elsewhere/v.idx"}, "sqlite-vec", "elsewhere/v.idx"),
    ],
    ids=["sqlite-auto", "postgres-auto", "in-memory-sqlite", "memory", "usearch", "forced", "path"],
)
def test_the_index_kind_and_file_follow_the_settings(
    tmp_path: Path, values: dict[str, str], kind: str, file: str | None
) -> None:
    base: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "database_url": f"sqlite:///{tmp_path / 'db' / 'argus.db'}",
    }
    if "search_index_path" in values:
        values = {**values, "search_index_path": str(tmp_path / values["search_index_path"])}
    settings = Settings.model_validate(base | values)
    assert vector_index_choice(settings) == (kind, None if file is None else tmp_path / file)


def test_an_unknown_index_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="search_index"):
        Settings(search_index="faiss")


def test_a_bad_database_url_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        vector_index_choice(Settings(data_dir=tmp_path, database_url="::nonsense::"))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("index", "cls"),
    [("memory", MemoryVectorIndex), ("sqlite-vec", SqliteVecIndex), ("usearch", USearchIndex)],
)
async def test_each_kind_opens(tmp_path: Path, index: str, cls: type) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'a.db'}")
    opened = await open_vector_index(
        settings.model_copy(update={"search_index": index}), dim=8, namespace="m@1"
    )
    try:
        assert isinstance(opened, cls)
        assert await opened.count() == 0
    finally:
        await opened.close()


def test_one_encoder_per_process_and_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, search_encoder="numpy")
    first = text_encoder(settings)
    assert text_encoder(settings) is first
    assert first.dim == 384
    assert first.model_ref.startswith("all-minilm-l6-v2@")
    assert text_encoder(settings.model_copy(update={"search_encoder": "onnx"})) is not first
