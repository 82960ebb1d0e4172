"""Alert evidence: a snapshot and a clip for every new alert of a camera running here.

The capture listens to the alert fan-out (every server sees every alert).
Only the server whose pipeline runs the alert's camera holds its recent
frames, so only that one captures: it asks the pipeline for the window
``[event_time - pre_s, event_time + post_s]`` (waiting for the post-roll),
stores the snapshot and the clip through the evidence service (encrypted,
signed, audited as ``system``), and announces ``alert.evidence`` on the
alert subject so live clients can show them.

Alerts wait in a bounded priority queue: a fixed number of workers take the
highest severity first (high, then medium, then low; oldest first within a
severity), so a flood of low alerts (forged events, a noisy rule) delays
real high alerts by at most the captures already in flight. When the queue is
full, the lowest-severity waiting alert (the oldest of that severity) is shed.
Every alert whose evidence is not stored, shed, without frames or failed
(a full disk), gets an ``EvidenceGap`` recorded and announced in the
``alert.evidence`` message, so no alert silently lacks its evidence.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from argus.domain.cameras import utc_now
from argus.domain.errors import ArgusError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.evidence_status import EvidenceGap, GapReason
from argus.ports.bus import EventBus, Subscription
from argus.ports.pipelines import Capture, PipelineSupervisor
from argus.services.alerts import ALERTS_SUBJECT
from argus.services.background import TaskGroup
from argus.services.consumers import ConsumerState, consume_resubscribing
from argus.services.evidence import EvidenceService

__all__ = ["EVIDENCE_EVENT", "SEVERITY_RANK", "EvidenceCapture"]

log = logging.getLogger(__name__)

EVIDENCE_EVENT = "alert.evidence"
"""Published on the alert subject once an alert's evidence is stored (or its gap recorded)."""

SEVERITY_RANK: Mapping[str, int] = {"high": 0, "medium": 1, "low": 2}
"""Capture order: a lower rank goes first; an unknown severity ranks below low."""


@dataclass(order=True, slots=True)
class _Waiting:
    """An alert in the queue, ordered by (rank, arrival)."""

    rank: int
    seq: int
    alert: Mapping[str, Any] = field(compare=False)


