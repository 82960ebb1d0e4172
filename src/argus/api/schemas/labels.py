"""Request and response schemas of labelling (``/api/v1/examples/{id}/...``).

Boxes are pixels of the example's stored frame: ``x1 < x2``, ``y1 < y2``, inside
the frame (checked against the frame's size by the service).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from argus.api.schemas.common import StrictModel, Text
from argus.api.schemas.examples import ExamplePublic
from argus.domain.hard_examples import MAX_BOXES, LabelBox

__all__ = ["LabelBoxIn", "LabelsUpdate", "NextExample", "ReviewCreate"]


class LabelBoxIn(StrictModel):
    """One box a person drew or corrected."""

    x1: float = Field(strict=False, ge=0, le=100_000, description="Left edge (pixels).")
    y1: float = Field(strict=False, ge=0, le=100_000, description="Top edge (pixels).")
    x2: float = Field(strict=False, ge=0, le=100_000, description="Right edge (pixels).")
    y2: float = Field(strict=False, ge=0, le=100_000, description="Bottom edge (pixels).")
    class_name: Text = Field(min_length=1, max_length=64, description="Object class (COCO name).")

    def box(self) -> LabelBox:
        """The domain box (``ValidationError`` when its edges are the wrong way round)."""
        return LabelBox(self.x1, self.y1, self.x2, self.y2, self.class_name)


class LabelsUpdate(StrictModel):
    """The caller's labels for an example: boxes, or nothing there."""

    labels: list[LabelBoxIn] = Field(
        max_length=MAX_BOXES, description="The boxes (empty when ``empty``)."
    )
    empty: bool = Field(False, description="The frame shows nothing to detect.")
    submit: bool = Field(
        False, description="Hand the label to review (else a draft that keeps the claim)."
    )
    expected_version: int | None = Field(
        None, ge=1, description="The example's version the labeller read (409 if it changed)."
    )


class ReviewCreate(StrictModel):
    """A reviewer's verdict on someone else's label."""

    accept: bool = Field(description="Accept into the annotated set; false sends it back.")
    note: Text = Field("", max_length=500, description="Why (shown to the next labeller).")
    expected_version: int | None = Field(
        None, ge=1, description="The example's version the reviewer looked at (409 if changed)."
    )


class NextExample(BaseModel):
    """The example claimed for the caller, or none when nothing is left to label."""

    example: ExamplePublic | None
