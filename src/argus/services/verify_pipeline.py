"""Verify sessions and pipelines: one worker thread analysing the frames of its clients.

A :class:`VerifySession` is one connected client: its outgoing messages (a
bounded queue the WebSocket writer drains; the oldest is dropped when a client
reads too slowly), its incoming frames (a bounded queue that drops the *oldest*
frame when the client sends faster than it is analysed: the newest frame is
what matters for security), and, once a pipeline serves it, its
:class:`FrameAnalyzer`.

A :class:`Pipeline` owns one single-thread executor and its own models (built
in that thread on the first frame: an idle server loads none). Its task takes
one frame per client in turn (round robin, so a fast sender cannot starve the
others), decodes and analyses it in the thread, and hands the analysis to the
hub's callback on the event loop. Workers never hold sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum

from argus.domain.errors import ArgusError, ValidationError
from argus.domain.faces import EnrolledFaces
from argus.domain.phone import PhoneRules
from argus.domain.verification import Action, VerificationPolicy
from argus.domain.workstations import VerifyClient
from argus.ports.workstations import ImageDecoder
from argus.services.replies import Reply
from argus.services.verification import Analysis, FrameAnalyzer, VerificationModels
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
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"argus-verify-{number}")
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"argus-verify-pipeline-{number}")

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

    def _analyze(self, session: VerifySession, frame: Frame) -> Analysis:
        """Decode and analyse one frame (in the pipeline's thread)."""
        image = self._decode(frame.data)
        if self._models is None:
            self._models = self._models_factory()
        if session.analyzer is None:
            session.analyzer = FrameAnalyzer(
                self._models, session.enrolled, self._policy, self._phone
            )
        if session.pending_enrolled is not None:
            session.analyzer.enrolled, session.pending_enrolled = session.pending_enrolled, None
        return session.analyzer.analyze(image, frame.received)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while ready := [s for s in self.sessions.values() if s.frames]:
                for session in ready:
                    if not session.frames or self.sessions.get(session.client_id) is not session:
                        continue
                    frame = session.frames.popleft()
                    try:
                        analysis = await loop.run_in_executor(
                            self._executor, self._analyze, session, frame
                        )
                    except ValidationError as exc:
                        session.send(VerifyError("bad_frame", f"frame {frame.seq}: {exc}"))
                        continue
                    except ArgusError as exc:
                        log.error("pipeline %d could not analyse a frame: %s", self.number, exc)
                        session.send(VerifyError("unavailable", f"frame {frame.seq}: {exc}"))
                        continue
                    except Exception:  # the top of a worker loop: log it, keep serving
                        log.exception("pipeline %d failed on a frame", self.number)
                        session.send(VerifyError("internal", f"frame {frame.seq} failed"))
                        continue
                    self.analysed += 1
                    if self.sessions.get(session.client_id) is not session:
                        continue
                    try:
                        await self._decided(session, frame, analysis)
                    except Exception:  # the top of a worker loop: log it, keep serving
                        log.exception("pipeline %d could not act on a decision", self.number)
