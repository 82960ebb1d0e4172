"""Labelling hard examples: claim, label, release, review.

``POST /examples/{id}/claim`` holds an example for the caller (a lease, renewed
by each save); ``POST /examples/next`` claims the oldest free one (the caller's
own held one first); ``PUT /examples/{id}/labels`` saves boxes or "nothing
here" as a draft or, with ``submit``, for review; ``POST /examples/{id}/review``
accepts or sends back someone else's label; ``POST /examples/{id}/release``
gives a claim up. All need ``operate``; examples of cameras outside the caller's
scope answer 404. The service audits every change.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.examples import ExamplePublic
from argus.api.schemas.labels import LabelsUpdate, NextExample, ReviewCreate
from argus.api.security import Acting
from argus.services.labelling import LabelChange, LabellingService, ReviewDecision

__all__ = ["router"]

router = APIRouter(tags=["Labelling"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

ExampleId = Annotated[str, Path(min_length=1, max_length=64, description="Hard example id.")]


def get_labelling(runtime: RuntimeDep) -> LabellingService:
    """The app's labelling service."""
    return runtime.learning.labelling


LabellingDep = Annotated[LabellingService, Depends(get_labelling)]


@router.post("/examples/next", summary="Claim the next example to label")
async def claim_next(
    labelling: LabellingDep,
    actor: Acting,
    camera_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> NextExample:
    """The caller's held example, else the oldest free queued or sent-back one, now claimed."""
    example = await labelling.claim_next(actor, camera_id)
    return NextExample(example=None if example is None else ExamplePublic.of(example))


@router.post("/examples/{example_id}/claim", summary="Claim an example for labelling")
async def claim(example_id: ExampleId, labelling: LabellingDep, actor: Acting) -> ExamplePublic:
    """Hold the example (409 while someone else holds it or it is not open for labelling)."""
    return ExamplePublic.of(await labelling.claim(actor, example_id))


@router.post("/examples/{example_id}/release", summary="Give up a claim")
async def release(example_id: ExampleId, labelling: LabellingDep, actor: Acting) -> ExamplePublic:
    """End the caller's hold (an administrator may end anyone's)."""
    return ExamplePublic.of(await labelling.release(actor, example_id))


@router.put("/examples/{example_id}/labels", summary="Save an example's labels")
async def save_labels(
    example_id: ExampleId, body: LabelsUpdate, labelling: LabellingDep, actor: Acting
) -> ExamplePublic:
    """Store boxes or "nothing here": a draft, or with ``submit`` handed to review."""
    change = LabelChange(
        labels=tuple(b.box() for b in body.labels),
        empty=body.empty,
        submit=body.submit,
        expected_version=body.expected_version,
    )
    return ExamplePublic.of(await labelling.save(actor, example_id, change))


@router.post("/examples/{example_id}/review", summary="Review someone else's label")
async def review(
    example_id: ExampleId, body: ReviewCreate, labelling: LabellingDep, actor: Acting
) -> ExamplePublic:
    """Accept the label into the annotated set, or send it back with a note."""
    decision = ReviewDecision(body.accept, body.note, body.expected_version)
    return ExamplePublic.of(await labelling.review(actor, example_id, decision))
