"""Counters of one verify hub (this process), read by ``/metrics`` at scrape time.

The hub feeds them: every analysed frame's decision (by action and deciding
reason), its per-stage times (``Analysis.stages``: decode, faces, embed,
liveness, objects, decide; a stage skipped on a frame is not observed) and the
time from the frame's arrival to its decision; frames dropped because a client
sent faster than it was analysed; the shared queue's depth at each tick; and,
every status interval, the registered clients by status. Sessions by state are
counted when read. Everything runs on the event loop, so nothing is locked.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from argus.domain.workstations import CLIENT_STATUSES
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.workstations import VerifyClientRepository
from argus.services.verification import Analysis
from argus.services.verify_pipeline import Decided, Frame, SessionState, VerifySession

__all__ = ["STAGES", "STAGE_BUCKETS", "StageHistogram", "VerifyStats"]

STAGES = ("decode", "faces", "embed", "liveness", "objects", "decide")
"""The stages of a frame's analysis, in order (``Analysis.stages`` keys)."""

STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Upper bounds (seconds) of the stage and decision latency histograms."""


@dataclass(slots=True)
class StageHistogram:
    """Observations of one duration: counts per bucket (the last one is ``+Inf``) and the sum.

    Attributes:
        counts: Observations per bucket of ``STAGE_BUCKETS`` (not cumulative), then above.
        total: Sum of the observed seconds.
    """

    counts: list[int] = field(default_factory=lambda: [0] * (len(STAGE_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        """Count one duration (negative ones as zero)."""
        seconds = max(0.0, seconds)
        self.counts[bisect.bisect_left(STAGE_BUCKETS, seconds)] += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, float]]:
        """The Prometheus buckets: ``(le, observations at or below)``, ``+Inf`` last."""
        bounds = [*(repr(b) for b in STAGE_BUCKETS), "+Inf"]
        running, out = 0, []
        for bound, count in zip(bounds, self.counts, strict=True):
            running += count
            out.append((bound, float(running)))
        return out


class VerifyStats:
    """What the hub counts (see the module doc).

    Args:
        sessions: The hub's live sessions (read when the metrics are collected).
        pipelines: How many pipelines the hub runs (read likewise).
        clock: Monotonic seconds, the clock frames are stamped with on arrival.

    Attributes:
        frames_analysed: Frames analysed and decided.
        frames_dropped: Frames dropped unanalysed (a client sent faster than it was served).
        decisions: Decisions by ``(action, deciding reason)`` (reason ``""`` for none).
        stages: Time per analysis stage.
        latency: From a frame's arrival to its decision.
        queue_depth: Clients waiting for a pipeline (every server), at the last tick.
        registered: Registered clients by status, at the last status check.
    """

    def __init__(
        self,
        sessions: Callable[[], Iterable[VerifySession]],
        pipelines: Callable[[], int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self.pipelines = pipelines
        self._clock = clock
        self.frames_analysed = 0
        self.frames_dropped = 0
        self.decisions: Counter[tuple[str, str]] = Counter()
        self.stages: dict[str, StageHistogram] = {}
        self.latency = StageHistogram()
        self.queue_depth = 0
        self.registered: dict[str, int] = dict.fromkeys(CLIENT_STATUSES, 0)

    def counting(self, decided: Decided) -> Decided:
        """``decided``, counting each analysis before handing it on."""

        async def counted(session: VerifySession, frame: Frame, analysis: Analysis) -> None:
            self.analysed(frame, analysis)
            await decided(session, frame, analysis)

        return counted

    def analysed(self, frame: Frame, analysis: Analysis) -> None:
        """Count one analysed frame: its decision, stage times and latency."""
        self.frames_analysed += 1
        decision = analysis.decision
        reason = str(decision.reasons[0]) if decision.reasons else ""
        self.decisions[str(decision.action), reason] += 1
        for stage, seconds in analysis.stages.items():
            self.stages.setdefault(stage, StageHistogram()).observe(float(seconds))
        self.latency.observe(self._clock() - frame.received)

    def dropped(self, frames: int) -> None:
        """Count frames dropped unanalysed."""
        self.frames_dropped += max(0, frames)

    def clients(self) -> dict[str, int]:
        """Live sessions of this process: ``connected`` (all), ``assigned`` and ``waiting``."""
        states = Counter(s.state for s in self._sessions() if s.state is not SessionState.CLOSED)
        return {
            "connected": sum(states.values()),
            "assigned": states[SessionState.ASSIGNED],
            "waiting": states[SessionState.WAITING],
        }

    async def count_registered(self, clients: VerifyClientRepository) -> None:
        """Re-count the registered clients by status."""
        listed = await all_pages(lambda skip: clients.list(limit=MAX_PAGE, offset=skip))
        counts: dict[str, int] = dict.fromkeys(CLIENT_STATUSES, 0)
        for client in listed:
            counts[client.status] = counts.get(client.status, 0) + 1
        self.registered = counts
