"""Where trials of model versions are kept, and how a camera's worker finds its shadow plan.

``TrialStore`` (``Database.model_trials``) follows the conventions of
``argus.ports.repositories``: every method is one transaction and a failing
database raises ``StorageError``. ``ShadowPlans`` is read by camera workers
on their own threads: it is synchronous and must be cheap.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol, runtime_checkable

from argus.domain.model_trials import EvaluationRun, ShadowPlan, ShadowReport

__all__ = ["ShadowPlans", "TrialStore"]


class ShadowPlans(Protocol):
    """The shadow plans in force, as camera workers read them."""

    def plan(self, camera_id: str) -> ShadowPlan | None:
        """The camera's shadow plan, or ``None`` when it runs none."""
        ...


@runtime_checkable
class TrialStore(Protocol):
    """Shadow plans, shadow reports and evaluations."""

    async def put_plan(self, plan: ShadowPlan) -> None:
        """Store a camera's plan, replacing the one it had."""
        ...

    async def delete_plan(self, camera_id: str) -> bool:
        """Remove a camera's plan; whether it had one."""
        ...

    async def plans(self) -> Sequence[ShadowPlan]:
        """Every stored plan, by camera id."""
        ...

    async def add_report(self, report: ShadowReport) -> bool:
        """Keep a report; ``False`` when one with its event id is already kept."""
        ...

    async def reports(
        self,
        *,
        camera_ids: Collection[str] | None = None,
        candidate: str | None = None,
        limit: int = 500,
    ) -> Sequence[ShadowReport]:
        """Reports, newest first (``camera_ids=None``: any camera)."""
        ...

    async def add_evaluation(self, run: EvaluationRun) -> None:
        """Keep a new evaluation."""
        ...

    async def update_evaluation(self, run: EvaluationRun) -> None:
        """Replace an evaluation by id.

        Raises:
            NotFoundError: No evaluation has that id.
        """
        ...

    async def evaluation(self, evaluation_id: str) -> EvaluationRun | None:
        """One evaluation, or ``None``."""
        ...

    async def evaluations(self, *, limit: int = 100) -> Sequence[EvaluationRun]:
        """Evaluations, newest first."""
        ...
