"""The model-trial store on SQL (see ``ports.model_trials``).

``add_report`` inserts with ``ON CONFLICT DO NOTHING`` on the event id: the
same ``model.shadow`` event seen by two servers (a fan-out) is kept once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa

from argus.adapters.db._sqlcore import Bind, insert_for, transaction
from argus.adapters.db.tables_trials import model_evaluations, shadow_plans, shadow_reports
from argus.domain.detection_agreement import AgreementTally
from argus.domain.detection_eval import EvaluationScores
from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.model_trials import EvaluationRun, EvaluationState, ShadowPlan, ShadowReport

__all__ = ["SqlTrialStore"]


def _plan(row: sa.Row[Any]) -> ShadowPlan:
    return ShadowPlan(
        camera_id=row.camera_id,
        candidate=row.candidate,
        sample_every=row.sample_every,
        report_every=row.report_every,
        iou_threshold=row.iou_threshold,
        started_at=row.started_at,
        started_by=row.started_by,
    )


def _report_row(report: ShadowReport) -> dict[str, Any]:
    t = report.tally
    return {
        "event_id": report.event_id,
        "camera_id": report.camera_id,
        "production": report.production,
        "candidate": report.candidate,
        "started_at": report.started_at,
        "ended_at": report.ended_at,
        "frames": t.frames,
        "matched": t.matched,
        "class_mismatch": t.class_mismatch,
        "only_production": t.only_production,
        "only_candidate": t.only_candidate,
        "production_ms": report.production_ms,
        "candidate_ms": report.candidate_ms,
    }


def _report(row: sa.Row[Any]) -> ShadowReport:
    return ShadowReport(
        event_id=row.event_id,
        camera_id=row.camera_id,
        production=row.production,
        candidate=row.candidate,
        started_at=row.started_at,
        ended_at=row.ended_at,
        tally=AgreementTally(
            frames=row.frames,
            matched=row.matched,
            class_mismatch=row.class_mismatch,
            only_production=row.only_production,
            only_candidate=row.only_candidate,
        ),
        production_ms=row.production_ms,
        candidate_ms=row.candidate_ms,
    )


def _evaluation_row(run: EvaluationRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "model": run.model,
        "state": run.state.value,
        "requested_by": run.requested_by,
        "requested_at": run.requested_at,
        "finished_at": run.finished_at,
        "camera_ids": list(run.camera_ids) if run.camera_ids is not None else None,
        "score_threshold": run.score_threshold,
        "scores": run.scores.to_dict() if run.scores is not None else None,
        "error": run.error,
    }


def _evaluation(row: sa.Row[Any]) -> EvaluationRun:
    return EvaluationRun(
        id=row.id,
        model=row.model,
        state=EvaluationState(row.state),
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        finished_at=row.finished_at,
        camera_ids=tuple(row.camera_ids) if row.camera_ids is not None else None,
        score_threshold=row.score_threshold,
        scores=EvaluationScores.from_dict(row.scores) if row.scores is not None else None,
        error=row.error,
    )


class SqlTrialStore:
    """A ``TrialStore`` over the ``shadow_plans``, ``shadow_reports`` and
    ``model_evaluations`` tables.

    Args:
        engine: The store's engine.
    """

    def __init__(self, engine: Bind) -> None:
        self._engine = engine
        self._insert = insert_for(engine)

    async def put_plan(self, plan: ShadowPlan) -> None:
        row = {
            "camera_id": plan.camera_id,
            "candidate": plan.candidate,
            "sample_every": plan.sample_every,
            "report_every": plan.report_every,
            "iou_threshold": plan.iou_threshold,
            "started_at": plan.started_at,
            "started_by": plan.started_by,
        }
        async with transaction(self._engine, f"storing the shadow plan of {plan.camera_id}") as c:
            await c.execute(
                sa.delete(shadow_plans).where(shadow_plans.c.camera_id == plan.camera_id)
            )
            await c.execute(sa.insert(shadow_plans).values(row))

    async def delete_plan(self, camera_id: str) -> bool:
        async with transaction(self._engine, f"removing the shadow plan of {camera_id}") as c:
            result = await c.execute(
                sa.delete(shadow_plans).where(shadow_plans.c.camera_id == camera_id)
            )
        return bool(result.rowcount)

    async def plans(self) -> Sequence[ShadowPlan]:
        async with transaction(self._engine, "reading shadow plans") as c:
            rows = await c.execute(sa.select(shadow_plans).order_by(shadow_plans.c.camera_id))
            return [_plan(row) for row in rows]

    async def add_report(self, report: ShadowReport) -> bool:
        statement = (
            self._insert(shadow_reports)
            .values(_report_row(report))
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
        async with transaction(self._engine, f"storing shadow report {report.event_id}") as c:
            result = await c.execute(statement)
        return bool(result.rowcount)

    async def reports(
        self,
        *,
        camera_ids: Collection[str] | None = None,
        candidate: str | None = None,
        limit: int = 500,
    ) -> Sequence[ShadowReport]:
        query = sa.select(shadow_reports)
        if camera_ids is not None:
            query = query.where(shadow_reports.c.camera_id.in_(sorted(camera_ids)))
        if candidate is not None:
            query = query.where(shadow_reports.c.candidate == candidate)
        query = query.order_by(
            shadow_reports.c.ended_at.desc(), shadow_reports.c.event_id.desc()
        ).limit(max(0, limit))
        async with transaction(self._engine, "reading shadow reports") as c:
            return [_report(row) for row in await c.execute(query)]

    async def add_evaluation(self, run: EvaluationRun) -> None:
        async with transaction(self._engine, f"storing evaluation {run.id}") as c:
            exists = await c.execute(
                sa.select(model_evaluations.c.id).where(model_evaluations.c.id == run.id)
            )
            if exists.first() is not None:
                raise ConflictError(f"evaluation {run.id} already exists")
            await c.execute(sa.insert(model_evaluations).values(_evaluation_row(run)))

    async def update_evaluation(self, run: EvaluationRun) -> None:
        async with transaction(self._engine, f"updating evaluation {run.id}") as c:
            result = await c.execute(
                sa.update(model_evaluations)
                .where(model_evaluations.c.id == run.id)
                .values(_evaluation_row(run))
            )
            if not result.rowcount:
                raise NotFoundError(f"no evaluation {run.id}")

    async def evaluation(self, evaluation_id: str) -> EvaluationRun | None:
        async with transaction(self._engine, f"reading evaluation {evaluation_id}") as c:
            row = (
                await c.execute(
                    sa.select(model_evaluations).where(model_evaluations.c.id == evaluation_id)
                )
            ).first()
            return _evaluation(row) if row is not None else None

    async def evaluations(self, *, limit: int = 100) -> Sequence[EvaluationRun]:
        query = (
            sa.select(model_evaluations)
            .order_by(model_evaluations.c.requested_at.desc(), model_evaluations.c.id.desc())
            .limit(max(0, limit))
        )
        async with transaction(self._engine, "reading evaluations") as c:
            return [_evaluation(row) for row in await c.execute(query)]
