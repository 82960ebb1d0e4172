"""Ended sessions, announced to every server so open sockets and streams re-check at once.

HTTP requests need no announcement: every request reads the revocation set
in the database (``AuthService.authenticate``). A ``/ws`` connection or an
MJPEG stream authenticated once, when it opened, so it re-checks its
credential periodically, and also as soon as a session of its principal ends
anywhere: ``AuthService`` calls ``announce``, which wakes this server's
watchers at once and publishes the end on the bus subject ``SESSIONS_SUBJECT``
for the other servers (a fan-out, so with NATS or Redis every server hears
it; with the in-process bus only this one, and the periodic re-check covers
the others).

The announcement only says *whose* session ended; each watcher then asks the
database whether its own credential still holds, so a lost or forged
announcement can at worst cause one extra check, never keep a session alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from argus.domain.events import Envelope, EventSource, new_event_id
from argus.ports.bus import EventBus, Subscription
from argus.services.background import TaskGroup
from argus.services.consumers import ConsumerState, consume_resubscribing

__all__ = ["SESSIONS_SUBJECT", "SessionWatch"]

log = logging.getLogger(__name__)

SESSIONS_SUBJECT = "auth.sessions"
"""The bus subject of ended sessions (fan-out only)."""
_TYPE = "session.revoked"
_SOURCE = "auth"
"""The envelope's camera field: ended sessions belong to no camera."""


class SessionWatch:
    """Wakes the sockets and streams of a principal whose session ended.

    Args:
        bus: Carries the announcements to the other servers.
        node_id: This server, as the announcement's source.
    """

    def __init__(self, bus: EventBus, node_id: str) -> None:
        self._bus = bus
        self._node_id = node_id
        self._watchers: dict[str, set[asyncio.Event]] = {}
        self._tasks = TaskGroup()
        self.feed = ConsumerState()
        self.announced = 0
        """Announcements heard (from this server or another)."""

    def start(self) -> None:
        """Start hearing the other servers' announcements (once)."""
        self._tasks.start(("argus-session-watch", self._listen))

    async def stop(self) -> None:
        """Stop hearing announcements."""
        await self._tasks.stop()

    @contextlib.contextmanager
    def watching(self, principal_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever a session of ``principal_id`` ends, while the block runs.

        Clear it before re-checking, so an end announced during the check is not missed.
        """
        signal = asyncio.Event()
        self._watchers.setdefault(principal_id, set()).add(signal)
        try:
            yield signal
        finally:
            watchers = self._watchers.get(principal_id)
            if watchers is not None:
                watchers.discard(signal)
                if not watchers:
                    del self._watchers[principal_id]

    def wake(self, principal_id: str) -> None:
        """Set the events of every watcher of ``principal_id`` on this server."""
        self.announced += 1
        for signal in self._watchers.get(principal_id, ()):
            signal.set()

    async def announce(self, principal_id: str, session_id: str | None) -> None:
        """Wake this server's watchers of ``principal_id`` and tell the other servers.

        Raises:
            BusError: The bus refused the announcement (local watchers were woken).
        """
        self.wake(principal_id)
        envelope = Envelope(
            event_id=new_event_id(),
            type=_TYPE,
            timestamp=datetime.now(UTC),
            source=EventSource(self._node_id, _SOURCE),
            payload={"principal_id": principal_id, "session_id": session_id},
        )
        await self._bus.publish(SESSIONS_SUBJECT, envelope)

    async def _listen(self) -> None:
        await consume_resubscribing(
            lambda: self._bus.fan_out(SESSIONS_SUBJECT),
            self._forward,
            self.feed,
            what="session revocation feed",
        )

    async def _forward(self, subscription: Subscription) -> None:
        async for delivery in subscription:
            envelope = delivery.envelope
            principal_id = envelope.payload.get("principal_id")
            if envelope.type == _TYPE and isinstance(principal_id, str):
                self.wake(principal_id)
