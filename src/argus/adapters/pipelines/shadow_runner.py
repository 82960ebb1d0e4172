"""The shadow runner: a candidate model beside the production one on a sample of frames.

A ``FrameObserver`` of one camera run. On each analysed frame it looks up
the camera's shadow plan (cheap: a dictionary read); on one frame in
``sample_every`` it runs both the production detector and the candidate on
the frame's pixels and compares their raw detections (the tracker's output
would favour production: it drops unconfirmed boxes), and every
``report_every`` compared frames it returns a ``model.shadow`` envelope with
the agreement counts and both models' mean time. A plan that changes or
ends flushes what was counted under the old one; the run's end flushes too.
A candidate that cannot be built or fails is logged once and skipped until
the plan names another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from argus.domain.cameras import Camera
from argus.domain.detection_agreement import AgreementTally, compare
from argus.domain.detections import Detections
from argus.domain.event_ids import new_event_id
from argus.domain.events import Envelope, EventSource
from argus.domain.frames import Frame
from argus.domain.model_trials import SHADOW_EVENT, ShadowPlan, ShadowReport, shadow_payload
from argus.ports.detector import Detector
from argus.ports.frame_observers import FrameObserver
from argus.ports.model_trials import ShadowPlans

__all__ = ["ShadowRunner", "shadow_observers"]

log = logging.getLogger(__name__)

CandidateFactory = Callable[[str], Detector]
"""Builds the candidate detector of a model reference (may raise)."""


class ShadowRunner:
    """Runs a camera's shadow candidate on sampled frames and reports agreement.

    Args:
        camera: The camera of the run.
        production: The run's production detector.
        plans: Where the camera's plan is read.
        candidates: Builds a candidate detector from its model reference.
        node_id: The node that runs the pipeline (the events' source).
    """

    def __init__(
        self,
        camera: Camera,
        production: Detector,
        plans: ShadowPlans,
        candidates: CandidateFactory,
        node_id: str,
    ) -> None:
        self._camera = camera
        self._production = production
        self._plans = plans
        self._candidates = candidates
        self._source = EventSource(node_id, camera.id)
        self._ref: str | None = None
        self._candidate: Detector | None = None
        self._failed: str | None = None
        self._seen = 0
        self._tally = AgreementTally()
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._production_s = 0.0
        self._candidate_s = 0.0

    def observe(
        self, taken_at: datetime, frame: Frame, detections: Detections
    ) -> Sequence[Envelope]:
        """Compare both models on a sampled frame; a report when one is due."""
        del detections  # the tracked set; both sides are compared raw
        plan = self._plans.plan(self._camera.id)
        out: list[Envelope] = []
        if plan is None or plan.candidate != self._ref:
            out.extend(self._flush())
            self._switch(plan)
        if plan is None or self._candidate is None:
            return out
        self._seen += 1
        if self._seen % plan.sample_every:
            return out
        try:
            self._compare(taken_at, frame, plan)
        except Exception:  # a failing candidate must never stop the camera
            log.exception("camera %s: shadow model %s failed", self._camera.id, plan.candidate)
            self._failed, self._candidate = plan.candidate, None
            return out
        if self._tally.frames >= plan.report_every:
            out.extend(self._flush())
        return out

    def close(self) -> Sequence[Envelope]:
        """The run ended: report what is pending."""
        return self._flush()

    def _switch(self, plan: ShadowPlan | None) -> None:
        self._ref = plan.candidate if plan is not None else None
        self._candidate = None
        self._seen = 0
        if plan is None or plan.candidate == self._failed:
            return
        try:
            self._candidate = self._candidates(plan.candidate)
        except Exception:  # an unbuildable candidate is logged once, not retried per frame
            log.exception("camera %s: cannot load shadow model %s", self._camera.id, plan.candidate)
            self._failed = plan.candidate

    def _compare(self, taken_at: datetime, frame: Frame, plan: ShadowPlan) -> None:
        assert self._candidate is not None
        started = time.perf_counter()
        production = self._production.detect(frame.image)
        middle = time.perf_counter()
        candidate = self._candidate.detect(frame.image)
        ended = time.perf_counter()
        agreement = compare(production, candidate, iou_threshold=plan.iou_threshold)
        self._tally = self._tally.add(agreement)
        self._production_s += middle - started
        self._candidate_s += ended - middle
        self._first = self._first or taken_at
        self._last = taken_at

    def _flush(self) -> list[Envelope]:
        tally, first, last = self._tally, self._first, self._last
        candidate = self._candidate
        self._tally, self._first, self._last = AgreementTally(), None, None
        production_s, candidate_s = self._production_s, self._candidate_s
        self._production_s = self._candidate_s = 0.0
        if tally.frames == 0 or first is None or last is None or candidate is None:
            return []
        report = ShadowReport(
            event_id=new_event_id(last),
            camera_id=self._camera.id,
            production=self._production.model_ref or self._camera.model,
            candidate=candidate.model_ref or (self._ref or "unknown"),
            started_at=first,
            ended_at=last,
            tally=tally,
            production_ms=1000 * production_s / tally.frames,
            candidate_ms=1000 * candidate_s / tally.frames,
        )
        envelope = Envelope(
            event_id=report.event_id,
            type=SHADOW_EVENT,
            timestamp=last,
            source=self._source,
            payload=shadow_payload(report),
        )
        return [envelope]


def shadow_observers(
    plans: ShadowPlans, candidates: CandidateFactory, node_id: str
) -> Callable[[Camera, Detector], Sequence[FrameObserver]]:
    """The observer factory of shadow runs: one runner per camera run."""

    def build(camera: Camera, detector: Detector) -> Sequence[FrameObserver]:
        return (ShadowRunner(camera, detector, plans, candidates, node_id),)

    return build
