"""``NodeEvidence``: snapshots and clips cut on the edge node, sealed, sent through the outbox.

Every envelope the node's pipelines produce passes here (after it is in the
outbox). An envelope whose type is one of its camera's ``evidence_types``
(the types of enabled rules that cover the camera, from the configuration)
asks for evidence: a snapshot at the event and a clip of
``[at - pre_roll, at + post_roll]`` from the camera's ring of recent frames.
Captures are coalesced per camera: an event that falls inside the window
of a capture that is waiting or being cut joins it (its id is added to the
evidence's ``event_ids``), so a burst of crossings makes one clip, not one
per crossing. At most ``concurrency`` captures run at once and ``queue_size``
wait; a capture asked for beyond that is skipped and counted (``skipped``).

A ``camera.tamper`` event gets the tamper monitor's reference view
(``before``) and the current view (``after``) instead.

Each object is sealed with the node's evidence key (AES-256-GCM, associated
data ``evidence_id|node|camera|kind``) into an ``EdgeEvidence`` and appended
to the outbox; the control plane opens it, stores it in its vault and links
it to the alerts of the events it lists, also when such an alert is raised
after the evidence arrived or the evidence after the alert (a node that was
offline).

Camera-offline evidence is not made on the node: ``camera.offline`` events
are derived by the control plane from health reports, so the node does not
know their ids.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from argus.domain.edge import EdgeEvidence, EvidenceKind, OutboxItem, SealedBlob
from argus.domain.event_ids import new_event_id
from argus.domain.events import Envelope
from argus.ports.edge_outbox import EdgeOutbox
from argus.ports.pipelines import Capture
from argus.services.background import TaskGroup

__all__ = ["TAMPER_EVENT", "EvidenceSource", "NodeEvidence", "Sealer"]

log = logging.getLogger(__name__)

TAMPER_EVENT = "camera.tamper"
"""The event whose evidence is the tamper monitor's before/after frames."""

Sealer = Callable[[bytes, bytes, bytes], SealedBlob]
"""``seal(key, data, aad)``: AES-256-GCM (``argus.adapters.crypto.seal.seal``)."""

Aad = Callable[[str, str, str, str], bytes]
"""``evidence_aad(evidence_id, node_id, camera_id, kind)``."""

_Object = tuple[EvidenceKind, str, bytes, datetime]


class EvidenceSource(Protocol):
    """What the node's pipelines give evidence from."""

    async def capture(
        self, camera_id: str, at: datetime, *, pre_s: float, post_s: float
    ) -> Capture | None:
        """A snapshot at ``at`` and a clip around it, or ``None``."""
        ...

    def tamper_frames(self, camera_id: str) -> tuple[bytes, bytes] | None:
        """The tamper monitor's reference and current JPEG frames, or ``None`` (blocking)."""
        ...


@dataclass(slots=True)
class _Job:
    camera_id: str
    at: datetime
    pre_s: float
    post_s: float
    event_ids: list[str] = field(default_factory=list)
    tamper: bool = False

    def covers(self, moment: datetime) -> bool:
        start = self.at - timedelta(seconds=self.pre_s)
        return start <= moment <= self.at + timedelta(seconds=self.post_s)


