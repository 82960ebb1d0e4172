"""Request and response schemas of shadow runs and evaluations (``/api/v1/models/...``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from argus.api.schemas.common import StrictModel
from argus.domain.detection_eval import ClassScores, EvaluationScores
from argus.domain.model_trials import EvaluationRun, ShadowPlan
from argus.services.model_trials import ShadowOverview, ShadowSummary

__all__ = [
    "ClassScoresPublic",
    "EvaluationCreate",
    "EvaluationList",
    "EvaluationPublic",
    "ScoresPublic",
    "ShadowOverviewPublic",
    "ShadowPlanPublic",
    "ShadowStartBody",
    "ShadowSummaryPublic",
]

_REF = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}(@[A-Za-z0-9][A-Za-z0-9._+-]{0,78})?$"


class ShadowStartBody(StrictModel):
    """Run a candidate model beside the camera's production model."""

    candidate: str = Field(
        min_length=1,
        max_length=160,
        pattern=_REF,
        description="The candidate: a pack name, optionally with @version.",
    )
    sample_every: int | None = Field(
        default=None, ge=1, le=1000, description="Compare one analysed frame in this many."
    )
    report_every: int | None = Field(
        default=None, ge=1, le=10_000, description="Report every this many compared frames."
    )
    iou_threshold: float = Field(
        default=0.5, ge=0.1, le=0.95, description="Least IoU for two boxes to be one object."
    )


class ShadowPlanPublic(BaseModel):
    """A camera's shadow run."""

    camera_id: str
    candidate: str
    sample_every: int
    report_every: int
    iou_threshold: float
    started_at: datetime
    started_by: str

    @classmethod
    def of(cls, plan: ShadowPlan) -> ShadowPlanPublic:
        """The public form of a plan."""
        return cls(
            camera_id=plan.camera_id,
            candidate=plan.candidate,
            sample_every=plan.sample_every,
            report_every=plan.report_every,
            iou_threshold=plan.iou_threshold,
            started_at=plan.started_at,
            started_by=plan.started_by,
        )


class ShadowSummaryPublic(BaseModel):
    """The agreement of a candidate with production on one camera, over its reports."""

    camera_id: str
    production: str
    candidate: str
    reports: int
    first_at: datetime
    last_at: datetime
    frames: int = Field(description="Frames compared.")
    matched: int = Field(description="Same object, same class.")
    class_mismatch: int = Field(description="Same object, another class.")
    only_production: int = Field(description="Production boxes the candidate missed.")
    only_candidate: int = Field(description="Candidate boxes production does not have.")
    agreement: float = Field(description="matched / every box of either model.")
    recall_vs_production: float
    precision_vs_production: float
    production_ms: float = Field(description="Mean production detect time per frame.")
    candidate_ms: float = Field(description="Mean candidate detect time per frame.")

    @classmethod
    def of(cls, item: ShadowSummary) -> ShadowSummaryPublic:
        """The public form of a summary."""
        t = item.tally
        return cls(
            camera_id=item.camera_id,
            production=item.production,
            candidate=item.candidate,
            reports=item.reports,
            first_at=item.first_at,
            last_at=item.last_at,
            frames=t.frames,
            matched=t.matched,
            class_mismatch=t.class_mismatch,
            only_production=t.only_production,
            only_candidate=t.only_candidate,
            agreement=t.agreement,
            recall_vs_production=t.recall_vs_production,
            precision_vs_production=t.precision_vs_production,
            production_ms=item.production_ms,
            candidate_ms=item.candidate_ms,
        )


class ShadowOverviewPublic(BaseModel):
    """Shadow runs in force and what they reported."""

    plans: list[ShadowPlanPublic]
    summaries: list[ShadowSummaryPublic]

    @classmethod
    def of(cls, overview: ShadowOverview) -> ShadowOverviewPublic:
        """The public form of the overview."""
        return cls(
            plans=[ShadowPlanPublic.of(p) for p in overview.plans],
            summaries=[ShadowSummaryPublic.of(s) for s in overview.summaries],
        )


class EvaluationCreate(StrictModel):
    """Score a model version on the annotated set (accepted hard examples)."""

    model: str = Field(
        min_length=1,
        max_length=160,
        pattern=_REF,
        description="The model: a pack name, optionally with @version.",
    )
    score_threshold: float = Field(
        default=0.25, ge=0.0, le=1.0, description="Score at which precision and recall count."
    )


class ClassScoresPublic(BaseModel):
    """One class's scores."""

    class_name: str
    ap50: float
    ap50_95: float
    precision: float
    recall: float
    truth: int
    detections: int

    @classmethod
    def of(cls, item: ClassScores) -> ClassScoresPublic:
        """The public form of a class's scores."""
        return cls(
            class_name=item.class_name,
            ap50=item.ap50,
            ap50_95=item.ap50_95,
            precision=item.precision,
            recall=item.recall,
            truth=item.truth,
            detections=item.detections,
        )


class ScoresPublic(BaseModel):
    """A model's scores on the annotated set."""

    map50: float = Field(description="mAP at IoU 0.5.")
    map50_95: float = Field(description="mAP averaged over IoU 0.5:0.95.")
    precision: float
    recall: float
    frames: int
    classes: list[ClassScoresPublic]

    @classmethod
    def of(cls, scores: EvaluationScores) -> ScoresPublic:
        """The public form of scores."""
        return cls(
            map50=scores.map50,
            map50_95=scores.map50_95,
            precision=scores.precision,
            recall=scores.recall,
            frames=scores.frames,
            classes=[ClassScoresPublic.of(c) for c in scores.classes],
        )


class EvaluationPublic(BaseModel):
    """An evaluation and, once done, its scores."""

    id: str
    model: str
    state: str = Field(description="queued, running, done or failed.")
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None
    score_threshold: float
    scores: ScoresPublic | None
    error: str

    @classmethod
    def of(cls, run: EvaluationRun) -> EvaluationPublic:
        """The public form of an evaluation."""
        return cls(
            id=run.id,
            model=run.model,
            state=run.state.value,
            requested_by=run.requested_by,
            requested_at=run.requested_at,
            finished_at=run.finished_at,
            score_threshold=run.score_threshold,
            scores=ScoresPublic.of(run.scores) if run.scores is not None else None,
            error=run.error,
        )


class EvaluationList(BaseModel):
    """Evaluations, newest first."""

    items: list[EvaluationPublic]
