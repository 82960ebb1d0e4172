"""Request and response schemas of the model registry (``/api/v1/models``, camera models)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from argus.api.schemas.common import StrictModel, Text
from argus.domain.model_registry import AssignmentAction, ModelAssignment
from argus.services.model_registry import MAX_PROMOTION, CameraModel, PackVersions, VersionView

__all__ = [
    "CameraModelPublic",
    "CameraModelUpdate",
    "ModelAssignmentPublic",
    "ModelCatalog",
    "ModelPackPublic",
    "ModelPromote",
    "ModelVersionPublic",
    "PromotionPublic",
]

Ref = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=200,
        description="``name`` (the pack's current version) or ``name@version`` (pinned).",
    ),
]


class ModelVersionPublic(BaseModel):
    """One registered version of a model pack."""

    name: str
    version: str
    ref: str = Field(description="``name@version``, as events record it.")
    kind: str = Field(description="Runtime family: yolo-onnx, opencv-ssd...")
    licence: str = Field(description="SPDX id of the weights' licence.")
    source_package: str
    input_sizes: list[int]
    classes: int = Field(description="How many classes it detects.")
    built_at: str = Field(description="When the pack was built or imported (ISO-8601).")
    registered_at: datetime
    registered_by: str
    notes: str
    current: bool = Field(description="Whether the bare pack name runs this version.")
    on_disk: bool = Field(description="Whether its files are on this server.")
    cameras: list[str] = Field(description="Cameras (visible to you) running it.")

    @classmethod
    def of(cls, view: VersionView) -> ModelVersionPublic:
        """The public form of a catalogue row."""
        v, manifest = view.version, view.version.manifest
        sizes = {f.get("input_size") for f in manifest.get("files", ())}
        return cls(
            name=v.name,
            version=v.version,
            ref=v.ref,
            kind=v.kind,
            licence=str(manifest.get("licence", "")),
            source_package=str(manifest.get("source_package", "")),
            input_sizes=sorted(s for s in sizes if isinstance(s, int)),
            classes=len(manifest.get("class_names", ())),
            built_at=str(manifest.get("created", "")),
            registered_at=v.registered_at,
            registered_by=v.registered_by,
            notes=v.notes,
            current=view.current,
            on_disk=view.on_disk,
            cameras=list(view.cameras),
        )


class ModelPackPublic(BaseModel):
    """A model pack and its versions, oldest first."""

    name: str
    current_version: str | None = Field(description="What the bare name runs; null: not built.")
    versions: list[ModelVersionPublic]

    @classmethod
    def of(cls, pack: PackVersions) -> ModelPackPublic:
        """The public form of a pack."""
        return cls(
            name=pack.name,
            current_version=pack.current_version,
            versions=[ModelVersionPublic.of(v) for v in pack.versions],
        )


class ModelCatalog(BaseModel):
    """Every registered model pack."""

    items: list[ModelPackPublic]


class ModelAssignmentPublic(BaseModel):
    """One change of a camera's model."""

    id: str
    camera_id: str
    ref: str
    previous_ref: str
    action: AssignmentAction = Field(description="assign, promote or rollback.")
    at: datetime
    by: str

    @classmethod
    def of(cls, item: ModelAssignment) -> ModelAssignmentPublic:
        """The public form of an assignment."""
        return cls(
            id=item.id,
            camera_id=item.camera_id,
            ref=item.ref,
            previous_ref=item.previous_ref,
            action=item.action,
            at=item.at,
            by=item.by,
        )


class CameraModelPublic(BaseModel):
    """What a camera runs, and its latest model changes (newest first)."""

    camera_id: str
    camera_name: str
    assigned: str = Field(description="The camera's model: ``name`` or ``name@version``.")
    resolved: str | None = Field(description="The ``name@version`` it runs; null: not built.")
    pinned: bool = Field(description="Whether it is pinned to one version.")
    history: list[ModelAssignmentPublic]

    @classmethod
    def of(cls, item: CameraModel) -> CameraModelPublic:
        """The public form of a camera's model."""
        return cls(
            camera_id=item.camera_id,
            camera_name=item.camera_name,
            assigned=item.assigned,
            resolved=item.resolved,
            pinned="@" in item.assigned,
            history=[ModelAssignmentPublic.of(a) for a in item.history],
        )


class CameraModelUpdate(StrictModel):
    """The model a camera should run."""

    ref: Ref


class ModelPromote(StrictModel):
    """A version to roll out to a list of cameras, changed in that order."""

    ref: Ref
    camera_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=MAX_PROMOTION, description="The cameras, in rollout order."
    )


class PromotionPublic(BaseModel):
    """The cameras a promotion changed, in order."""

    items: list[CameraModelPublic]
