"""Alert evidence: a snapshot and a clip for every new alert of a camera running here.

The capture listens to the alert fan-out (every server sees every alert).
Only the server whose pipeline runs the alert's camera holds its recent
frames, so only that one captures: it asks the pipeline for the window
``[event_time - pre_s, event_time + post_s]`` (waiting for the post-roll),
stores the snapshot and the clip through the evidence service (encrypted,
signed, audited as ``system``), and announces ``alert.evidence`` on the
alert subject so live clients can show them.

Captures run concurrently up to a bound; past it, new alerts are counted as
skipped rather than queued without end (a storm of alerts must not hold
frames and memory for minutes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from argus.domain.cameras import utc_now
from argus.domain.errors import ArgusError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.ports.bus import EventBus, Subscription
from argus.ports.pipelines import Capture, PipelineSupervisor
from argus.services.alerts import ALERTS_SUBJECT
from argus.services.consumers import ConsumerState, consume_resubscribing
from argus.services.evidence import EvidenceService

__all__ = ["EVIDENCE_EVENT", "EvidenceCapture"]

log = logging.getLogger(__name__)

EVIDENCE_EVENT = "alert.evidence"
"""Published on the alert subject once an alert's evidence is stored."""


class EvidenceCapture:
    """Captures and stores evidence for new alerts of local cameras.

    Args:
        bus: Its alert fan-out is the trigger; ``alert.evidence`` goes back on it.
        pipelines: The local pipelines (their ring buffers).
        evidence: Stores the encrypted snapshot and clip.
        pre_s: Seconds of video before the event.
        post_s: Seconds after it.
        node_id: This server's id on the envelopes it publishes.
        max_concurrent: Captures in flight at once; more alerts are skipped.
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
    ) -> None:
        self._bus = bus
        self._pipelines = pipelines
        self._evidence = evidence
        self._pre_s = pre_s
        self._post_s = post_s
        self._node_id = node_id
        self._slots = max_concurrent
        self._tasks: set[asyncio.Task[None]] = set()
        self._feed: asyncio.Task[None] | None = None
        self.state = ConsumerState()
        self.stored = 0
        """Alerts whose evidence was stored."""
        self.skipped = 0
        """Alerts not captured: too many in flight, or no frames covered the moment."""
        self.failed = 0
        """Captures that raised."""

    def start(self) -> None:
        """Start listening (once)."""
        if self._feed is None:
            self._feed = asyncio.create_task(self._run(), name="argus-evidence-capture")

    async def stop(self) -> None:
        """Stop listening and cancel captures in flight."""
        tasks = [t for t in (self._feed, *self._tasks) if t is not None]
        self._feed = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def idle(self) -> None:
        """Wait until no capture is in flight (for tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

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
            if len(self._tasks) >= self._slots:
                self.skipped += 1
                log.warning("evidence of alert %s skipped: captures busy", alert.get("id"))
                continue
            task = asyncio.create_task(self._capture(alert), name="argus-evidence-alert")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _capture(self, alert: Mapping[str, Any]) -> None:
        alert_id, camera_id = str(alert["id"]), str(alert["camera_id"])
        try:
            at = datetime.fromisoformat(str(alert["event_time"]))
            capture = await self._pipelines.capture(
                camera_id, at, pre_s=self._pre_s, post_s=self._post_s
            )
            if capture is None:
                self.skipped += 1
                log.info("no buffered frames of camera %s for alert %s", camera_id, alert_id)
                return
            ids = await self._store(capture, alert_id, camera_id)
        except asyncio.CancelledError:
            raise
        except (ArgusError, ValueError, KeyError, OSError):
            self.failed += 1
            log.exception("capturing evidence of alert %s failed", alert_id)
            return
        self.stored += 1
        await self._announce(alert_id, camera_id, ids)

    async def _store(self, capture: Capture, alert_id: str, camera_id: str) -> dict[str, str]:
        snapshot = await self._evidence.store(
            capture.snapshot,
            "snapshot",
            "image/jpeg",
            actor="system",
            alert_id=alert_id,
            camera_id=camera_id,
        )
        clip = await self._evidence.store(
            capture.clip,
            "clip",
            capture.clip_content_type,
            actor="system",
            alert_id=alert_id,
            camera_id=camera_id,
        )
        return {"snapshot": snapshot.id, "clip": clip.id}

    async def _announce(self, alert_id: str, camera_id: str, ids: dict[str, str]) -> None:
        envelope = Envelope(
            event_id=new_event_id(),
            type=EVIDENCE_EVENT,
            timestamp=utc_now(),
            source=EventSource(self._node_id, camera_id),
            payload={"id": alert_id, "camera_id": camera_id, "evidence": ids},
        )
        try:
            await self._bus.publish(ALERTS_SUBJECT, envelope)
        except ArgusError:
            log.exception("could not announce the evidence of alert %s", alert_id)
