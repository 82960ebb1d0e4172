"""Verify sessions and pipelines: one worker thread analysing the frames of its clients.

A :class:`VerifySession` is one connected client: its outgoing messages (a
bounded queue the WebSocket writer drains; the oldest is dropped when a client
reads too slowly), its incoming frames (a bounded queue that drops the *oldest*
frame when the client sends faster than it is analysed: the newest frame is
what matters for security), and, once a pipeline serves it, its
:class:`FrameAnalyzer`.

A :class:`Pipeline` owns one single-thread executor and its own models (built
in that thread as soon as the pipeline starts, while its first client is still
signing in: an idle server loads none). Its task takes
the ready frame of each client in turn (round robin, one frame per client per
round, so a fast sender cannot starve the others; each round starts one client
further on), up to ``tuning.batch`` of them at a time; the thread decodes them
and analyses them together (:func:`argus.services.verification.analyze_many`:
each model runs once on the batch), and the analyses go to the hub's callback
on the event loop, in order. Workers never hold sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ArgusError, ValidationError
from argus.domain.faces import EnrolledFaces
from argus.domain.phone import PhoneRules
from argus.domain.verification import Action, VerificationPolicy
from argus.domain.workstations import VerifyClient
from argus.ports.workstations import ImageDecoder
from argus.services.replies import Reply
from argus.services.verification import (
    Analysis,
    FrameAnalyzer,
    VerificationModels,
    analyze_many,
)
from argus.services.verify_outcomes import Ending, VerifyClosed, VerifyError, VerifyOutcome

__all__ = ["Frame", "Outbound", "Pipeline", "SessionState", "VerifySession"]

log = logging.getLogger(__name__)

OUTBOX_SIZE = 64
"""Messages queued for one client before the oldest are dropped."""


Outbound = VerifyOutcome | Reply
"""What a session's queue holds: the hub's outcomes and the API's replies, in order."""


class SessionState(StrEnum):
    """Where a session stands."""

    WAITING = "waiting"
    ASSIGNED = "assigned"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Frame:
    """One received frame: its number in the session, its bytes, when it arrived (s)."""

    seq: int
    data: bytes
    received: float


class VerifySession:
    """One connected client (see the module doc).

    Args:
        client: The signed-in client.
        enrolled: The descriptors of its subjects.
        frame_queue: Frames buffered before the oldest is dropped.
    """

    def __init__(self, client: VerifyClient, enrolled: EnrolledFaces, frame_queue: int) -> None:
        self.client = client
        self.enrolled = enrolled
        self.pending_enrolled: EnrolledFaces | None = None
        self.outbox: asyncio.Queue[Outbound] = asyncio.Queue()
        self.frames: deque[Frame] = deque(maxlen=frame_queue)
        self.state = SessionState.WAITING
        self.pipeline: int | None = None
        self.position: int | None = None
        self.seq = 0
        self.dropped = 0
        self.analyzer: FrameAnalyzer | None = None
        self.last_action = Action.ALLOW
        self.last_evidence = float("-inf")
        self.ended: Ending | None = None

    @property
    def client_id(self) -> str:
        """The client's id."""
        return self.client.id

    def send(self, message: Outbound) -> None:
        """Queue a message for the client, dropping the oldest when its queue is full."""
        if self.ended is not None:
            return
        while self.outbox.qsize() >= OUTBOX_SIZE:
            self.outbox.get_nowait()
        self.outbox.put_nowait(message)

    def end(self, ending: Ending, reason: str, message: VerifyOutcome | None = None) -> None:
        """Send ``message`` (if any), then ``VerifyClosed``: the connection closes."""
        if self.ended is not None:
            return
        if message is not None:
            self.send(message)
        self.ended = ending
        self.state = SessionState.CLOSED
        self.frames.clear()
        self.outbox.put_nowait(VerifyClosed(ending, reason))

    def push(self, data: bytes, received: float) -> Frame:
        """Queue a frame (dropping the oldest waiting one when the queue is full)."""
        self.seq += 1
        if len(self.frames) == self.frames.maxlen:
            self.dropped += 1
        frame = Frame(self.seq, data, received)
        self.frames.append(frame)
        return frame


Decided = Callable[[VerifySession, Frame, Analysis], Awaitable[None]]
"""The hub's callback after a frame is analysed."""


