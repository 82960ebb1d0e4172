"""Trials of model versions: shadow runs beside production and evaluation on the annotated set.

**Shadow runs.** ``start_shadow`` stores a camera's ``ShadowPlan`` (a
candidate model, one frame in ``sample_every``) and puts it in the
``ShadowPlanBook`` the camera workers of this process read on every frame:
the next analysed frame picks it up, without a pipeline restart. The
``ShadowRunner`` observer publishes ``model.shadow`` reports on the event
subject; ``ModelTrials`` listens (a fan-out: every server sees every report;
the store keeps each event once) and keeps them. ``shadow`` sums the reports
per camera and candidate. Plans are read back into the book when the
service starts, so a restarted server resumes its shadow runs. Cameras run by
edge nodes do not get plans (the plan book is per process): their workers
never report.

**Evaluations.** ``request_evaluation`` queues a model version for scoring
on the accepted hard examples of the requester's cameras (the scope is frozen
at request time); one background task runs them one at a time, oldest first
(``services.model_evaluation``).

Every write is audited: ``shadow.start``, ``shadow.stop``,
``evaluation.request`` and ``evaluation.finish``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.cameras import new_id, utc_now
from argus.domain.errors import ArgusError, ConflictError, NotFoundError, ValidationError
from argus.domain.events import Envelope
from argus.domain.model_trials import (
    SHADOW_EVENT,
    EvaluationRun,
    EvaluationState,
    ShadowPlan,
    shadow_report,
)
from argus.ports.bus import EventBus, Subscription
from argus.ports.repositories import Database
from argus.services.background import TaskGroup
from argus.services.consumers import ConsumerState, consume_resubscribing
from argus.services.model_evaluation import EvaluationTools, annotated_set, evaluate_model
from argus.services.shadow_runs import ShadowOverview, ShadowPlanBook, ShadowSummary, summaries
from argus.services.writes import record, require_camera

__all__ = [
    "EvaluationRequest",
    "ModelTrials",
    "ShadowOverview",
    "ShadowPlanBook",
    "ShadowStart",
    "ShadowSummary",
]

log = logging.getLogger(__name__)

MAX_PENDING_EVALUATIONS = 3
"""Evaluations that may wait or run at once (a fourth request gets 409)."""

_SUMMARY_REPORTS = 2000


@dataclass(frozen=True, slots=True)
class ShadowStart:
    """A request to run a candidate beside production on a camera.

    Attributes:
        candidate: The candidate model (``name@version`` or a pack name).
        sample_every: Compare one analysed frame in this many (``None``: the default).
        report_every: Report every this many compared frames (``None``: the default).
        iou_threshold: Least IoU for two boxes to be the same object.
    """

    candidate: str
    sample_every: int | None = None
    report_every: int | None = None
    iou_threshold: float = 0.5


@dataclass(frozen=True, slots=True)
class EvaluationRequest:
    """A request to score a model version on the annotated set.

    Attributes:
        model: The model (``name@version`` or a pack name).
        score_threshold: Score at which precision and recall are counted.
    """

    model: str
    score_threshold: float = 0.25


class ModelTrials:
    """Shadow runs and evaluations (see the module docstring).

    Args:
        database: The store (trials, cameras, hard examples, audit).
        bus: Where ``model.shadow`` reports arrive.
        events_subject: The subject pipelines publish events on.
        book: The plan book this process's camera workers read.
        tools: Builds detectors, reads frames, scores; ``None``: evaluations fail.
        default_sample_every: ``sample_every`` of a request that names none.
        default_report_every: ``report_every`` of a request that names none.
        max_examples: Most examples one evaluation scores.
        clock: The current UTC time.
    """

    def __init__(
        self,
        database: Database,
        bus: EventBus | None,
        *,
        events_subject: str,
        book: ShadowPlanBook,
        tools: EvaluationTools | None = None,
        default_sample_every: int = 10,
        default_report_every: int = 60,
        max_examples: int = 2000,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = database
        self._bus = bus
        self._subject = events_subject
        self.book = book
        self._tools = tools
        self._sample_every = default_sample_every
        self._report_every = default_report_every
        self._max_examples = max_examples
        self._clock = clock
        self._tasks = TaskGroup()
        self._wake = asyncio.Event()
        self._requesting = asyncio.Lock()  # the pending count and the new run, one at a time
        self.reports_state = ConsumerState()
        self.handled = 0
        """``model.shadow`` events looked at (for tests: wait until it grows)."""

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Read the stored plans into the book; listen for reports; run evaluations."""
        self.book.replace_all(await self._db.model_trials.plans())
        loops = [("argus-trials-evaluations", self._evaluations_loop)]
        if self._bus is not None:
            loops.append(("argus-trials-reports", self._reports_loop))
        self._tasks.start(*loops)

    async def stop(self) -> None:
        """Stop listening and evaluating."""
        await self._tasks.stop()

    # --- shadow runs ------------------------------------------------------------------------

    async def start_shadow(self, actor: Actor, camera_id: str, command: ShadowStart) -> ShadowPlan:
        """Run ``command.candidate`` beside production on the camera; audited as ``shadow.start``.

        Raises:
            PermissionDeniedError: The camera is outside the actor's scope.
            NotFoundError: No such camera.
            ValidationError: A bad candidate or sampling.
        """
        require_camera(actor, camera_id)
        await self._db.cameras.get(camera_id)
        plan = ShadowPlan(
            camera_id=camera_id,
            candidate=command.candidate.strip(),
            sample_every=command.sample_every or self._sample_every,
            report_every=command.report_every or self._report_every,
            iou_threshold=command.iou_threshold,
            started_at=self._clock(),
            started_by=actor.audit_name,
        )
        await self._db.model_trials.put_plan(plan)
        self.book.put(plan)
        await record(
            self._db.audit,
            actor,
            "shadow.start",
            f"camera:{camera_id}",
            candidate=plan.candidate,
            sample_every=plan.sample_every,
            report_every=plan.report_every,
        )
        return plan

    async def stop_shadow(self, actor: Actor, camera_id: str) -> None:
        """End the camera's shadow run; audited as ``shadow.stop``.

        Raises:
            PermissionDeniedError: The camera is outside the actor's scope.
            NotFoundError: The camera runs no shadow candidate.
        """
        require_camera(actor, camera_id)
        removed = await self._db.model_trials.delete_plan(camera_id)
        self.book.drop(camera_id)
        if not removed:
            raise NotFoundError(f"camera {camera_id} runs no shadow model")
        await record(self._db.audit, actor, "shadow.stop", f"camera:{camera_id}")

    async def shadow(self, actor: Actor, camera_id: str | None = None) -> ShadowOverview:
        """Plans and summed reports of the actor's cameras (or of one camera).

        Raises:
            PermissionDeniedError: ``camera_id`` is outside the actor's scope.
        """
        if camera_id is not None:
            require_camera(actor, camera_id)
        plans = [
            p
            for p in await self._db.model_trials.plans()
            if actor.may_see(p.camera_id) and camera_id in (None, p.camera_id)
        ]
        scope: set[str] | None = None
        if camera_id is not None:
            scope = {camera_id}
        elif actor.principal is not None and actor.principal.cameras is not None:
            scope = set(actor.principal.cameras)
        reports = await self._db.model_trials.reports(camera_ids=scope, limit=_SUMMARY_REPORTS)
        return ShadowOverview(tuple(plans), summaries(reports))

    async def ingest(self, envelope: Envelope) -> bool:
        """Keep one ``model.shadow`` report; ``False`` for another type or a repeat.

        Raises:
            ValidationError: A malformed report.
        """
        if envelope.type != SHADOW_EVENT:
            return False
        report = shadow_report(
            envelope.event_id, envelope.source.camera_id, envelope.timestamp, envelope.payload
        )
        return await self._db.model_trials.add_report(report)

    async def _reports_loop(self) -> None:
        assert self._bus is not None
        bus = self._bus
        await consume_resubscribing(
            lambda: bus.fan_out(self._subject),
            self._consume,
            self.reports_state,
            what="shadow reports",
        )

    async def _consume(self, subscription: Subscription) -> None:
        async for delivery in subscription:
            envelope = delivery.envelope
            if envelope.type != SHADOW_EVENT:
                continue
            try:
                await self.ingest(envelope)
            except asyncio.CancelledError:
                raise
            except ArgusError as exc:
                log.warning("shadow report %s not kept: %s", envelope.event_id, exc)
            except Exception:  # the top of a consumer's loop: it must live on
                log.exception("shadow report %s crashed", envelope.event_id)
            self.handled += 1

    # --- evaluations ------------------------------------------------------------------------

    async def request_evaluation(self, actor: Actor, command: EvaluationRequest) -> EvaluationRun:
        """Queue an evaluation; audited as ``evaluation.request``.

        At most ``MAX_PENDING_EVALUATIONS`` may wait or run at once: each runs a model over
        the whole annotated set, so an unbounded queue would be hours of CPU.

        Raises:
            ValidationError: A bad model reference or threshold.
            ConflictError: Too many evaluations are already waiting or running.
        """
        async with self._requesting:
            recent = await self._db.model_trials.evaluations(limit=1000)
            pending = sum(
                r.state in (EvaluationState.QUEUED, EvaluationState.RUNNING) for r in recent
            )
            if pending >= MAX_PENDING_EVALUATIONS:
                raise ConflictError(
                    f"{pending} evaluations are already waiting or running; "
                    "request another when one has finished"
                )
            return await self._request(actor, command)

    async def _request(self, actor: Actor, command: EvaluationRequest) -> EvaluationRun:
        cameras = None
        if actor.principal is not None and actor.principal.cameras is not None:
            cameras = tuple(sorted(actor.principal.cameras))
        run = EvaluationRun(
            id=new_id(),
            model=command.model.strip(),
            state=EvaluationState.QUEUED,
            requested_by=actor.audit_name,
            requested_at=self._clock(),
            camera_ids=cameras,
            score_threshold=command.score_threshold,
        )
        await self._db.model_trials.add_evaluation(run)
        await record(
            self._db.audit, actor, "evaluation.request", f"evaluation:{run.id}", model=run.model
        )
        self._wake.set()
        return run

    async def evaluations(self, actor: Actor, *, limit: int = 50) -> Sequence[EvaluationRun]:
        """The evaluations the actor may see (its cameras cover the set's), newest first."""
        # Filtered before the limit: a scoped caller's own runs must not drop out of its list
        # behind newer runs it may not see.
        runs = await self._db.model_trials.evaluations(limit=max(limit, 1000))
        return [r for r in runs if self._visible(actor, r)][:limit]

    async def evaluation(self, actor: Actor, evaluation_id: str) -> EvaluationRun:
        """One evaluation.

        Raises:
            NotFoundError: Unknown, or over cameras outside the actor's scope.
        """
        run = await self._db.model_trials.evaluation(evaluation_id)
        if run is None or not self._visible(actor, run):
            raise NotFoundError(f"no evaluation {evaluation_id}")
        return run

    @staticmethod
    def _visible(actor: Actor, run: EvaluationRun) -> bool:
        if actor.principal is None or actor.principal.cameras is None:
            return True
        return run.camera_ids is not None and set(run.camera_ids) <= actor.principal.cameras

    async def run_pending(self) -> int:
        """Run every queued evaluation, oldest first; how many ran."""
        queued = [
            r
            for r in await self._db.model_trials.evaluations(limit=1000)
            if r.state is EvaluationState.QUEUED
        ]
        for run in sorted(queued, key=lambda r: (r.requested_at, r.id)):
            await self._run(run)
        return len(queued)

    async def _run(self, run: EvaluationRun) -> None:
        running = replace(run, state=EvaluationState.RUNNING)
        await self._db.model_trials.update_evaluation(running)
        try:
            if self._tools is None:
                raise ValidationError("evaluations are not available on this server")
            annotated = await annotated_set(
                self._db.hard_examples, running.camera_ids, self._max_examples
            )
            scores = await evaluate_model(
                self._tools, run.model, annotated, score_threshold=run.score_threshold
            )
        except asyncio.CancelledError:
            await self._db.model_trials.update_evaluation(run)  # queued again for next start
            raise
        except Exception as exc:  # the job's boundary: any failure ends it as failed
            if not isinstance(exc, ArgusError):
                log.exception("evaluation %s of %s crashed", run.id, run.model)
            done = replace(
                running,
                state=EvaluationState.FAILED,
                finished_at=self._clock(),
                error=str(exc)[:500] or type(exc).__name__,
            )
        else:
            done = replace(
                running, state=EvaluationState.DONE, finished_at=self._clock(), scores=scores
            )
        await self._db.model_trials.update_evaluation(done)
        await record(
            self._db.audit,
            SYSTEM_ACTOR,
            "evaluation.finish",
            f"evaluation:{run.id}",
            outcome="success" if done.state is EvaluationState.DONE else "failure",
            model=run.model,
            map50=done.scores.map50 if done.scores else None,
            error=done.error or None,
        )

    async def _evaluations_loop(self) -> None:
        while True:
            try:
                await self.run_pending()
            except ArgusError as exc:
                log.warning("evaluations: %s", exc)
            except Exception:  # the top of a task loop: log and try again on the next wake
                log.exception("evaluations crashed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=60.0)
