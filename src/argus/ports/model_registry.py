"""The model registry store (``Database.model_registry``): versions and assignment history.

The conventions of ``argus.ports.repositories`` hold: every method is one
transaction and a failing database raises ``StorageError``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from argus.domain.model_registry import ModelAssignment, ModelVersion

__all__ = ["ModelRegistryStore"]


@runtime_checkable
class ModelRegistryStore(Protocol):
    """Registered pack versions and every camera's assignment history."""

    async def add_version(self, version: ModelVersion) -> bool:
        """Record a version unless its ``name@version`` is known; whether it was new."""
        ...

    async def versions(self, name: str | None = None) -> tuple[ModelVersion, ...]:
        """Registered versions (of ``name`` when given), by name, then oldest first."""
        ...

    async def get_version(self, name: str, version: str) -> ModelVersion:
        """One version (``NotFoundError`` if unknown)."""
        ...

    async def add_assignment(self, assignment: ModelAssignment) -> None:
        """Append to a camera's history (``ConflictError`` if the id is taken)."""
        ...

    async def assignments(self, camera_id: str, *, limit: int = 50) -> tuple[ModelAssignment, ...]:
        """A camera's history, newest first.

        Raises:
            ValidationError: ``limit`` is outside ``[1, 1000]``.
        """
        ...
