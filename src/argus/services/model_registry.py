"""The model registry: every pack version, per-camera assignment, promote and roll back.

Every version built or imported into the models directory (the current one
of each pack and the ones kept when they were replaced) is registered: the
registry records it with its manifest the first time it sees it (at start and
whenever the catalogue is read), audited ``model.version.register``.

A camera runs ``Camera.model``: ``name`` follows the pack's current version,
``name@version`` pins one. Assigning goes through the camera service (the
camera's pipeline restarts on the new model; an edge node's camera is picked
up by its node), then appends to the camera's assignment history, audited
``model.assign`` with ``how``: ``assign`` (one camera), ``promote`` (a
staged rollout to a list of cameras, all checked before any changes) or
``rollback`` (back to the reference the camera ran before its last change).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.cameras import Camera
from argus.domain.errors import ArgusError, ModelNotFoundError, NotFoundError, ValidationError
from argus.domain.event_ids import new_event_id
from argus.domain.model_registry import (
    AssignmentAction,
    ModelAssignment,
    ModelVersion,
    split_ref,
)
from argus.domain.models import ModelManifest
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.repositories import Database
from argus.services.camera_commands import CameraChanges
from argus.services.cameras import CameraService
from argus.services.models import ModelService
from argus.services.writes import record, require_camera, require_visible

__all__ = [
    "MAX_PROMOTION",
    "CameraModel",
    "ModelRegistry",
    "PackVersions",
    "VersionView",
]

log = logging.getLogger(__name__)

MAX_PROMOTION = 500
"""Most cameras one promotion changes."""

_HISTORY = 20


@dataclass(frozen=True, slots=True)
class VersionView:
    """A registered version as the catalogue shows it.

    Attributes:
        version: The registry's record.
        current: Whether it is the pack's current version (what ``name`` runs).
        on_disk: Whether its files are in this server's models directory.
        cameras: Ids of the cameras (visible to the reader) that run it.
    """

    version: ModelVersion
    current: bool
    on_disk: bool
    cameras: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PackVersions:
    """One pack and its versions, oldest first.

    Attributes:
        name: Pack name.
        current_version: The version ``name`` runs, ``None`` when not built.
        versions: Every registered version.
    """

    name: str
    current_version: str | None
    versions: tuple[VersionView, ...]


@dataclass(frozen=True, slots=True)
class CameraModel:
    """What a camera runs and how it came to.

    Attributes:
        camera_id: The camera.
        camera_name: Its name.
        assigned: ``Camera.model`` (``name`` or ``name@version``).
        resolved: The ``name@version`` it runs now, ``None`` if the pack is not built here.
        history: Its latest assignments, newest first.
    """

    camera_id: str
    camera_name: str
    assigned: str
    resolved: str | None
    history: tuple[ModelAssignment, ...]


class ModelRegistry:
    """Registers pack versions and assigns them to cameras.

    Args:
        database: The store (``model_registry``, ``cameras``, ``audit``).
        models: The model packs on this server's disk.
        cameras: Changes a camera's model and restarts its pipeline.
        clock: The current time (UTC).
    """

    def __init__(
        self,
        database: Database,
        models: ModelService,
        cameras: CameraService,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = database
        self._models = models
        self._cameras = cameras
        self._clock = clock

    # --- versions ---------------------------------------------------------------------------

    async def sync(self, actor: Actor = SYSTEM_ACTOR) -> int:
        """Register every version on disk not yet recorded; how many were new."""
        manifests = await asyncio.to_thread(self._disk_versions)
        added = 0
        for manifest in manifests:
            added += await self._register(actor, manifest)
        return added

    def _disk_versions(self) -> list[ModelManifest]:
        found: list[ModelManifest] = []
        for name in self._models.pack_names():
            try:
                found += self._models.versions(name)
            except ArgusError as exc:  # one broken manifest must not hide the other packs
                log.warning("model pack %s: cannot read its versions: %s", name, exc)
        return found

    async def _register(self, actor: Actor, manifest: ModelManifest) -> bool:
        directory = await asyncio.to_thread(
            self._models.version_path, manifest.name, manifest.version
        )
        version = ModelVersion(
            name=manifest.name,
            version=manifest.version,
            kind=manifest.kind,
            manifest=manifest.to_dict(),
            location=f"{directory.parent.name}/{directory.name}",
            registered_at=self._clock(),
            registered_by=actor.audit_name,
            notes=manifest.notes,
        )
        if not await self._db.model_registry.add_version(version):
            return False
        await record(
            self._db.audit,
            actor,
            "model.version.register",
            f"model:{version.ref}",
            kind=version.kind,
            source=manifest.source_package,
        )
        return True

    async def catalog(self, actor: Actor, name: str | None = None) -> list[PackVersions]:
        """Every pack (or ``name``) with its versions and the visible cameras running each."""
        await self.sync()
        if name is not None:
            split_ref(name)
        names = await asyncio.to_thread(self._models.pack_names)
        recorded = await self._db.model_registry.versions(name)
        cameras = [c for c in await self._all_cameras() if actor.may_see(c.id)]
        current = await asyncio.to_thread(self._current_versions, names)
        on_disk = {(m.name, m.version) for m in await asyncio.to_thread(self._disk_versions)}
        packs: list[PackVersions] = []
        for pack in sorted({v.name for v in recorded}):
            views = tuple(
                VersionView(
                    version=v,
                    current=current.get(pack) == v.version,
                    on_disk=(pack, v.version) in on_disk,
                    cameras=tuple(c.id for c in cameras if _runs(c, v.ref, current)),
                )
                for v in recorded
                if v.name == pack
            )
            packs.append(PackVersions(pack, current.get(pack), views))
        if name is not None and not packs:
            raise NotFoundError(f"no model pack {name}")
        return packs

    def _current_versions(self, names: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for name in names:
            try:
                found[name] = self._models.info(name).version
            except ModelNotFoundError:
                continue
        return found

    async def _all_cameras(self) -> list[Camera]:
        return await all_pages(lambda skip: self._db.cameras.list(limit=MAX_PAGE, offset=skip))

    # --- cameras ----------------------------------------------------------------------------

    async def camera_model(self, actor: Actor, camera_id: str) -> CameraModel:
        """What a camera runs, with its latest assignments.

        Raises:
            NotFoundError: Unknown camera, or one outside the actor's scope.
        """
        require_visible(actor, camera_id, f"camera {camera_id}")
        camera = await self._db.cameras.get(camera_id)
        history = await self._db.model_registry.assignments(camera_id, limit=_HISTORY)
        resolved = await asyncio.to_thread(self._resolve, camera.model)
        return CameraModel(camera.id, camera.name, camera.model, resolved, history)

    def _resolve(self, ref: str) -> str | None:
        parts = _parts(ref)
        if parts is None:
            return None
        name, version = parts
        if version is not None:
            return ref
        try:
            return self._models.info(name).ref
        except ModelNotFoundError:
            return None

    async def assign(
        self, actor: Actor, camera_id: str, ref: str, *, action: AssignmentAction = "assign"
    ) -> CameraModel:
        """Run ``ref`` on a camera (its pipeline restarts), audited ``model.assign``.

        Raises:
            PermissionDeniedError: The camera is outside the actor's scope.
            NotFoundError: Unknown camera, or a version not in the models directory.
            ValidationError: A malformed reference.
        """
        require_camera(actor, camera_id)
        await self._check_runnable(actor, ref)
        await self._change(actor, await self._db.cameras.get(camera_id), ref, action)
        return await self.camera_model(actor, camera_id)

    async def promote(self, actor: Actor, ref: str, camera_ids: Sequence[str]) -> list[CameraModel]:
        """Run ``ref`` on every camera of ``camera_ids`` (a staged rollout), in that order.

        Every camera is checked (scope, existence) before any changes; each
        change is audited ``model.assign`` with ``how=promote``.

        Raises:
            PermissionDeniedError: A camera is outside the actor's scope.
            NotFoundError: An unknown camera or version.
            ValidationError: No cameras, too many, repeated ones, or a malformed reference.
        """
        if not camera_ids or len(camera_ids) > MAX_PROMOTION:
            raise ValidationError(f"promote to 1 to {MAX_PROMOTION} cameras")
        if len(set(camera_ids)) != len(camera_ids):
            raise ValidationError("a camera is named twice")
        for camera_id in camera_ids:
            require_camera(actor, camera_id)
        await self._check_runnable(actor, ref)
        cameras = [await self._db.cameras.get(camera_id) for camera_id in camera_ids]
        for camera in cameras:
            await self._change(actor, camera, ref, "promote")
        return [await self.camera_model(actor, c.id) for c in cameras]

    async def rollback(self, actor: Actor, camera_id: str) -> CameraModel:
        """Put a camera back on the reference it ran before its last change.

        Raises:
            PermissionDeniedError: The camera is outside the actor's scope.
            NotFoundError: Unknown camera, or the earlier version is gone from disk.
            ValidationError: The camera's model was never changed through the registry.
        """
        require_camera(actor, camera_id)
        camera = await self._db.cameras.get(camera_id)
        last = await self._db.model_registry.assignments(camera_id, limit=1)
        if not last or last[0].ref != camera.model:
            raise ValidationError(
                f"camera {camera_id} has no registry change to roll back (it runs {camera.model})"
            )
        await self._check_runnable(actor, last[0].previous_ref)
        await self._change(actor, camera, last[0].previous_ref, "rollback")
        return await self.camera_model(actor, camera_id)

    async def _check_runnable(self, actor: Actor, ref: str) -> None:
        name, version = split_ref(ref)
        try:
            if version is None:
                if name not in self._models.builder_names:
                    await asyncio.to_thread(self._models.info, name)
                return
            manifest = await asyncio.to_thread(self._models.version, name, version)
        except ModelNotFoundError as exc:
            raise NotFoundError(str(exc)) from exc
        await self._register(actor, manifest)

    async def _change(
        self, actor: Actor, camera: Camera, ref: str, action: AssignmentAction
    ) -> None:
        if camera.model == ref:
            return
        await self._cameras.update_camera(actor, camera.id, CameraChanges(model=ref))
        now = self._clock()
        assignment = ModelAssignment(
            id=new_event_id(now),
            camera_id=camera.id,
            ref=ref,
            previous_ref=camera.model,
            action=action,
            at=now,
            by=actor.audit_name,
        )
        await self._db.model_registry.add_assignment(assignment)
        await record(
            self._db.audit,
            actor,
            "model.assign",
            f"camera:{camera.id}",
            ref=ref,
            previous=camera.model,
            how=action,
        )


def _parts(ref: str) -> tuple[str, str | None] | None:
    """Name and version of a reference; ``None`` for anything else (an ``.onnx`` path)."""
    try:
        return split_ref(ref)
    except ValidationError:
        return None


def _runs(camera: Camera, ref: str, current: dict[str, str]) -> bool:
    parts = _parts(camera.model)
    if parts is None:
        return False
    name, version = parts
    return f"{name}@{version or current.get(name)}" == ref
