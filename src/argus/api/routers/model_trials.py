"""Shadow runs and evaluations of model versions (issue 21, part D2).

``PUT /cameras/{camera_id}/shadow`` runs a candidate beside the camera's
production model on a sample of frames; ``DELETE`` ends it;
``GET /models/shadow`` lists the runs and their agreement. ``POST
/models/evaluations`` queues a model version for scoring on the annotated
set (202); ``GET /models/evaluations[/{id}]`` reads them. Reads need
``view``, writes ``configure`` (the router's guard); the service checks the
camera scope and audits every write.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from argus.api.deps import CameraId, RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.model_trials import (
    EvaluationCreate,
    EvaluationList,
    EvaluationPublic,
    ShadowOverviewPublic,
    ShadowPlanPublic,
    ShadowStartBody,
)
from argus.api.security import Acting
from argus.services.model_trials import EvaluationRequest, ModelTrials, ShadowStart

__all__ = ["router"]

router = APIRouter(
    tags=["Shadow runs and evaluations"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)

EvaluationId = Annotated[str, Path(min_length=1, max_length=64, description="Evaluation id.")]


def get_trials(runtime: RuntimeDep) -> ModelTrials:
    """The app's model trials."""
    return runtime.learning.trials


TrialsDep = Annotated[ModelTrials, Depends(get_trials)]


@router.put("/cameras/{camera_id}/shadow", summary="Run a shadow model on a camera")
async def start_shadow(
    camera_id: CameraId, body: ShadowStartBody, trials: TrialsDep, actor: Acting
) -> ShadowPlanPublic:
    """Run the candidate beside production on one frame in ``sample_every`` (replaces a run)."""
    command = ShadowStart(
        candidate=body.candidate,
        sample_every=body.sample_every,
        report_every=body.report_every,
        iou_threshold=body.iou_threshold,
    )
    return ShadowPlanPublic.of(await trials.start_shadow(actor, camera_id, command))


@router.delete("/cameras/{camera_id}/shadow", status_code=204, summary="End a shadow run")
async def stop_shadow(camera_id: CameraId, trials: TrialsDep, actor: Acting) -> Response:
    """End the camera's shadow run (its reports are kept)."""
    await trials.stop_shadow(actor, camera_id)
    return Response(status_code=204)


@router.get("/models/shadow", summary="Shadow runs and their agreement")
async def shadow(
    trials: TrialsDep,
    actor: Acting,
    camera_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> ShadowOverviewPublic:
    """Runs in force and, per camera and candidate, the summed agreement reports."""
    return ShadowOverviewPublic.of(await trials.shadow(actor, camera_id))


@router.post("/models/evaluations", status_code=202, summary="Evaluate a model version")
async def request_evaluation(
    body: EvaluationCreate, trials: TrialsDep, actor: Acting
) -> EvaluationPublic:
    """Queue a scoring of the model on the accepted hard examples of your cameras."""
    command = EvaluationRequest(model=body.model, score_threshold=body.score_threshold)
    return EvaluationPublic.of(await trials.request_evaluation(actor, command))


@router.get("/models/evaluations", summary="List evaluations")
async def evaluations(
    trials: TrialsDep,
    actor: Acting,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EvaluationList:
    """The newest evaluations first, with their scores once done."""
    runs = await trials.evaluations(actor, limit=limit)
    return EvaluationList(items=[EvaluationPublic.of(r) for r in runs])


@router.get("/models/evaluations/{evaluation_id}", summary="Get an evaluation")
async def evaluation(
    evaluation_id: EvaluationId, trials: TrialsDep, actor: Acting
) -> EvaluationPublic:
    """One evaluation: mAP@0.5, mAP@0.5:0.95, precision and recall per class."""
    return EvaluationPublic.of(await trials.evaluation(actor, evaluation_id))
