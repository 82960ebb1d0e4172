"""The model-trial store in memory (see ``ports.model_trials``)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.model_trials import EvaluationRun, ShadowPlan, ShadowReport

__all__ = ["MemoryTrialStore"]


class MemoryTrialStore:
    """A ``TrialStore`` over dicts.

    Args:
        check: Raises ``StorageError`` once the store is closed.
    """

    def __init__(self, check: Callable[[], None]) -> None:
        self._check = check
        self._plans: dict[str, ShadowPlan] = {}
        self._reports: dict[str, ShadowReport] = {}
        self._evaluations: dict[str, EvaluationRun] = {}

    async def put_plan(self, plan: ShadowPlan) -> None:
        self._check()
        self._plans[plan.camera_id] = plan

    async def delete_plan(self, camera_id: str) -> bool:
        self._check()
        return self._plans.pop(camera_id, None) is not None

    async def plans(self) -> Sequence[ShadowPlan]:
        self._check()
        return [self._plans[k] for k in sorted(self._plans)]

    async def add_report(self, report: ShadowReport) -> bool:
        self._check()
        if report.event_id in self._reports:
            return False
        self._reports[report.event_id] = report
        return True

    async def reports(
        self,
        *,
        camera_ids: Collection[str] | None = None,
        candidate: str | None = None,
        limit: int = 500,
    ) -> Sequence[ShadowReport]:
        self._check()
        found = [
            r
            for r in self._reports.values()
            if (camera_ids is None or r.camera_id in camera_ids)
            and (candidate is None or r.candidate == candidate)
        ]
        found.sort(key=lambda r: (r.ended_at, r.event_id), reverse=True)
        return found[: max(0, limit)]

    async def add_evaluation(self, run: EvaluationRun) -> None:
        self._check()
        if run.id in self._evaluations:
            raise ConflictError(f"evaluation {run.id} already exists")
        self._evaluations[run.id] = run

    async def update_evaluation(self, run: EvaluationRun) -> None:
        self._check()
        if run.id not in self._evaluations:
            raise NotFoundError(f"no evaluation {run.id}")
        self._evaluations[run.id] = run

    async def evaluation(self, evaluation_id: str) -> EvaluationRun | None:
        self._check()
        return self._evaluations.get(evaluation_id)

    async def evaluations(self, *, limit: int = 100) -> Sequence[EvaluationRun]:
        self._check()
        runs = sorted(
            self._evaluations.values(), key=lambda r: (r.requested_at, r.id), reverse=True
        )
        return runs[: max(0, limit)]
