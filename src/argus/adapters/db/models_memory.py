"""The model registry store in memory (see ``ports.model_registry``)."""

from __future__ import annotations

from collections.abc import Callable

from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.model_registry import ModelAssignment, ModelVersion
from argus.ports.paging import check_page

__all__ = ["MemoryModelRegistryStore"]


class MemoryModelRegistryStore:
    """A ``ModelRegistryStore`` over dicts.

    Args:
        check: Raises ``StorageError`` once the store is closed.
    """

    def __init__(self, check: Callable[[], None]) -> None:
        self._check = check
        self._versions: dict[tuple[str, str], ModelVersion] = {}
        self._assignments: dict[str, ModelAssignment] = {}

    async def add_version(self, version: ModelVersion) -> bool:
        self._check()
        key = (version.name, version.version)
        if key in self._versions:
            return False
        self._versions[key] = version
        return True

    async def versions(self, name: str | None = None) -> tuple[ModelVersion, ...]:
        self._check()
        found = [v for v in self._versions.values() if name is None or v.name == name]
        found.sort(key=lambda v: (v.name, v.registered_at, v.version))
        return tuple(found)

    async def get_version(self, name: str, version: str) -> ModelVersion:
        self._check()
        found = self._versions.get((name, version))
        if found is None:
            raise NotFoundError(f"no model version {name}@{version}")
        return found

    async def add_assignment(self, assignment: ModelAssignment) -> None:
        self._check()
        if assignment.id in self._assignments:
            raise ConflictError(f"model assignment {assignment.id} already exists")
        self._assignments[assignment.id] = assignment

    async def assignments(self, camera_id: str, *, limit: int = 50) -> tuple[ModelAssignment, ...]:
        self._check()
        check_page(limit)
        found = [a for a in self._assignments.values() if a.camera_id == camera_id]
        found.sort(key=lambda a: (a.at, a.id), reverse=True)
        return tuple(found[:limit])
