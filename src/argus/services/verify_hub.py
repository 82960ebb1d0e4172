"""The verify hub: admission through the shared capacity state, pipelines, decisions.

The capacity state (:class:`argus.domain.capacity.CapacityManager` as a dict,
plus a lease and an owner per admitted or waiting client) lives in a
``CapacityStore`` (the database, or Redis) and is changed by compare-and-set,
so several server processes share one set of limits. Pipeline ids there are
shared slots: each process runs a local worker (:class:`Pipeline`) for every
slot that holds one of its own clients.

Every ``tick_seconds`` the hub renews its clients' leases (every third of a
lease), releases clients whose lease ran out (a crashed process), scales idle
pipelines down, and tells its waiting clients when they were promoted or moved
up the queue. Every ``status_seconds`` it re-reads its clients from the
database, so a pause or block made through another process ends the session.

Per analysed frame the client gets a ``decision``. A non-allow decision that
starts an episode (the action changed), and one every
``evidence_repeat_seconds`` while the episode lasts, saves the frame as
encrypted evidence, a decision record and an audit record; a new episode also
counts as a violation of the client. A ``block`` decision blocks the client.

A session that ends gets a ``VerifyClosed`` with its ``Ending`` (refused:
paused, blocked, unknown, not enrolled; replaced by a newer connection of the
same client or the place expired; system full; server shutting down); the API
maps each to its close code (``argus.api.schemas.verify`` lists them).

``HubConfig``'s policy and phone rules are defaults: a stored policy
(:mod:`argus.services.workstation_policy`) is read before the first session and
every status interval and applied to live sessions. ``stats`` feeds ``/metrics``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from argus.domain.capacity import (
    Admission,
    Assigned,
    Queued,
    Rejected,
    Release,
)
from argus.domain.errors import ArgusError, NotFoundError
from argus.domain.faces import EnrolledFaces
from argus.domain.phone import PhoneRules
from argus.domain.verification import VerificationPolicy
from argus.domain.workstations import VerifyClient
from argus.ports.repositories import Database
from argus.ports.workstations import CapacityStore, ImageDecoder
from argus.services.background import TaskGroup
from argus.services.verification import VerificationModels
from argus.services.verify_capacity import CapacityView, SharedCapacity, SharedState
from argus.services.verify_decisions import DecisionFollowUp, DecisionRecorder
from argus.services.verify_hub_config import HubConfig
from argus.services.verify_outcomes import (
    Ending,
    VerifyAssigned,
    VerifyError,
    VerifyQueued,
    VerifyRejected,
)
from argus.services.verify_pipeline import Pipeline, SessionState, VerifySession
from argus.services.verify_stats import VerifyStats
from argus.services.workstation_policy import LivePolicy
from argus.services.workstations import WorkstationService

__all__ = ["CapacityView", "HubConfig", "VerifyHub"]

log = logging.getLogger(__name__)


class VerifyHub:
    """Sessions, pipelines and the shared capacity state (see the module doc).

    Args:
        registry: Clients and enrolled descriptors (and blocking).
        database: Where connected clients are marked seen.
        capacity: The shared capacity document.
        recorder: Stores what non-allow decisions leave behind.
        models: Builds one pipeline's models (in its thread).
        decode: Decodes frames.
        config: Limits, policy and timing.
        node_id: This server's id (in lease owners, for operators).
        wall: Seconds since the epoch (leases are shared between processes).
    """

    def __init__(
        self,
        registry: WorkstationService,
        database: Database,
        capacity: CapacityStore,
        *,
        recorder: DecisionRecorder,
        models: Callable[[], VerificationModels],
        decode: ImageDecoder,
        config: HubConfig | None = None,
        node_id: str = "argus",
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config = config if config is not None else HubConfig()
        self._registry = registry
        self._db = database
        self._shared = SharedCapacity(capacity, self.config.limits)
        self._sessions: dict[str, VerifySession] = {}
        self._pipelines: dict[int, Pipeline] = {}
        self.stats = VerifyStats(self._sessions.values, self._pipelines.__len__)
        self._follow_up = self.stats.counting(
            DecisionFollowUp(
                recorder, registry, evidence_repeat_seconds=self.config.evidence_repeat_seconds
            )
        )
        defaults = (self.config.policy, self.config.phone)
        self.policy = LivePolicy(database.settings, defaults, self.reconfigure)
        self._models = models
        self._decode = decode
        self._wall = wall
        self._token = f"{node_id}:{uuid.uuid4().hex[:12]}"
        self._tasks = TaskGroup()
        self._next_renew = 0.0
        self._next_status = 0.0
        self._stopped = False
        registry.subscribe(self.client_changed)

    # --- the shared state ----------------------------------------------------------------------

    async def view(self) -> CapacityView:
        """The shared capacity state now."""
        return await self._shared.view()

    def analysed(self) -> dict[int, int]:
        """Frames analysed by each of this process's pipelines."""
        return {n: p.analysed for n, p in sorted(self._pipelines.items())}

    def reconfigure(self, policy: VerificationPolicy, phone: PhoneRules) -> None:
        """Apply ``policy`` and ``phone`` to live sessions and to the sessions to come."""
        self.config = replace(self.config, policy=policy, phone=phone)
        for pipeline in self._pipelines.values():
            pipeline.reconfigure(policy, phone)

    # --- sessions ------------------------------------------------------------------------------

    async def join(self, client: VerifyClient, enrolled: EnrolledFaces) -> VerifySession:
        """Admit a signed-in client: assigned, queued, or rejected (the session then ends)."""
        await self.policy.read_once()
        session = VerifySession(client, enrolled, self.config.frame_queue)
        earlier = self._sessions.pop(client.id, None)
        if earlier is not None:
            self._forget(earlier)
            earlier.end(
                Ending.REPLACED,
                "replaced",
                VerifyError("replaced", "a newer connection of this client took over"),
            )
        now = self._wall()

        def admit(shared: SharedState) -> tuple[Admission, bool]:
            result = shared.manager.admit(client.id)
            if not isinstance(result, Rejected):
                shared.owners[client.id] = self._token
                shared.leases[client.id] = now + self.config.lease_seconds
            return result, not isinstance(result, Rejected)

        admission = await self._shared.change(admit)
        if isinstance(admission, Rejected):
            session.end(Ending.FULL, admission.reason, VerifyRejected(admission.reason))
            return session
        self._sessions[client.id] = session
        if isinstance(admission, Assigned):
            self._assign(session, admission.pipeline)
        else:
            self._queue(session, admission.position)
        return session

    def _assign(self, session: VerifySession, number: int) -> None:
        pipeline = self._pipelines.get(number)
        if pipeline is None:
            pipeline = Pipeline(
                number,
                models=self._models,
                decode=self._decode,
                policy=self.config.policy,
                phone=self.config.phone,
                decided=self._follow_up,
            )
            self._pipelines[number] = pipeline
        pipeline.attach(session)
        session.send(VerifyAssigned(number))

    def _queue(self, session: VerifySession, position: int) -> None:
        if session.position != position:
            session.position = position
            session.send(VerifyQueued(position))

    def _forget(self, session: VerifySession) -> None:
        """Drop a session locally (its place in the shared state is left alone)."""
        if session.pipeline is not None and session.pipeline in self._pipelines:
            self._pipelines[session.pipeline].detach(session)

    async def leave(self, session: VerifySession) -> None:
        """The client disconnected: free its place and promote whoever waits."""
        session.state = SessionState.CLOSED
        self._forget(session)
        if self._sessions.get(session.client_id) is not session:
            return  # replaced by a newer connection, which keeps the place
        del self._sessions[session.client_id]
        if self._stopped:
            return
        client_id, now = session.client_id, self._wall()

        def release(shared: SharedState) -> tuple[Release | None, bool]:
            released = shared.give_back(client_id, self._token, now)
            return released, released is not None  # None: taken over by another server

        try:
            released = await self._shared.change(release)
        except ArgusError:
            log.exception("could not release client %s; its lease will expire", client_id)
            return
        if released is not None:
            self._apply(released)

    def _apply(self, released: Release) -> None:
        for client_id, number in released.promoted:
            session = self._sessions.get(client_id)
            if session is not None and session.state is SessionState.WAITING:
                self._assign(session, number)
        for client_id, position in released.positions.items():
            session = self._sessions.get(client_id)
            if session is not None and session.state is SessionState.WAITING:
                self._queue(session, position)

    def offer(self, session: VerifySession, data: bytes) -> VerifyError | None:
        """Take a frame from the client; the error to answer with, or ``None``."""
        limit = self.config.max_frame_bytes
        if len(data) > limit:
            return VerifyError("too_large", f"a frame of {len(data)} bytes is over {limit}")
        if session.state is SessionState.WAITING:
            return VerifyError(
                "not_assigned",
                f"waiting at position {session.position}: frames are analysed once a "
                "pipeline is assigned",
            )
        if session.state is not SessionState.ASSIGNED or session.pipeline is None:
            return VerifyError("closed", "this session has ended")
        before = session.dropped
        session.push(data, time.monotonic())
        self.stats.dropped(session.dropped - before)
        self._pipelines[session.pipeline].wake()
        return None

    async def client_changed(self, client_id: str) -> None:
        """A client's status or enrolment changed: end or refresh its live session."""
        session = self._sessions.get(client_id)
        if session is None or session.state is SessionState.CLOSED:
            return
        await self._refresh(session, reload=True)

    async def _refresh(self, session: VerifySession, *, reload: bool) -> None:
        """Re-read the client; end the session if it may no longer run, else take its
        subjects' descriptors afresh when they may have changed (``reload``)."""
        try:
            client = await self._registry.get_client(session.client_id)
        except NotFoundError:
            self._refuse(session, "unknown client")
            return
        if client.status != "active":
            self._refuse(session, client.status)
            return
        if reload or client.subjects != session.client.subjects:
            enrolled = await self._registry.enrolled_faces(client)
            if enrolled is None:
                self._refuse(session, "not enrolled")
                return
            session.client, session.enrolled, session.pending_enrolled = client, enrolled, enrolled

    def _refuse(self, session: VerifySession, reason: str) -> None:
        session.end(Ending.REFUSED, reason, VerifyRejected(reason))

    # --- maintenance ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the maintenance loop."""
        self._tasks.start(("argus-verify-hub", self._maintain))

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_seconds)
            try:
                await self.tick()
            except Exception:  # the top of a task loop: log and carry on
                log.exception("the verify hub's maintenance failed")

    async def tick(self) -> None:
        """Renew leases, expire dead clients, scale down, update waiting clients."""
        now = self._wall()
        renew = now >= self._next_renew
        mine = [s.client_id for s in self._sessions.values() if s.state is not SessionState.CLOSED]

        def change(shared: SharedState) -> tuple[tuple[SharedState, list[Release]], bool]:
            released = []
            for client_id in [c for c, t in shared.leases.items() if t < now]:
                shared.leases.pop(client_id)
                shared.owners.pop(client_id, None)
                released.append(shared.manager.release(client_id, now))
            if renew:
                for client_id in mine:
                    if shared.owners.get(client_id) == self._token:
                        shared.leases[client_id] = now + self.config.lease_seconds
            gone = shared.manager.scale_down(now)
            return (shared, released), bool(released or gone or (renew and mine))

        shared, released = await self._shared.change(change)
        self.stats.queue_depth = len(shared.manager.queue())
        if renew:
            self._next_renew = now + self.config.lease_seconds / 3
        for release in released:
            self._apply(release)
        self._sync(shared)
        await self._stop_idle(shared)
        if now >= self._next_status:
            self._next_status = now + self.config.status_seconds
            await self._check_clients()
            await self.policy.reload()
            await self.stats.count_registered(self._db.verify_clients)

    def _sync(self, shared: SharedState) -> None:
        for session in list(self._sessions.values()):
            if shared.owners.get(session.client_id) != self._token:
                self._sessions.pop(session.client_id)
                self._forget(session)
                session.end(
                    Ending.REPLACED,
                    "replaced",
                    VerifyError("replaced", "this client's place was taken over or expired"),
                )
                continue
            if session.state is not SessionState.WAITING:
                continue
            place = shared.manager.status(session.client_id)
            if isinstance(place, Assigned):
                self._assign(session, place.pipeline)
            elif isinstance(place, Queued):
                self._queue(session, place.position)

    async def _stop_idle(self, shared: SharedState) -> None:
        running = shared.manager.pipelines()
        for number, pipeline in list(self._pipelines.items()):
            if not pipeline.sessions and number not in running:
                del self._pipelines[number]
                await pipeline.stop()

    async def _check_clients(self) -> None:
        now = datetime.now(UTC)
        for session in list(self._sessions.values()):
            if session.state is SessionState.CLOSED:
                continue
            try:
                await self._refresh(session, reload=False)
                if session.ended is None:
                    await self._db.verify_clients.touch(session.client_id, now)
            except ArgusError:
                log.exception("could not re-read client %s", session.client_id)

    async def stop(self) -> None:
        """End every session (1012), give their places back, stop the pipelines."""
        self._stopped = True
        await self._tasks.stop()
        sessions = list(self._sessions.values())
        self._sessions.clear()
        for session in sessions:
            session.end(Ending.SHUTDOWN, "server shutting down")
        ids = {s.client_id for s in sessions}
        now = self._wall()

        def release(shared: SharedState) -> tuple[None, bool]:
            given = [c for c in ids if shared.give_back(c, self._token, now) is not None]
            return None, bool(given)

        if ids:
            try:
                await self._shared.change(release)
            except ArgusError:
                log.exception("could not give the clients' places back; their leases will expire")
        for pipeline in list(self._pipelines.values()):
            await pipeline.stop()
        self._pipelines.clear()