class Pipeline:
    """One analysis worker (see the module doc).

    Args:
        number: The pipeline's id in the shared capacity state.
        models: Builds this pipeline's models (called in its thread).
        decode: Decodes frames.
        policy: The decision chart's thresholds.
        phone: When a phone counts as aimed at the screen.
        decided: Called with each analysis.
        batch: Most frames analysed together (default: the models' ``tuning.batch``,
            1 until the models are loaded).
    """

    def __init__(
        self,
        number: int,
        *,
        models: Callable[[], VerificationModels],
        decode: ImageDecoder,
        policy: VerificationPolicy,
        phone: PhoneRules,
        decided: Decided,
        batch: int | None = None,
    ) -> None:
        self.number = number
        self.sessions: dict[str, VerifySession] = {}
        self.analysed = 0
        self._models_factory = models
        self._models: VerificationModels | None = None
        self._decode = decode
        self._policy = policy
        self._phone = phone
        self._decided = decided
        self._batch = batch
        self._turn = 0
        self._in_flight: set[str] = set()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"argus-verify-{number}")
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"argus-verify-pipeline-{number}")
        self._executor.submit(self._load)

    def attach(self, session: VerifySession) -> None:
        """Serve ``session`` from now on."""
        session.state, session.pipeline, session.position = SessionState.ASSIGNED, self.number, None
        self.sessions[session.client_id] = session
        self.wake()

    def detach(self, session: VerifySession) -> None:
        """Stop serving ``session`` (a newer session of the same client stays)."""
        if self.sessions.get(session.client_id) is session:
            del self.sessions[session.client_id]

    def wake(self) -> None:
        """Tell the worker that frames are waiting."""
        self._wake.set()

    async def stop(self) -> None:
        """End the worker and its thread (a frame being analysed finishes first)."""
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await asyncio.to_thread(self._executor.shutdown, wait=True)

    @property
    def policy(self) -> VerificationPolicy:
        """The decision chart's thresholds its analyzers use."""
        return self._policy

    @property
    def phone(self) -> PhoneRules:
        """When a phone counts as aimed at the screen."""
        return self._phone

    def reconfigure(self, policy: VerificationPolicy, phone: PhoneRules) -> None:
        """Decide by ``policy`` and ``phone`` from now on, in live and later analyzers.

        An analyzer whose frame is being analysed right now takes them before its
        next frame (in the pipeline's thread).
        """
        self._policy, self._phone = policy, phone
        for session in self.sessions.values():
            if session.analyzer is not None and session.client_id not in self._in_flight:
                session.analyzer.reconfigure(policy, phone)

    def _analyzer(self, session: VerifySession, models: VerificationModels) -> FrameAnalyzer:
        """The session's analyzer, made on its first frame and kept up to date."""
        if session.analyzer is None:
            session.analyzer = FrameAnalyzer(models, session.enrolled, self._policy, self._phone)
        analyzer = session.analyzer
        if analyzer.verifier.policy is not self._policy or analyzer.phone_rules is not self._phone:
            analyzer.reconfigure(self._policy, self._phone)
        if session.pending_enrolled is not None:
            analyzer.enrolled, session.pending_enrolled = session.pending_enrolled, None
        return analyzer

    def _load(self) -> None:
        """Build the models ahead of the first frame (a failure is retried on that frame)."""
        if self._models is None:
            try:
                self._models = self._models_factory()
            except Exception:  # the frame that needs them reports the error
                log.exception("pipeline %d could not load its models", self.number)

    def _analyze_batch(
        self, items: list[tuple[VerifySession, Frame]]
    ) -> list[Analysis | Exception]:
        """Decode and analyse one frame of each session together (in the pipeline's thread).

        A frame that cannot be decoded gets its own error; an error of the models
        is every frame's.
        """
        results: list[Analysis | Exception] = []
        if self._models is None:
            self._models = self._models_factory()
        models = self._models
        work: list[tuple[FrameAnalyzer, npt.NDArray[np.uint8], float]] = []
        where: list[int] = []
        decode: list[float] = []
        for session, frame in items:
            started = time.perf_counter()
            try:
                image = self._decode(frame.data)
            except Exception as exc:  # noqa: BLE001 (the frame's own error, reported to it)
                results.append(exc)
                continue
            decode.append(time.perf_counter() - started)
            where.append(len(results))
            results.append(ValidationError("not analysed"))
            work.append((self._analyzer(session, models), image, frame.received))
        try:
            analyses = analyze_many(work)
        except Exception as exc:  # noqa: BLE001 (every frame of the batch failed with it)
            return [exc if i in where else r for i, r in enumerate(results)]
        for i, seconds, analysis in zip(where, decode, analyses, strict=True):
            stages = {"decode": seconds, **analysis.stages}
            results[i] = dataclasses.replace(analysis, stages=stages)
        return results

    def _next_round(self) -> list[VerifySession]:
        """The sessions with a frame waiting, starting one further on each round."""
        ready = [s for s in self.sessions.values() if s.frames]
        if not ready:
            return []
        self._turn = (self._turn + 1) % len(ready)
        return ready[self._turn :] + ready[: self._turn]

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while ready := self._next_round():
                size = self._batch or (self._models.tuning.batch if self._models else 1)
                for start in range(0, len(ready), size):
                    items = [
                        (session, session.frames.popleft())
                        for session in ready[start : start + size]
                        if session.frames and self.sessions.get(session.client_id) is session
                    ]
                    if items:
                        await self._serve(loop, items)

    async def _serve(
        self, loop: asyncio.AbstractEventLoop, items: list[tuple[VerifySession, Frame]]
    ) -> None:
        """Analyse ``items`` in the thread, then act on each analysis in order."""
        self._in_flight = {session.client_id for session, _ in items}
        try:
            results = await loop.run_in_executor(self._executor, self._analyze_batch, items)
        except Exception as exc:  # noqa: BLE001 (the executor itself failed)
            results = [exc] * len(items)
        finally:
            self._in_flight = set()
        for (session, frame), result in zip(items, results, strict=True):
            if isinstance(result, ValidationError):
                session.send(VerifyError("bad_frame", f"frame {frame.seq}: {result}"))
                continue
            if isinstance(result, ArgusError):
                log.error("pipeline %d could not analyse a frame: %s", self.number, result)
                session.send(VerifyError("unavailable", f"frame {frame.seq}: {result}"))
                continue
            if isinstance(result, Exception):
                log.error("pipeline %d failed on a frame", self.number, exc_info=result)
                session.send(VerifyError("internal", f"frame {frame.seq} failed"))
                continue
            self.analysed += 1
            if self.sessions.get(session.client_id) is not session:
                continue
            try:
                await self._decided(session, frame, result)
            except Exception:  # the top of a worker loop: log it, keep serving
                log.exception("pipeline %d could not act on a decision", self.number)
