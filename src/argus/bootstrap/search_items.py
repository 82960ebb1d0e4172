"""The one search item store of a database, shared by the indexer, privacy and retention.

On SQL the items live in the database's own tables; on a memory database in
a memory store kept beside that database object (so privacy erasure and
retention forget from the very store the indexer writes).
"""

from __future__ import annotations

import weakref

from argus.adapters.db.search_memory import MemorySearchItemStore
from argus.adapters.db.search_sql import SqlSearchItemStore
from argus.adapters.db.sql import SqlDatabase
from argus.ports.repositories import Database
from argus.ports.search_items import SearchErasure, SearchItemStore
from argus.services.search_upkeep import SearchUpkeep

__all__ = ["search_erasure", "search_item_store"]

_memory_stores: weakref.WeakKeyDictionary[Database, MemorySearchItemStore] = (
    weakref.WeakKeyDictionary()
)


def search_item_store(database: Database) -> SearchItemStore:
    """The search items of ``database`` (the same memory store for the same memory database)."""
    if isinstance(database, SqlDatabase):
        return SqlSearchItemStore(database.engine)
    store = _memory_stores.get(database)
    if store is None:
        store = MemorySearchItemStore()
        _memory_stores[database] = store
    return store


def search_erasure(database: Database) -> SearchErasure:
    """What privacy erasure and retention call so search forgets what they delete."""
    return SearchUpkeep(search_item_store(database), database)