class EvidenceCapture:
    """Captures and stores evidence for new alerts of local cameras, highest severity first.

    Args:
        bus: Its alert fan-out is the trigger; ``alert.evidence`` goes back on it.
        pipelines: The local pipelines (their ring buffers).
        evidence: Stores the encrypted snapshot and clip, and the gaps.
        pre_s: Seconds of video before the event.
        post_s: Seconds after it.
        node_id: This server's id on the envelopes it publishes.
        max_concurrent: Captures in flight at once.
        max_queue: Alerts waiting beyond those; past it the lowest severity is shed.
        clock: The current UTC time (for gap records).
    """

    def __init__(
        self,
        bus: EventBus,
        pipelines: PipelineSupervisor,
        evidence: EvidenceService,
        *,
        pre_s: float,
        post_s: float,
        node_id: str = "argus",
        max_concurrent: int = 4,
        max_queue: int = 64,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if max_concurrent < 1 or max_queue < 1:
            raise ValueError("evidence capture needs max_concurrent >= 1 and max_queue >= 1")
        self._bus = bus
        self._pipelines = pipelines
        self._evidence = evidence
        self._pre_s = pre_s
        self._post_s = post_s
        self._node_id = node_id
        self._workers = max_concurrent
        self._max_queue = max_queue
        self._clock = clock
        self._waiting: list[_Waiting] = []
        self._arrivals = itertools.count()
        self._busy = 0
        self._in_flight: dict[int, Mapping[str, Any]] = {}
        self._changed = asyncio.Condition()
        self._tasks = TaskGroup()
        self.state = ConsumerState()
        self.stored = 0
        """Alerts whose evidence was stored."""
        self.shed = 0
        """Alerts shed from a full queue (each has a gap recorded)."""
        self.skipped = 0
        """Alerts no buffered frames covered (each has a gap recorded)."""
        self.failed = 0
        """Captures that raised (each has a gap recorded)."""

    @property
    def depth(self) -> int:
        """Alerts waiting for a worker."""
        return len(self._waiting)

    def start(self) -> None:
        """Start listening and the workers (once)."""
        self._tasks.start(
            ("argus-evidence-capture", self._run),
            *((f"argus-evidence-worker-{i}", self._work) for i in range(self._workers)),
        )

    async def stop(self) -> None:
        """Stop listening and cancel the captures in flight.

        Every alert that was waiting or in flight gets a gap recorded (while the
        store is still open): a shutdown must not leave alerts silently without
        evidence either.
        """
        await self._tasks.stop()
        unfinished = [*self._in_flight.values(), *(w.alert for w in sorted(self._waiting))]
        self._waiting.clear()
        self._in_flight.clear()
        self._busy = 0
        for alert in unfinished:
            await self._gap(alert, "failed", "the server stopped before the capture finished")

    async def idle(self) -> None:
        """Wait until nothing waits and no capture is in flight (for tests and shutdown)."""
        async with self._changed:
            await self._changed.wait_for(lambda: not self._waiting and not self._busy)

    async def _run(self) -> None:
        await consume_resubscribing(
            lambda: self._bus.fan_out(ALERTS_SUBJECT),
            self._consume,
            self.state,
            what="evidence capture",
        )

    async def _consume(self, subscription: Subscription) -> None:
        async for delivery in subscription:
            envelope = delivery.envelope
            if envelope.type != "alert.created":
                continue
            alert = envelope.payload
            camera_id = str(alert.get("camera_id", ""))
            if self._pipelines.status(camera_id) is None:
                continue  # another server runs this camera and holds its frames
            await self.enqueue(alert)

    async def enqueue(self, alert: Mapping[str, Any]) -> None:
        """Queue ``alert`` for capture; when the queue is full, shed the lowest severity."""
        rank = SEVERITY_RANK.get(str(alert.get("severity")), len(SEVERITY_RANK))
        waiting = _Waiting(rank, next(self._arrivals), alert)
        shed: _Waiting | None = None
        async with self._changed:
            heapq.heappush(self._waiting, waiting)
            if len(self._waiting) > self._max_queue:
                # The lowest severity; among those the oldest, whose pre-roll is likeliest gone.
                shed = max(self._waiting, key=lambda w: (w.rank, -w.seq))
                self._waiting.remove(shed)
                heapq.heapify(self._waiting)
            self._changed.notify_all()
        if shed is not None:
            self.shed += 1
            log.warning(
                "evidence of %s alert %s shed: %d alerts wait for capture",
                shed.alert.get("severity"),
                shed.alert.get("id"),
                self._max_queue,
            )
            await self._gap(
                shed.alert,
                "shed",
                f"the capture queue was full ({self._max_queue} alerts waiting) and this "
                "alert had the lowest severity",
            )

    async def _work(self) -> None:
        while True:
            async with self._changed:
                await self._changed.wait_for(lambda: bool(self._waiting))
                waiting = heapq.heappop(self._waiting)
                self._busy += 1
                self._in_flight[waiting.seq] = waiting.alert
            try:
                await self._capture(waiting.alert)
            except asyncio.CancelledError:
                raise  # left in flight: ``stop`` records its gap
            except Exception as exc:  # the top of a worker's loop: the worker must live on
                log.exception("evidence capture of alert %s crashed", waiting.alert.get("id"))
                self.failed += 1
                await self._gap(waiting.alert, "failed", f"{type(exc).__name__}: {exc}")
            self._in_flight.pop(waiting.seq, None)
            async with self._changed:
                self._busy -= 1
                self._changed.notify_all()

    async def _capture(self, alert: Mapping[str, Any]) -> None:
        alert_id, camera_id = str(alert.get("id")), str(alert.get("camera_id"))
        try:
            at = datetime.fromisoformat(str(alert["event_time"]))
            capture = await self._pipelines.capture(
                camera_id, at, pre_s=self._pre_s, post_s=self._post_s
            )
            if capture is None:
                self.skipped += 1
                log.info("no buffered frames of camera %s for alert %s", camera_id, alert_id)
                await self._gap(alert, "no_frames", "no buffered frames covered the alert's moment")
                return
            ids = await self._store(capture, alert_id, camera_id)
        except asyncio.CancelledError:
            raise
        except (ArgusError, ValueError, KeyError, OSError) as exc:
            self.failed += 1
            log.exception("capturing evidence of alert %s failed", alert_id)
            await self._gap(alert, "failed", f"{type(exc).__name__}: {exc}")
            return
        self.stored += 1
        await self._announce(alert_id, camera_id, {"evidence": ids})

    async def _gap(self, alert: Mapping[str, Any], reason: GapReason, detail: str) -> None:
        """Record and announce that ``alert`` has no (complete) evidence; never raises."""
        alert_id, camera_id = str(alert.get("id")), str(alert.get("camera_id"))
        try:
            gap = EvidenceGap(
                alert_id=alert_id,
                camera_id=camera_id,
                reason=reason,
                detail=detail,
                at=self._clock(),
                severity=str(alert.get("severity", "low"))[:20] or "low",
            )
            await self._evidence.record_gap(gap)
        except ArgusError:
            # The store is down too (an outage): the log is the last place left to say so.
            log.exception("the evidence gap of alert %s (%s) was not recorded", alert_id, reason)
            return
        await self._announce(alert_id, camera_id, {"evidence": {}, "gap": gap.to_dict()})

    async def _store(self, capture: Capture, alert_id: str, camera_id: str) -> dict[str, str]:
        snapshot = await self._evidence.store(
            capture.snapshot,
            "snapshot",
            "image/jpeg",
            alert_id=alert_id,
            camera_id=camera_id,
        )
        clip = await self._evidence.store(
            capture.clip,
            "clip",
            capture.clip_content_type,
            alert_id=alert_id,
            camera_id=camera_id,
        )
        return {"snapshot": snapshot.id, "clip": clip.id}

    async def _announce(self, alert_id: str, camera_id: str, body: dict[str, Any]) -> None:
        envelope = Envelope(
            event_id=new_event_id(),
            type=EVIDENCE_EVENT,
            timestamp=utc_now(),
            source=EventSource(self._node_id, camera_id),
            payload={"id": alert_id, "camera_id": camera_id, **body},
        )
        try:
            await self._bus.publish(ALERTS_SUBJECT, envelope)
        except ArgusError:
            log.exception("could not announce the evidence of alert %s", alert_id)
