"""The hard-example queue: list, read, counts and frames (issue 21, part A).

``GET /examples`` lists the examples the caller's cameras hold (filters and
paging), ``GET /examples/summary`` counts them by state, source and camera,
``GET /examples/{id}`` reads one with its boxes and labels, and
``GET /examples/{id}/frame`` serves its sealed frame (JPEG, verified and
audited as an evidence read). Reads need ``view``; examples of cameras
outside the caller's scope do not exist for it. Labelling is ``labels``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, Moment
from argus.api.schemas.examples import ExampleList, ExamplePublic, ExampleSummaryPublic
from argus.api.security import Acting
from argus.domain.hard_examples import ExampleSource, ExampleState
from argus.ports.hard_examples import ExampleFilter
from argus.ports.paging import MAX_PAGE
from argus.services.hard_examples import HardExampleService

__all__ = ["router"]

router = APIRouter(tags=["Hard examples"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

ExampleId = Annotated[str, Path(min_length=1, max_length=64, description="Hard example id.")]
CameraQuery = Annotated[
    str | None, Query(min_length=1, max_length=64, description="Only this camera's examples.")
]


def get_examples(runtime: RuntimeDep) -> HardExampleService:
    """The app's hard-example queue."""
    return runtime.learning.examples


ExamplesDep = Annotated[HardExampleService, Depends(get_examples)]


@router.get("/examples", summary="List hard examples")
async def list_examples(
    examples: ExamplesDep,
    actor: Acting,
    camera_id: CameraQuery = None,
    source: Annotated[ExampleSource | None, Query(description="Why it was collected.")] = None,
    state: Annotated[
        list[ExampleState] | None, Query(description="Workflow state (repeat for several).")
    ] = None,
    since: Annotated[Moment | None, Query(description="Captured at or after.")] = None,
    until: Annotated[Moment | None, Query(description="Captured strictly before.")] = None,
    model_ref: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Produced by this model.")
    ] = None,
    assignee: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Held by this user id.")
    ] = None,
    labelled_by: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Labelled by this user id.")
    ] = None,
    oldest_first: Annotated[bool, Query(description="Oldest capture first.")] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ExampleList:
    """The caller's examples, newest capture first, with the total that matched."""
    where = ExampleFilter(
        camera_ids=None if camera_id is None else (camera_id,),
        sources=None if source is None else (source,),
        states=None if not state else tuple(state),
        assignee=assignee,
        labelled_by=labelled_by,
        since=since,
        until=until,
        model_ref=model_ref,
    )
    page = await examples.list(actor, where, limit=limit, offset=offset, oldest_first=oldest_first)
    return ExampleList(items=[ExamplePublic.of(e) for e in page.items], total=page.total)


@router.get("/examples/summary", summary="Count hard examples")
async def summary(
    examples: ExamplesDep, actor: Acting, camera_id: CameraQuery = None
) -> ExampleSummaryPublic:
    """How many examples the caller sees, by state, source and camera."""
    where = ExampleFilter(camera_ids=None if camera_id is None else (camera_id,))
    return ExampleSummaryPublic.of(await examples.summary(actor, where))


@router.get("/examples/{example_id}", summary="Get a hard example")
async def get_example(example_id: ExampleId, examples: ExamplesDep, actor: Acting) -> ExamplePublic:
    """The example with the model's boxes and people's labels."""
    return ExamplePublic.of(await examples.get(actor, example_id))


@router.get(
    "/examples/{example_id}/frame",
    response_class=Response,
    summary="A hard example's frame",
    responses={
        200: {
            "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
            "description": "The frame as JPEG (verified; boxes are in its pixels).",
        }
    },
)
async def frame(example_id: ExampleId, examples: ExamplesDep, actor: Acting) -> Response:
    """The example's sealed frame, verified and decrypted (audited as an evidence read)."""
    data = await examples.frame(example_id, actor=actor)
    return Response(
        content=data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"}
    )