class NodeEvidence:
    """Turns events into sealed evidence items of the outbox (see the module docstring).

    Args:
        node_id: This node's id.
        source: The pipelines (``capture``, ``tamper_frames``).
        outbox: The durable outbox.
        evidence_types: The event types that want evidence, per camera id
            (from the current configuration).
        rolls: Pre- and post-roll seconds (from the current configuration).
        key: The node's 32-byte evidence key, ``None`` before it is known.
        seal: Seals bytes (``seal(key, data, aad)``).
        aad: The associated data of an evidence object.
        wake: Asks the syncer to send now.
        clock: The node's clock (aware UTC).
        concurrency: Captures cut at once.
        queue_size: Captures waiting at most.
    """

    def __init__(
        self,
        *,
        node_id: str,
        source: EvidenceSource,
        outbox: EdgeOutbox,
        evidence_types: Callable[[str], Sequence[str]],
        rolls: Callable[[], tuple[float, float]],
        key: Callable[[], bytes | None],
        seal: Sealer,
        aad: Aad,
        wake: Callable[[], None],
        clock: Callable[[], datetime],
        concurrency: int = 2,
        queue_size: int = 64,
    ) -> None:
        self._node_id = node_id
        self._source = source
        self._outbox = outbox
        self._types = evidence_types
        self._rolls = rolls
        self._key = key
        self._seal = seal
        self._aad = aad
        self._wake = wake
        self._clock = clock
        self._concurrency = max(1, concurrency)
        self._queue_size = max(1, queue_size)
        self._waiting: deque[_Job] = deque()
        self._active: list[_Job] = []
        self._ready = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks = TaskGroup()
        self.skipped = 0
        """Captures not made: the queue was full or no evidence key was known."""
        self.sealed = 0
        """Evidence objects sealed into the outbox."""

    def notify(self, camera_id: str, envelopes: Sequence[Envelope]) -> None:
        """Hand over a camera's envelopes from any thread (the video thread's sink)."""
        types = self._types(camera_id)
        wanted = tuple(e for e in envelopes if e.type == TAMPER_EVENT or e.type in types)
        loop = self._loop
        if not wanted or loop is None:
            return
        try:
            loop.call_soon_threadsafe(self.receive, camera_id, wanted)
        except RuntimeError:  # the loop is closed: the node is stopping
            return

    def receive(self, camera_id: str, envelopes: Sequence[Envelope]) -> None:
        """Schedule the evidence of ``envelopes`` (on the event loop)."""
        types = set(self._types(camera_id))
        for envelope in envelopes:
            if envelope.type == TAMPER_EVENT:
                self._enqueue(_Job(camera_id, envelope.timestamp, 0.0, 0.0, tamper=True), envelope)
            elif envelope.type in types:
                joined = next(
                    (
                        job
                        for job in (*self._active, *self._waiting)
                        if job.camera_id == camera_id
                        and not job.tamper
                        and job.covers(envelope.timestamp)
                    ),
                    None,
                )
                if joined is not None:
                    joined.event_ids.append(envelope.event_id)
                    continue
                pre_s, post_s = self._rolls()
                self._enqueue(_Job(camera_id, envelope.timestamp, pre_s, post_s), envelope)

    def _enqueue(self, job: _Job, envelope: Envelope) -> None:
        if len(self._waiting) >= self._queue_size:
            self.skipped += 1
            log.warning(
                "camera %s: evidence queue full, no evidence for event %s",
                job.camera_id,
                envelope.event_id,
            )
            return
        job.event_ids.append(envelope.event_id)
        self._waiting.append(job)
        self._ready.set()

    @property
    def pending(self) -> int:
        """Captures waiting or being cut."""
        return len(self._waiting) + len(self._active)

    def start(self) -> None:
        """Start the capture workers (call on the event loop)."""
        self._loop = asyncio.get_running_loop()
        self._tasks.start(*((f"edge-evidence-{i}", self._work) for i in range(self._concurrency)))

    async def stop(self) -> None:
        """Stop the workers; captures not done are dropped (their events are in the outbox)."""
        self._loop = None
        await self._tasks.stop()
        if self._waiting or self._active:
            log.info("stopping with %d evidence capture(s) not done", self.pending)
        self._waiting.clear()
        self._active.clear()

    async def _work(self) -> None:
        while True:
            while not self._waiting:
                self._ready.clear()
                await self._ready.wait()
            job = self._waiting.popleft()
            self._active.append(job)
            try:
                await self._run(job)
            except Exception:  # one failed capture must not stop the worker
                log.exception("camera %s: evidence capture failed", job.camera_id)
            finally:
                self._active.remove(job)

    async def _run(self, job: _Job) -> None:
        objects: list[_Object]
        if job.tamper:
            frames = await asyncio.to_thread(self._source.tamper_frames, job.camera_id)
            if frames is None:
                log.info("camera %s: no tamper frames for the tamper event", job.camera_id)
                return
            objects = [
                ("before", "image/jpeg", frames[0], job.at),
                ("after", "image/jpeg", frames[1], job.at),
            ]
        else:
            capture = await self._source.capture(
                job.camera_id, job.at, pre_s=job.pre_s, post_s=job.post_s
            )
            if capture is None:
                log.info("camera %s: no frames for the evidence of %s", job.camera_id, job.at)
                return
            objects = [
                ("snapshot", "image/jpeg", capture.snapshot, capture.snapshot_at),
                ("clip", capture.clip_content_type, capture.clip, capture.start),
            ]
        key = self._key()
        if key is None:
            self.skipped += 1
            log.warning(
                "camera %s: no evidence key yet (never registered); evidence skipped",
                job.camera_id,
            )
            return
        items = await asyncio.to_thread(self._sealed, key, job, objects)
        await asyncio.to_thread(self._outbox.append, items, at=self._clock())
        self.sealed += len(items)
        self._wake()

    def _sealed(self, key: bytes, job: _Job, objects: Sequence[_Object]) -> list[OutboxItem]:
        items = []
        event_ids = tuple(dict.fromkeys(job.event_ids))
        for kind, content_type, data, captured_at in objects:
            evidence_id = new_event_id(self._clock())
            aad = self._aad(evidence_id, self._node_id, job.camera_id, kind)
            evidence = EdgeEvidence(
                evidence_id=evidence_id,
                node_id=self._node_id,
                camera_id=job.camera_id,
                event_ids=event_ids,
                kind=kind,
                content_type=content_type,
                captured_at=captured_at,
                blob=self._seal(key, data, aad),
            )
            items.append(OutboxItem.of_evidence(evidence))
        return items
