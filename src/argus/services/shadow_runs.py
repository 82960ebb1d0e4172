"""Shadow runs in this process and their reports summed (``services.model_trials`` uses them).

``ShadowPlanBook`` is what the camera workers of a process read on every
frame (``ports.model_trials.ShadowPlans``); ``summaries`` adds a camera's
reports up per production model and candidate.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from argus.domain.detection_agreement import AgreementTally
from argus.domain.model_trials import ShadowPlan, ShadowReport

__all__ = ["ShadowOverview", "ShadowPlanBook", "ShadowSummary", "summaries"]


class ShadowPlanBook:
    """The shadow plans in force in this process (``ports.model_trials.ShadowPlans``).

    Camera workers read it from their threads on every frame; the service
    replaces entries. A dict read is atomic, and writes take a lock.
    """

    def __init__(self) -> None:
        self._plans: dict[str, ShadowPlan] = {}
        self._lock = threading.Lock()

    def plan(self, camera_id: str) -> ShadowPlan | None:
        """The camera's plan, or ``None``."""
        return self._plans.get(camera_id)

    def put(self, plan: ShadowPlan) -> None:
        """Start or replace a camera's plan."""
        with self._lock:
            self._plans = {**self._plans, plan.camera_id: plan}

    def drop(self, camera_id: str) -> None:
        """End a camera's plan."""
        with self._lock:
            self._plans = {k: v for k, v in self._plans.items() if k != camera_id}

    def replace_all(self, plans: Sequence[ShadowPlan]) -> None:
        """Replace every plan (at start)."""
        with self._lock:
            self._plans = {p.camera_id: p for p in plans}


@dataclass(frozen=True, slots=True)
class ShadowSummary:
    """Reports of one camera, production model and candidate, summed."""

    camera_id: str
    production: str
    candidate: str
    reports: int
    first_at: datetime
    last_at: datetime
    tally: AgreementTally
    production_ms: float
    candidate_ms: float


@dataclass(frozen=True, slots=True)
class ShadowOverview:
    """The plans in force and the summed reports the caller may see."""

    plans: tuple[ShadowPlan, ...]
    summaries: tuple[ShadowSummary, ...]


def summaries(reports: Sequence[ShadowReport]) -> tuple[ShadowSummary, ...]:
    """The reports summed per camera, production model and candidate (by those keys)."""
    groups: dict[tuple[str, str, str], list[ShadowReport]] = {}
    for report in reports:
        groups.setdefault((report.camera_id, report.production, report.candidate), []).append(
            report
        )
    out = []
    for (camera_id, production, candidate), items in sorted(groups.items()):
        tally = AgreementTally()
        for item in items:
            tally = tally.merge(item.tally)
        frames = max(1, tally.frames)
        out.append(
            ShadowSummary(
                camera_id=camera_id,
                production=production,
                candidate=candidate,
                reports=len(items),
                first_at=min(i.started_at for i in items),
                last_at=max(i.ended_at for i in items),
                tally=tally,
                production_ms=sum(i.production_ms * i.tally.frames for i in items) / frames,
                candidate_ms=sum(i.candidate_ms * i.tally.frames for i in items) / frames,
            )
        )
    return tuple(out)
