"""The model registry store on SQL (see ``ports.model_registry``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from argus.adapters.db._sqlcore import Bind, transaction
from argus.adapters.db.tables_models import model_assignments, model_versions
from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.model_registry import AssignmentAction, ModelAssignment, ModelVersion
from argus.ports.paging import check_page

__all__ = ["SqlModelRegistryStore"]


def _version(row: sa.Row[Any]) -> ModelVersion:
    return ModelVersion(
        name=row.name,
        version=row.version,
        kind=row.kind,
        manifest=dict(row.manifest),
        location=row.location,
        registered_at=row.registered_at,
        registered_by=row.registered_by,
        notes=row.notes,
    )


def _assignment(row: sa.Row[Any]) -> ModelAssignment:
    action: AssignmentAction = row.action
    return ModelAssignment(
        id=row.id,
        camera_id=row.camera_id,
        ref=row.ref,
        previous_ref=row.previous_ref,
        action=action,
        at=row.at,
        by=row.by,
    )


class SqlModelRegistryStore:
    """A ``ModelRegistryStore`` over ``model_versions`` and ``model_assignments``.

    Args:
        engine: The store's engine.
    """

    def __init__(self, engine: Bind) -> None:
        self._engine = engine

    async def add_version(self, version: ModelVersion) -> bool:
        try:
            return await self._insert_version(version)
        except ConflictError:  # registered meanwhile by another reader of the catalogue
            return False

    async def _insert_version(self, version: ModelVersion) -> bool:
        key = (model_versions.c.name == version.name, model_versions.c.version == version.version)
        async with transaction(self._engine, f"registering {version.ref}") as connection:
            if await connection.scalar(sa.select(sa.func.count()).where(*key)):
                return False
            await connection.execute(
                sa.insert(model_versions).values(
                    name=version.name,
                    version=version.version,
                    kind=version.kind,
                    manifest=version.manifest,
                    location=version.location,
                    registered_at=version.registered_at,
                    registered_by=version.registered_by,
                    notes=version.notes,
                )
            )
        return True

    async def versions(self, name: str | None = None) -> tuple[ModelVersion, ...]:
        query = sa.select(model_versions).order_by(
            model_versions.c.name, model_versions.c.registered_at, model_versions.c.version
        )
        if name is not None:
            query = query.where(model_versions.c.name == name)
        async with transaction(self._engine, "listing model versions") as connection:
            rows = (await connection.execute(query)).all()
        return tuple(_version(row) for row in rows)

    async def get_version(self, name: str, version: str) -> ModelVersion:
        query = sa.select(model_versions).where(
            model_versions.c.name == name, model_versions.c.version == version
        )
        async with transaction(self._engine, f"reading {name}@{version}") as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            raise NotFoundError(f"no model version {name}@{version}")
        return _version(row)

    async def add_assignment(self, assignment: ModelAssignment) -> None:
        taken = sa.select(sa.func.count()).where(model_assignments.c.id == assignment.id)
        async with transaction(self._engine, "recording a model assignment") as connection:
            if await connection.scalar(taken):
                raise ConflictError(f"model assignment {assignment.id} already exists")
            await connection.execute(
                sa.insert(model_assignments).values(
                    id=assignment.id,
                    camera_id=assignment.camera_id,
                    ref=assignment.ref,
                    previous_ref=assignment.previous_ref,
                    action=assignment.action,
                    at=assignment.at,
                    by=assignment.by,
                )
            )

    async def assignments(self, camera_id: str, *, limit: int = 50) -> tuple[ModelAssignment, ...]:
        check_page(limit)
        query = (
            sa.select(model_assignments)
            .where(model_assignments.c.camera_id == camera_id)
            .order_by(model_assignments.c.at.desc(), model_assignments.c.id.desc())
            .limit(limit)
        )
        async with transaction(self._engine, "listing model assignments") as connection:
            rows = (await connection.execute(query)).all()
        return tuple(_assignment(row) for row in rows)
