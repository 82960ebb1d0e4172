"""Hard examples: frames worth a human label, and the labels people give them.

A hard example is one frame of a camera that a model got wrong or was unsure
about: an alert an operator dismissed as a false positive or confirmed, a
detection whose score fell inside the uncertainty band, or tracker trouble
(a track that lived only a few frames, an identity switch near a line). It
keeps the frame (sealed like evidence, by its evidence id), the boxes the
model produced and the model that produced them (``name@version``).

People then label it: correct, add or delete boxes, or mark that nothing is
there. One person holds an example at a time (``assignee`` until
``lease_until``); someone else reviews the label. Every change is audited by
the service that makes it.

Box coordinates are pixels of the stored frame (``width`` x ``height``),
``x1 < x2`` and ``y1 < y2``, inside the frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from argus.domain.errors import ValidationError

__all__ = [
    "MAX_BOXES",
    "ExampleSource",
    "ExampleState",
    "HardExample",
    "LabelBox",
]

MAX_BOXES = 300
"""Most boxes one example keeps (model boxes or labels)."""


class ExampleSource(StrEnum):
    """Why a frame became a hard example."""

    FALSE_POSITIVE = "false_positive"
    """An alert an operator dismissed as a false positive."""
    CONFIRMED = "confirmed"
    """An alert an operator confirmed (a positive worth keeping)."""
    UNCERTAIN = "uncertain"
    """A detection whose score fell inside the uncertainty band."""
    SHORT_TRACK = "short_track"
    """A track that ended after only a few frames."""
    ID_SWITCH = "id_switch"
    """A track that took over another's identity near a counting line."""


class ExampleState(StrEnum):
    """Where an example stands in the labelling workflow."""

    QUEUED = "queued"
    """Waiting for a label (possibly held by an assignee)."""
    LABELLED = "labelled"
    """Labelled, waiting for someone else's review."""
    ACCEPTED = "accepted"
    """Label reviewed and accepted: part of the annotated set."""
    REJECTED = "rejected"
    """Label reviewed and sent back (queued again by the reviewer's service)."""


@dataclass(frozen=True, slots=True)
class LabelBox:
    """One box on a frame, in the frame's pixels.

    Attributes:
        x1: Left edge.
        y1: Top edge.
        x2: Right edge (greater than ``x1``).
        y2: Bottom edge (greater than ``y1``).
        class_name: Object class (a COCO name such as ``person``).
        score: The model's score, ``None`` for a box a person drew.
    """

    x1: float
    y1: float
    x2: float
    y2: float
    class_name: str
    score: float | None = None

    def __post_init__(self) -> None:
        values = (self.x1, self.y1, self.x2, self.y2)
        if not all(math.isfinite(v) for v in values):
            raise ValidationError("a box's coordinates must be finite numbers")
        if not (self.x1 < self.x2 and self.y1 < self.y2):
            raise ValidationError(
                f"a box needs x1 < x2 and y1 < y2 (got {self.x1}, {self.y1}, {self.x2}, {self.y2})"
            )
        if not self.class_name or len(self.class_name) > 64:
            raise ValidationError("a box's class name must be 1 to 64 characters")
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValidationError(f"a box's score must be within [0, 1] (got {self.score})")

    def inside(self, width: int, height: int) -> bool:
        """Whether the box lies within a ``width`` x ``height`` frame."""
        return self.x1 >= 0 and self.y1 >= 0 and self.x2 <= width and self.y2 <= height

    @property
    def area(self) -> float:
        """Area in square pixels."""
        return (self.x2 - self.x1) * (self.y2 - self.y1)


@dataclass(frozen=True, slots=True)
class HardExample:
    """A frame worth a label, with the model's boxes and, once labelled, people's.

    Attributes:
        id: Unique, sortable id (ULID).
        camera_id: The camera the frame came from.
        source: Why it was collected.
        captured_at: When the frame was seen (UTC).
        created_at: When it was queued (UTC).
        frame_evidence_id: The sealed frame (an evidence item, JPEG).
        width: Frame width in pixels.
        height: Frame height in pixels.
        model_ref: ``name@version`` of the model that produced ``boxes``.
        boxes: What the model reported on the frame.
        source_key: What it came from, unique per source (an alert id, an event
            id), so a replayed verdict or event never queues it twice.
        alert_id: The alert it came from, if any.
        note: A short reason in words (the dismissal reason, the score band).
        state: Where it stands in the workflow.
        assignee: Who holds it for labelling (user id), if anyone.
        lease_until: Until when the assignee holds it.
        labels: People's boxes (empty with ``empty`` set: nothing there).
        empty: The labeller marked that the frame shows nothing to detect.
        labelled_by: Who labelled it last.
        labelled_at: When.
        reviewed_by: Who reviewed the label (never the labeller).
        reviewed_at: When.
        review_note: The reviewer's remark.
        version: Bumped on every change (optimistic concurrency).
    """

    id: str
    camera_id: str
    source: ExampleSource
    captured_at: datetime
    created_at: datetime
    frame_evidence_id: str
    width: int
    height: int
    model_ref: str
    boxes: tuple[LabelBox, ...] = ()
    source_key: str = ""
    alert_id: str | None = None
    note: str = ""
    state: ExampleState = ExampleState.QUEUED
    assignee: str | None = None
    lease_until: datetime | None = None
    labels: tuple[LabelBox, ...] = ()
    empty: bool = False
    labelled_by: str | None = None
    labelled_at: datetime | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    review_note: str = ""
    version: int = 1

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValidationError(f"frame size must be positive (got {self.width}x{self.height})")
        for what, boxes in (("model boxes", self.boxes), ("labels", self.labels)):
            if len(boxes) > MAX_BOXES:
                raise ValidationError(f"at most {MAX_BOXES} {what} per example")
            outside = [b for b in boxes if not b.inside(self.width, self.height)]
            if outside:
                raise ValidationError(
                    f"{what} must lie within the {self.width}x{self.height} frame"
                )
        if self.empty and self.labels:
            raise ValidationError("an example marked as showing nothing has no labels")

    @property
    def labelled(self) -> bool:
        """Whether people have labelled it (boxes, or nothing there)."""
        return self.labelled_at is not None

    def held_by(self, user_id: str, now: datetime) -> bool:
        """Whether ``user_id`` holds it for labelling at ``now``."""
        return self.assignee == user_id and self.lease_until is not None and self.lease_until > now

    def held_by_other(self, user_id: str, now: datetime) -> bool:
        """Whether someone other than ``user_id`` holds it at ``now``."""
        return (
            self.assignee is not None
            and self.assignee != user_id
            and self.lease_until is not None
            and self.lease_until > now
        )

    def bumped(self, **changes: object) -> HardExample:
        """A copy with ``changes`` and the next version."""
        return replace(self, **changes, version=self.version + 1)  # type: ignore[arg-type]
