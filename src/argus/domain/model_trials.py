"""Trials of model versions: shadow runs beside production, and evaluations.

A **shadow plan** says that a camera runs a candidate model (``name@version``
or a pack name) on one frame in ``sample_every`` beside its production model;
the camera's worker compares both models' raw detections on each sampled
frame (``argus.domain.detection_agreement``) and publishes a ``model.shadow``
event with the counts every ``report_every`` sampled frames. The control plane
keeps each report as a ``ShadowReport``; summed, they say how far the
candidate agrees with production on that camera's real footage.

An **evaluation** scores one model version on the annotated set (accepted
hard examples) and keeps the scores; one runs at a time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from argus.domain.detection_agreement import AgreementTally
from argus.domain.detection_eval import EvaluationScores
from argus.domain.errors import ValidationError

__all__ = [
    "SHADOW_EVENT",
    "EvaluationRun",
    "EvaluationState",
    "ShadowPlan",
    "ShadowReport",
    "shadow_payload",
    "shadow_report",
]

SHADOW_EVENT = "model.shadow"
"""Event type of a shadow run's agreement report."""

MAX_REF = 160
# A pack name with an optional version; never a path (a bare ``.onnx`` file would let a
# caller make the server open any file it can read).
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}(@[A-Za-z0-9][A-Za-z0-9._+-]{0,78})?")


def _check_ref(ref: str, what: str) -> None:
    if len(ref) > MAX_REF or not _REF.fullmatch(ref) or ref.lower().endswith(".onnx"):
        raise ValidationError(f"{what} must be a model pack name, optionally with @version")


@dataclass(frozen=True, slots=True)
class ShadowPlan:
    """A candidate model run beside production on one camera.

    Attributes:
        camera_id: The camera.
        candidate: The candidate model (``name@version`` or a pack name).
        sample_every: Compare one analysed frame in this many (1 to 1000).
        report_every: Publish a report every this many compared frames (1 to 10 000).
        iou_threshold: Least IoU for two boxes to be the same object.
        started_at: When the run started (UTC).
        started_by: Who started it.
    """

    camera_id: str
    candidate: str
    sample_every: int
    report_every: int
    iou_threshold: float
    started_at: datetime
    started_by: str

    def __post_init__(self) -> None:
        _check_ref(self.candidate, "candidate")
        if not 1 <= self.sample_every <= 1000:
            raise ValidationError("sample_every must be 1 to 1000")
        if not 1 <= self.report_every <= 10_000:
            raise ValidationError("report_every must be 1 to 10000")
        if not 0.1 <= self.iou_threshold <= 0.95:
            raise ValidationError("iou_threshold must be 0.1 to 0.95")


@dataclass(frozen=True, slots=True)
class ShadowReport:
    """One agreement report of a shadow run (one ``model.shadow`` event).

    Attributes:
        event_id: The event's id (reports are idempotent on it).
        camera_id: The camera.
        production: The production model (``name@version``).
        candidate: The candidate model (``name@version``).
        started_at: Time of the first compared frame of the report.
        ended_at: Time of the last.
        tally: The agreement counts.
        production_ms: Mean production ``detect`` time per compared frame.
        candidate_ms: Mean candidate ``detect`` time per compared frame.
    """

    event_id: str
    camera_id: str
    production: str
    candidate: str
    started_at: datetime
    ended_at: datetime
    tally: AgreementTally
    production_ms: float
    candidate_ms: float


def shadow_payload(report: ShadowReport) -> dict[str, object]:
    """The ``model.shadow`` event payload of a report."""
    t = report.tally
    return {
        "production": report.production,
        "candidate": report.candidate,
        "started_at": report.started_at.isoformat(),
        "frames": t.frames,
        "matched": t.matched,
        "class_mismatch": t.class_mismatch,
        "only_production": t.only_production,
        "only_candidate": t.only_candidate,
        "production_ms": round(report.production_ms, 3),
        "candidate_ms": round(report.candidate_ms, 3),
    }


def _count(payload: Mapping[str, object], key: str) -> int:
    value = payload.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**9:
        raise ValidationError(f"model.shadow payload: {key} must be a count")
    return value


def _ms(payload: Mapping[str, object], key: str) -> float:
    value = payload.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < 1e7:
        raise ValidationError(f"model.shadow payload: {key} must be milliseconds")
    return float(value)


def shadow_report(
    event_id: str, camera_id: str, ended_at: datetime, payload: Mapping[str, object]
) -> ShadowReport:
    """Read a ``model.shadow`` event back into a report.

    Raises:
        ValidationError: The payload is malformed.
    """
    production, candidate = payload.get("production"), payload.get("candidate")
    if not isinstance(production, str) or not isinstance(candidate, str):
        raise ValidationError("model.shadow payload: production and candidate are required")
    _check_ref(production, "production")
    _check_ref(candidate, "candidate")
    started = payload.get("started_at")
    try:
        started_at = datetime.fromisoformat(started) if isinstance(started, str) else ended_at
    except ValueError as exc:
        raise ValidationError("model.shadow payload: started_at is not a time") from exc
    tally = AgreementTally(
        frames=_count(payload, "frames"),
        matched=_count(payload, "matched"),
        class_mismatch=_count(payload, "class_mismatch"),
        only_production=_count(payload, "only_production"),
        only_candidate=_count(payload, "only_candidate"),
    )
    return ShadowReport(
        event_id=event_id,
        camera_id=camera_id,
        production=production,
        candidate=candidate,
        started_at=started_at,
        ended_at=ended_at,
        tally=tally,
        production_ms=_ms(payload, "production_ms"),
        candidate_ms=_ms(payload, "candidate_ms"),
    )


class EvaluationState(StrEnum):
    """Where an evaluation stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class EvaluationRun:
    """One evaluation of a model version on the annotated set.

    Attributes:
        id: Unique id (ULID).
        model: The model evaluated (``name@version`` or a pack name).
        state: Where it stands.
        requested_by: Who asked for it.
        requested_at: When (UTC).
        finished_at: When it finished or failed.
        camera_ids: The cameras whose examples form the set (``None``: every camera
            the requester may see was allowed; the scope is frozen at request time).
        score_threshold: Score at which precision and recall are counted.
        scores: The scores, once done.
        error: Why it failed.
    """

    id: str
    model: str
    state: EvaluationState
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None = None
    camera_ids: tuple[str, ...] | None = None
    score_threshold: float = 0.25
    scores: EvaluationScores | None = None
    error: str = ""

    def __post_init__(self) -> None:
        _check_ref(self.model, "model")
        if not 0.0 <= self.score_threshold <= 1.0:
            raise ValidationError("score_threshold must be 0 to 1")
