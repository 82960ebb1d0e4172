"""Vector indexes: in memory, sqlite-vec in a SQLite file, usearch HNSW in a file."""

# First: the C++ runtime is shared before usearch's extension loads (see _native).
from argus.adapters.search import _native  # noqa: F401  # isort: split
from argus.adapters.search.memory import MemoryVectorIndex
from argus.adapters.search.sqlite_vec import SqliteVecIndex, sqlite_vec_available
from argus.adapters.search.usearch_index import USearchIndex

__all__ = ["MemoryVectorIndex", "SqliteVecIndex", "USearchIndex", "sqlite_vec_available"]
