"""Model versions and per-camera assignment.

``GET /models`` lists every registered pack version (packs built or imported
on this server are registered when read) with the cameras running each;
``GET /models/{name}/versions`` one pack. ``GET /cameras/{camera_id}/model``
says what a camera runs and how it came to; ``PUT`` assigns a version (its
pipeline restarts), ``POST /models/promote`` rolls one out to a list of
cameras, ``POST /cameras/{camera_id}/model/rollback`` returns a camera to the
model it ran before its last change. Reads need ``view``, changes
``configure``; the service checks camera scopes and audits every change.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from argus.api.deps import CameraId, RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.model_registry import (
    CameraModelPublic,
    CameraModelUpdate,
    ModelCatalog,
    ModelPackPublic,
    ModelPromote,
    PromotionPublic,
)
from argus.api.security import Acting
from argus.services.model_registry import ModelRegistry

__all__ = ["router"]

router = APIRouter(tags=["models"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

PackName = Annotated[str, Path(min_length=1, max_length=64, description="Model pack name.")]


def get_registry(runtime: RuntimeDep) -> ModelRegistry:
    """The app's model registry."""
    return runtime.learning.registry


RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]


@router.get("/models", summary="List model packs and their versions")
async def list_models(registry: RegistryDep, actor: Acting) -> ModelCatalog:
    """Every registered pack version, which one is current, and the cameras running each."""
    packs = await registry.catalog(actor)
    return ModelCatalog(items=[ModelPackPublic.of(p) for p in packs])


@router.get("/models/{name}/versions", summary="List a model pack's versions")
async def list_versions(name: PackName, registry: RegistryDep, actor: Acting) -> ModelPackPublic:
    """One pack's versions, oldest first."""
    return ModelPackPublic.of((await registry.catalog(actor, name))[0])


@router.post("/models/promote", summary="Roll a model version out to cameras")
async def promote(body: ModelPromote, registry: RegistryDep, actor: Acting) -> PromotionPublic:
    """Assign the version to every listed camera, in order (all are checked first)."""
    changed = await registry.promote(actor, body.ref, body.camera_ids)
    return PromotionPublic(items=[CameraModelPublic.of(c) for c in changed])


@router.get("/cameras/{camera_id}/model", summary="Get a camera's model")
async def camera_model(
    camera_id: CameraId, registry: RegistryDep, actor: Acting
) -> CameraModelPublic:
    """The model the camera runs and its latest changes."""
    return CameraModelPublic.of(await registry.camera_model(actor, camera_id))


@router.put("/cameras/{camera_id}/model", summary="Assign a model version to a camera")
async def assign(
    camera_id: CameraId, body: CameraModelUpdate, registry: RegistryDep, actor: Acting
) -> CameraModelPublic:
    """Run ``name@version`` (or the pack's current version) on the camera; it restarts."""
    return CameraModelPublic.of(await registry.assign(actor, camera_id, body.ref))


@router.post("/cameras/{camera_id}/model/rollback", summary="Roll a camera's model back")
async def rollback(camera_id: CameraId, registry: RegistryDep, actor: Acting) -> CameraModelPublic:
    """Return the camera to the model it ran before its last change."""
    return CameraModelPublic.of(await registry.rollback(actor, camera_id))
