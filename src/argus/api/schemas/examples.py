"""Response schemas of the hard-example queue (``/api/v1/examples``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from argus.domain.hard_examples import ExampleSource, ExampleState, HardExample, LabelBox
from argus.services.hard_examples import ExampleSummary

__all__ = ["ExampleBox", "ExampleList", "ExamplePublic", "ExampleSummaryPublic"]


class ExampleBox(BaseModel):
    """One box on an example's frame, in the stored frame's pixels."""

    x1: float = Field(description="Left edge.")
    y1: float = Field(description="Top edge.")
    x2: float = Field(description="Right edge.")
    y2: float = Field(description="Bottom edge.")
    class_name: str = Field(description="Object class.")
    score: float | None = Field(description="The model's score; null for a box a person drew.")

    @classmethod
    def of(cls, box: LabelBox) -> ExampleBox:
        """The public form of a box."""
        return cls(
            x1=box.x1, y1=box.y1, x2=box.x2, y2=box.y2, class_name=box.class_name, score=box.score
        )


class ExamplePublic(BaseModel):
    """A hard example: a frame worth a label, the model's boxes and people's labels."""

    id: str
    camera_id: str
    source: ExampleSource = Field(
        description="Why it was collected: false_positive, confirmed, uncertain, short_track "
        "or id_switch."
    )
    captured_at: datetime = Field(description="When the frame was seen.")
    created_at: datetime = Field(description="When it was queued.")
    width: int = Field(description="Frame width in pixels.")
    height: int = Field(description="Frame height in pixels.")
    model_ref: str = Field(description="The model that drew ``boxes`` (name@version).")
    boxes: list[ExampleBox] = Field(description="What the model reported on the frame.")
    alert_id: str | None = Field(description="The alert it came from, if any.")
    note: str = Field(description="The reason in words (a dismissal reason, a score band).")
    state: ExampleState = Field(description="queued, labelled, accepted or rejected.")
    assignee: str | None = Field(description="Who holds it for labelling.")
    lease_until: datetime | None = Field(description="Until when the assignee holds it.")
    labels: list[ExampleBox] = Field(description="People's boxes.")
    empty: bool = Field(description="The labeller marked that nothing is there.")
    labelled_by: str | None
    labelled_at: datetime | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str
    version: int = Field(description="Bumped on every change.")
    frame_url: str = Field(description="Where its frame (JPEG) is read.")

    @classmethod
    def of(cls, example: HardExample) -> ExamplePublic:
        """The public form of an example."""
        return cls(
            id=example.id,
            camera_id=example.camera_id,
            source=example.source,
            captured_at=example.captured_at,
            created_at=example.created_at,
            width=example.width,
            height=example.height,
            model_ref=example.model_ref,
            boxes=[ExampleBox.of(b) for b in example.boxes],
            alert_id=example.alert_id,
            note=example.note,
            state=example.state,
            assignee=example.assignee,
            lease_until=example.lease_until,
            labels=[ExampleBox.of(b) for b in example.labels],
            empty=example.empty,
            labelled_by=example.labelled_by,
            labelled_at=example.labelled_at,
            reviewed_by=example.reviewed_by,
            reviewed_at=example.reviewed_at,
            review_note=example.review_note,
            version=example.version,
            frame_url=f"/api/v1/examples/{example.id}/frame",
        )


class ExampleList(BaseModel):
    """One page of examples."""

    items: list[ExamplePublic]
    total: int = Field(description="How many match over all pages.")


class ExampleSummaryPublic(BaseModel):
    """Counts of the examples the caller sees."""

    total: int
    by_state: dict[str, int] = Field(description="Per state (every state named).")
    by_source: dict[str, int] = Field(description="Per source (every source named).")
    by_camera: dict[str, int] = Field(description="Per camera that has any.")

    @classmethod
    def of(cls, summary: ExampleSummary) -> ExampleSummaryPublic:
        """The public form of a summary."""
        return cls(
            total=summary.total,
            by_state=dict(summary.by_state),
            by_source=dict(summary.by_source),
            by_camera=dict(summary.by_camera),
        )
