"""Hard examples: frames worth a label, collected from verdicts and sampled candidates.

``HardExampleService`` is the write boundary of ``Database.hard_examples`` for
collection, and its read side for everyone:

* ``collect_verdict``: an alert an operator dismissed (``false_positive``) or
  confirmed becomes an example. Its frame is the alert's snapshot (evidence
  the capture stored), or else the camera's buffered frame nearest the event
  when the camera runs here. Its boxes are what the model drew on that frame
  when the camera's recent boxes still hold it (``DetectionMemory``), scaled
  to the stored frame; else none, and the labeller draws them.
* ``collect_candidate``: an ``example.candidate`` event (the sampler's
  ``adapters.pipelines.example_sampler``) becomes an example with the frame
  from the camera's ring (only the server running the camera holds it).
* ``withdraw``: a dismissal undone removes its still-unlabelled example.

Each frame is sealed as its own evidence item (kind ``frame``, JPEG), locked
by ``system`` so that evidence retention leaves it alone: the example owns
it, the example's retention (``sweep``) or erasure unlocks and deletes it,
and nothing of the alert goes with it. A replayed verdict or event never queues twice (the store is
unique per source and key; the loser of a race deletes the frame it sealed).
Each camera keeps at most ``max_queued`` unlabelled examples per source.
Collection is audited as ``example.collect`` (``system``).

Reads take the acting ``Actor``: an example of a camera outside its scope is
``NotFoundError``. ``frame(example_id)`` is the decrypted, verified JPEG for
other services (dataset export, evaluation), audited as ``evidence.read``.
``erase`` and ``sweep`` (``hard_example_upkeep``) remove examples with their
frames for privacy erasures and retention.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.alerts import Alert
from argus.domain.cameras import new_id, utc_now
from argus.domain.errors import ArgusError, NotFoundError, ValidationError
from argus.domain.events import Envelope
from argus.domain.example_sampling import CANDIDATE_EVENT, DetectionMemory, scale_boxes
from argus.domain.hard_examples import ExampleSource, ExampleState, HardExample, LabelBox
from argus.ports.evidence import EvidenceFilter
from argus.ports.hard_examples import ExampleFilter
from argus.ports.paging import Page
from argus.ports.pipelines import PipelineSupervisor
from argus.ports.repositories import Database
from argus.services import hard_example_upkeep as upkeep
from argus.services.evidence import EvidenceService
from argus.services.hard_example_frames import jpeg_size, parse_candidate
from argus.services.hard_example_values import Background, CollectPolicy, Counters, ExampleSummary
from argus.services.writes import record, require_camera, require_visible

__all__ = [
    "ALL_EXAMPLES",
    "CANDIDATE_EVENT",
    "Background",
    "CollectPolicy",
    "ExampleSummary",
    "HardExampleService",
]

log = logging.getLogger(__name__)

ALL_EXAMPLES = ExampleFilter()
"""Every example (a list's default filter)."""

_VERDICTS: Mapping[str, ExampleSource] = {
    "false_positive": ExampleSource.FALSE_POSITIVE,
    "confirmed": ExampleSource.CONFIRMED,
}


class HardExampleService:
    """Collects hard examples and reads them (see the module docstring).

    Args:
        database: The store (examples, cameras, audit).
        evidence: Seals and reads the frames.
        pipelines: The local pipelines (frames of cameras running here), if any.
        memory: Recent boxes of local cameras (written by the sampler), if kept.
        policy: What collection keeps (the defaults of ``CollectPolicy`` when ``None``).
        clock: The current UTC time.
        make_id: New example ids (ULIDs).
    """

    def __init__(
        self,
        database: Database,
        evidence: EvidenceService,
        *,
        pipelines: PipelineSupervisor | None = None,
        memory: DetectionMemory | None = None,
        policy: CollectPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
        make_id: Callable[[], str] = new_id,
    ) -> None:
        self._db = database
        self._evidence = evidence
        self._pipelines = pipelines
        self._memory = memory
        self.policy = policy if policy is not None else CollectPolicy()
        self._clock = clock
        self._new_id = make_id
        self.counters = Counters()
        self.background: Background | None = None
        """What feeds it from the bus (``hard_example_intake.ExampleIntake``), once wired."""

    @property
    def evidence(self) -> EvidenceService:
        """The evidence service that holds the frames."""
        return self._evidence

    # --- reading ---------------------------------------------------------------------------

    def scoped(self, actor: Actor, where: ExampleFilter) -> ExampleFilter:
        """``where`` within the actor's cameras.

        Raises:
            PermissionDeniedError: ``where`` names a camera outside the actor's scope.
        """
        if actor.principal is None or actor.principal.cameras is None:
            return where
        if where.camera_ids is not None:
            for camera_id in where.camera_ids:
                require_camera(actor, camera_id)
            return where
        return _with(where, camera_ids=frozenset(actor.principal.cameras))

    async def list(
        self,
        actor: Actor,
        where: ExampleFilter = ALL_EXAMPLES,
        *,
        limit: int = 50,
        offset: int = 0,
        oldest_first: bool = False,
    ) -> Page[HardExample]:
        """Examples the actor sees, newest capture first unless ``oldest_first``.

        Raises:
            PermissionDeniedError: ``where`` names a camera outside the actor's scope.
            ValidationError: Bad paging.
        """
        scoped = self.scoped(actor, where)
        return await self._db.hard_examples.list(
            scoped, limit=limit, offset=offset, oldest_first=oldest_first
        )

    async def get(self, actor: Actor, example_id: str) -> HardExample:
        """One example (``NotFoundError`` if unknown or outside the actor's cameras)."""
        example = await self._db.hard_examples.get(example_id)
        require_visible(actor, example.camera_id, f"hard example {example_id}")
        return example

    async def frame(self, example_id: str, *, actor: Actor = SYSTEM_ACTOR) -> bytes:
        """The example's frame: verified, decrypted JPEG bytes (audited as ``evidence.read``).

        Other services (dataset export, evaluation) call it with the default
        ``SYSTEM_ACTOR``; the API passes the caller, whose camera scope applies.

        Raises:
            NotFoundError: Unknown example (or outside the actor's cameras), or its
                frame is gone (erased or aged out).
            IntegrityError: The sealed frame was altered.
        """
        example = await self.get(actor, example_id)
        _, data = await self._evidence.read(example.frame_evidence_id, actor=actor)
        return data

    async def summary(self, actor: Actor, where: ExampleFilter = ALL_EXAMPLES) -> ExampleSummary:
        """Counts by state, source and camera of the examples the actor sees."""
        tally = await self._db.hard_examples.tally(self.scoped(actor, where))
        by_state = {s.value: 0 for s in ExampleState}
        by_source = {s.value: 0 for s in ExampleSource}
        by_camera: dict[str, int] = {}
        for row in tally:
            by_state[row.state.value] += row.count
            by_source[row.source.value] += row.count
            by_camera[row.camera_id] = by_camera.get(row.camera_id, 0) + row.count
        total = sum(by_state.values())
        return ExampleSummary(total, by_state, by_source, dict(sorted(by_camera.items())))

    # --- collecting ------------------------------------------------------------------------

    async def collect_verdict(self, alert: Alert) -> HardExample | None:
        """Queue the example of a dismissed or confirmed alert (``None``: none queued)."""
        source = _VERDICTS.get(alert.state)
        if source is None or not self.policy.enabled:
            return None
        if not await self._room_for(alert.camera_id, source, alert.id):
            return None
        jpeg = await self._alert_frame(alert)
        if jpeg is None:
            self.counters.no_frame += 1
            log.info("hard example of alert %s: no frame (no snapshot, none buffered)", alert.id)
            return None
        width, height = jpeg_size(jpeg)
        note = alert.history[-1].note if alert.history else ""
        boxes, model_ref = self._recalled_boxes(alert.camera_id, alert.event_time, width, height)
        return await self._queue(
            camera_id=alert.camera_id,
            source=source,
            source_key=alert.id,
            captured_at=alert.event_time,
            jpeg=jpeg,
            size=(width, height),
            boxes=boxes,
            model_ref=model_ref or await self._camera_model(alert.camera_id),
            alert_id=alert.id,
            note=(note or f"{alert.rule_name}: {alert.event_type}")[:500],
        )

    async def collect_candidate(self, envelope: Envelope) -> HardExample | None:
        """Queue a sampled candidate of a camera running here (``None``: none queued).

        Raises:
            ValidationError: The envelope is not a well-formed candidate.
        """
        if envelope.type != CANDIDATE_EVENT or not self.policy.enabled:
            return None
        camera_id, payload = envelope.source.camera_id, envelope.payload
        source, at, size, boxes, model_ref, note = parse_candidate(payload)
        if source in _VERDICTS.values():
            raise ValidationError("a sampled candidate cannot claim a verdict's source")
        if not await self._room_for(camera_id, source, envelope.event_id):
            return None
        if self._pipelines is None:
            self.counters.no_frame += 1
            return None
        capture = await self._pipelines.capture(camera_id, at, pre_s=0.0, post_s=0.0)
        if capture is None or abs(capture.snapshot_at - at) > self.policy.frame_tolerance:
            self.counters.no_frame += 1
            log.info(
                "hard example candidate %s: its frame is no longer buffered", envelope.event_id
            )
            return None
        target = (capture.width, capture.height)
        return await self._queue(
            camera_id=camera_id,
            source=source,
            source_key=envelope.event_id,
            captured_at=at,
            jpeg=capture.snapshot,
            size=target,
            boxes=scale_boxes(boxes, size, target),
            model_ref=model_ref,
            alert_id=None,
            note=note,
        )

    async def withdraw(self, alert: Alert) -> bool:
        """Remove a dismissal's example once the dismissal is undone (if still unlabelled)."""
        where = ExampleFilter(
            sources={ExampleSource.FALSE_POSITIVE},
            states={ExampleState.QUEUED},
            source_key=alert.id,
        )
        page = await self._db.hard_examples.list(where, limit=1)
        for example in page.items:
            if not example.labelled and example.assignee is None:
                await self._remove(example, SYSTEM_ACTOR, "example.withdraw")
                return True
        return False

    async def _room_for(self, camera_id: str, source: ExampleSource, key: str) -> bool:
        """Whether an example keyed ``key`` is new and its camera's queue has room."""
        known = ExampleFilter(sources={source}, source_key=key)
        if await self._db.hard_examples.count(known):
            self.counters.duplicate += 1
            return False
        queued = await self._db.hard_examples.count(
            ExampleFilter(camera_ids={camera_id}, sources={source}, states={ExampleState.QUEUED})
        )
        if queued >= self.policy.max_queued:
            self.counters.full += 1
            log.info(
                "hard example %s of camera %s skipped: its %s queue is full",
                key,
                camera_id,
                source.value,
            )
            return False
        return True

    async def _alert_frame(self, alert: Alert) -> bytes | None:
        page = await self._evidence.list(EvidenceFilter(alert_id=alert.id), limit=100)
        snapshot = next((i for i in page.items if i.kind == "snapshot"), None)
        if snapshot is not None:
            with contextlib.suppress(NotFoundError):
                _, data = await self._evidence.read(snapshot.id, actor=SYSTEM_ACTOR)
                return data
        if self._pipelines is None or self._pipelines.status(alert.camera_id) is None:
            return None
        capture = await self._pipelines.capture(
            alert.camera_id, alert.event_time, pre_s=0.0, post_s=0.0
        )
        if (
            capture is None
            or abs(capture.snapshot_at - alert.event_time) > self.policy.frame_tolerance
        ):
            return None
        return capture.snapshot

    def _recalled_boxes(
        self, camera_id: str, at: datetime, width: int, height: int
    ) -> tuple[tuple[LabelBox, ...], str]:
        if self._memory is None:
            return (), ""
        recalled = self._memory.recall(camera_id, at, self.policy.frame_tolerance)
        if recalled is None:
            return (), ""
        source = (recalled.width, recalled.height)
        return scale_boxes(recalled.boxes, source, (width, height)), recalled.model_ref

    async def _camera_model(self, camera_id: str) -> str:
        try:
            return (await self._db.cameras.get(camera_id)).model
        except NotFoundError:
            return "unknown"

    async def _queue(
        self,
        *,
        camera_id: str,
        source: ExampleSource,
        source_key: str,
        captured_at: datetime,
        jpeg: bytes,
        size: tuple[int, int],
        boxes: tuple[LabelBox, ...],
        model_ref: str,
        alert_id: str | None,
        note: str,
    ) -> HardExample | None:
        """Seal the frame and store the example; ``None`` when it was already stored."""
        item = await self._evidence.store(jpeg, "frame", "image/jpeg", camera_id=camera_id)
        example = HardExample(
            id=self._new_id(),
            camera_id=camera_id,
            source=source,
            captured_at=captured_at,
            created_at=self._clock(),
            frame_evidence_id=item.id,
            width=size[0],
            height=size[1],
            model_ref=model_ref[:200] or "unknown",
            boxes=boxes,
            source_key=source_key,
            alert_id=alert_id,
            note=note[:500],
        )
        try:
            # Locked: evidence retention leaves it to the example's own retention.
            await self._evidence.lock(item.id, actor=SYSTEM_ACTOR)
            stored = await self._db.hard_examples.add(example)
        except BaseException:
            with contextlib.suppress(ArgusError):
                await upkeep.delete_frame(self._evidence, item.id, SYSTEM_ACTOR)
            raise
        if not stored:
            self.counters.duplicate += 1
            await upkeep.delete_frame(self._evidence, item.id, SYSTEM_ACTOR)
            return None
        self.counters.collected += 1
        self.counters.by_source[source.value] = self.counters.by_source.get(source.value, 0) + 1
        await record(
            self._db.audit,
            SYSTEM_ACTOR,
            "example.collect",
            f"example:{example.id}",
            at=example.created_at,
            camera_id=camera_id,
            source=source.value,
            source_key=source_key,
            frame=item.id,
            boxes=len(boxes),
        )
        return example

    # --- removing --------------------------------------------------------------------------

    async def erase(
        self, actor: Actor, camera_ids: Collection[str], since: datetime, until: datetime
    ) -> int:
        """Remove the cameras' examples captured in ``[since, until)`` with their frames."""
        where = ExampleFilter(camera_ids=frozenset(camera_ids), since=since, until=until)
        return await self._purge(actor, where, "example.erase")

    async def sweep(self) -> int:
        """Remove examples past the retention (accepted ones stay) with their frames."""
        if self.policy.retention is None:
            return 0
        where = ExampleFilter(
            states={ExampleState.QUEUED, ExampleState.LABELLED, ExampleState.REJECTED},
            until=self._clock() - self.policy.retention,
        )
        return await self._purge(SYSTEM_ACTOR, where, "example.expire")

    async def _purge(self, actor: Actor, where: ExampleFilter, action: str) -> int:
        return await upkeep.purge(
            self._db, self._evidence, actor, where, action=action, clock=self._clock
        )

    async def _remove(self, example: HardExample, actor: Actor, action: str) -> None:
        await upkeep.remove(
            self._db, self._evidence, example, actor, action=action, clock=self._clock
        )


def _with(where: ExampleFilter, **changes: Any) -> ExampleFilter:
    values = {name: getattr(where, name) for name in where.__dataclass_fields__}
    return ExampleFilter(**{**values, **changes})
