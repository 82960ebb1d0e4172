"""The hard-example queue's background part: verdicts and candidates in, old examples out.

``ExampleIntake`` listens to two fan-outs (every server sees every message):

* the alert subject: an ``alert.updated`` whose alert is now
  ``false_positive`` or ``confirmed`` is collected (any server can: the frame
  is the alert's snapshot in the shared evidence store; the store keeps one
  example per alert when two servers race); one whose dismissal was undone
  (``false_positive`` → ``acknowledged``) withdraws its example;
* the event subject: an ``example.candidate`` of a camera running here is
  collected (only this server holds the camera's recent frames).

And once an hour it removes examples past their retention. A message that
fails is logged and skipped: the queue is a sample, and nothing downstream
waits for one example.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from argus.domain.alerts import Alert
from argus.domain.errors import ArgusError
from argus.domain.events import Envelope
from argus.domain.example_sampling import LineBook
from argus.ports.bus import EventBus, Subscription
from argus.ports.pipelines import PipelineSupervisor
from argus.ports.repositories import Database
from argus.services.alerts import ALERTS_SUBJECT
from argus.services.background import TaskGroup
from argus.services.consumers import ConsumerState, consume_resubscribing
from argus.services.hard_examples import CANDIDATE_EVENT, HardExampleService

__all__ = ["ExampleIntake"]

log = logging.getLogger(__name__)


class ExampleIntake:
    """Feeds the hard-example queue from the bus (see the module docstring).

    Args:
        examples: The queue.
        bus: Its alert and event fan-outs.
        events_subject: The subject pipelines publish events on.
        pipelines: The local pipelines (which cameras run here), if any.
        lines: Where the samplers of local cameras find their counting lines,
            refreshed from ``database`` every ``lines_every_s``.
        database: The store the lines are read from.
        sweep_every_s: Seconds between two retention sweeps.
        lines_every_s: Seconds between two reads of the local cameras' lines.
    """

    def __init__(
        self,
        examples: HardExampleService,
        bus: EventBus,
        *,
        events_subject: str,
        pipelines: PipelineSupervisor | None = None,
        lines: LineBook | None = None,
        database: Database | None = None,
        sweep_every_s: float = 3600.0,
        lines_every_s: float = 30.0,
    ) -> None:
        self._examples = examples
        self._bus = bus
        self._subject = events_subject
        self._pipelines = pipelines
        self._sweep_every_s = sweep_every_s
        self._lines = lines
        self._db = database
        self._lines_every_s = lines_every_s
        self._tasks = TaskGroup()
        self.alerts_state = ConsumerState()
        self.events_state = ConsumerState()
        self.handled = 0
        """Messages looked at by a collector (for tests: wait until it grows)."""
        self.failures = 0
        """Messages whose collection failed (logged)."""

    def start(self) -> None:
        """Start listening and sweeping (once)."""
        self._tasks.start(
            ("argus-examples-verdicts", self._verdicts),
            ("argus-examples-candidates", self._candidates),
            ("argus-examples-sweep", self._sweeps),
            ("argus-examples-lines", self._line_reads),
        )

    async def stop(self) -> None:
        """Stop listening and sweeping."""
        await self._tasks.stop()

    async def _verdicts(self) -> None:
        await consume_resubscribing(
            lambda: self._bus.fan_out(ALERTS_SUBJECT),
            self._consume_alerts,
            self.alerts_state,
            what="hard examples from verdicts",
        )

    async def _candidates(self) -> None:
        await consume_resubscribing(
            lambda: self._bus.fan_out(self._subject),
            self._consume_events,
            self.events_state,
            what="hard-example candidates",
        )

    async def _consume_alerts(self, subscription: Subscription) -> None:
        async for delivery in subscription:
            envelope = delivery.envelope
            if envelope.type == "alert.updated":
                await self._safely(envelope, self.on_alert)

    async def _consume_events(self, subscription: Subscription) -> None:
        async for delivery in subscription:
            envelope = delivery.envelope
            if envelope.type != CANDIDATE_EVENT:
                continue
            pipelines = self._pipelines
            if pipelines is None or pipelines.status(envelope.source.camera_id) is None:
                continue  # another server runs this camera and holds its frames
            await self._safely(envelope, self._examples.collect_candidate)

    async def on_alert(self, envelope: Envelope) -> None:
        """Collect or withdraw the example of one ``alert.updated`` message."""
        alert = Alert.from_dict(envelope.payload)
        if alert.state in ("false_positive", "confirmed"):
            await self._examples.collect_verdict(alert)
        elif alert.history and alert.history[-1].from_state == "false_positive":
            await self._examples.withdraw(alert)

    async def _safely(
        self, envelope: Envelope, handle: Callable[[Envelope], Awaitable[object]]
    ) -> None:
        try:
            await handle(envelope)
        except asyncio.CancelledError:
            raise
        except ArgusError as exc:
            self.failures += 1
            log.warning(
                "hard example from %s %s not collected: %s", envelope.type, envelope.event_id, exc
            )
        except Exception:  # the top of a consumer's loop: the consumer must live on
            self.failures += 1
            log.exception("hard example from %s %s crashed", envelope.type, envelope.event_id)
        self.handled += 1

    async def _sweeps(self) -> None:
        while True:
            try:
                removed = await self._examples.sweep()
                if removed:
                    log.info("hard examples: %d past their retention removed", removed)
            except ArgusError as exc:
                log.warning("hard examples: retention sweep failed: %s", exc)
            except Exception:  # the top of a task loop: log and sweep again later
                log.exception("hard examples: retention sweep crashed")
            await asyncio.sleep(self._sweep_every_s)

    async def refresh_lines(self) -> None:
        """Read the counting lines of the cameras running here into the line book."""
        if self._lines is None or self._db is None or self._pipelines is None:
            return
        for status in self._pipelines.statuses():
            page = await self._db.lines.list(status.camera_id, limit=1000)
            self._lines.put(status.camera_id, [(line.start, line.end) for line in page.items])

    async def _line_reads(self) -> None:
        while True:
            try:
                await self.refresh_lines()
            except ArgusError as exc:
                log.warning("hard examples: cannot read the cameras' lines: %s", exc)
            except Exception:  # the top of a task loop: log and read again later
                log.exception("hard examples: reading the cameras' lines crashed")
            await asyncio.sleep(self._lines_every_s)
