"""Request and response schemas of dataset exports (``/api/v1/datasets``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field

from argus.api.schemas.common import Moment, StrictModel
from argus.domain.dataset_split import SplitRule
from argus.services.dataset_export import ExportRequest, ExportSummary

__all__ = ["DatasetExportCreate", "DatasetSummaryPublic"]


class DatasetExportCreate(StrictModel):
    """Which labelled examples an export takes, how it splits them, and their licence."""

    camera_ids: list[str] | None = Field(
        None,
        max_length=500,
        description="These cameras only (default: every camera you see).",
    )
    since: Moment | None = Field(None, strict=False, description="Frames captured at or after.")
    until: Moment | None = Field(None, strict=False, description="Frames captured before.")
    include_unreviewed: bool = Field(
        False, description="Also take labelled examples nobody has reviewed yet."
    )
    classes: list[str] | None = Field(
        None,
        min_length=1,
        max_length=1000,
        description="Classes in export order (YOLO class 0 first); boxes of other classes "
        "are dropped. Default: every labelled class, sorted.",
    )
    val_fraction: float = Field(
        0.2, ge=0.0, le=0.9, description="Share of frames wanted in validation."
    )
    split_by: Literal["time", "camera"] = Field(
        "time",
        description="time: a camera's time blocks stay on one side; camera: whole cameras do.",
    )
    block_minutes: float = Field(
        10.0, ge=1 / 60, le=7 * 24 * 60, description="Length of a time block in minutes."
    )
    max_distance: int = Field(
        12,
        ge=0,
        le=128,
        description="Frames whose 256-bit difference hashes differ in at most this many bits "
        "are near duplicates and share a side.",
    )
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Draws which groups go to validation.")
    licence: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="Licence of the source video (default: the server's, 'site footage').",
    )
    camera_licences: dict[str, str] = Field(
        default_factory=dict,
        max_length=500,
        description="A licence per camera id, overriding licence.",
    )
    name: str = Field(
        "argus-dataset",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="The dataset's name (file name and COCO info).",
    )

    def command(self) -> ExportRequest:
        """The service's request."""
        return ExportRequest(
            camera_ids=None if self.camera_ids is None else tuple(self.camera_ids),
            since=self.since,
            until=self.until,
            include_unreviewed=self.include_unreviewed,
            classes=None if self.classes is None else tuple(self.classes),
            rule=SplitRule(
                val_fraction=self.val_fraction,
                by=self.split_by,
                block=timedelta(minutes=self.block_minutes),
                max_distance=self.max_distance,
                seed=self.seed,
            ),
            licence=self.licence,
            camera_licences=dict(self.camera_licences),
            name=self.name,
        )


class DatasetSummaryPublic(BaseModel):
    """What an export holds (or would hold), per split ``train`` and ``val``."""

    images: dict[str, int] = Field(description="Frames per split.")
    boxes: dict[str, int] = Field(description="Boxes per split.")
    negatives: dict[str, int] = Field(description="Frames marked 'nothing here', per split.")
    boxes_per_class: dict[str, dict[str, int]] = Field(description="Boxes per class and split.")
    classes: list[str] = Field(description="Classes in export order.")
    cameras: dict[str, int] = Field(description="Frames per camera id.")
    model_refs: dict[str, int] = Field(description="Frames per model (name@version).")
    groups: int = Field(description="Groups kept on one side (time blocks, near duplicates).")
    near_duplicates: int = Field(description="Near-duplicate pairs found.")
    dropped_boxes: int = Field(description="Boxes of classes outside the export's classes.")
    skipped: dict[str, str] = Field(description="Examples left out (id: reason).")

    @classmethod
    def of(cls, summary: ExportSummary) -> DatasetSummaryPublic:
        """The public form of a summary."""
        return cls(**summary.to_dict())
