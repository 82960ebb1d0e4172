"""The live hub behind ``/ws``: channels, per-client queues, and the feeds that fill them.

Channels:

* ``alerts``: ``alert.created``, ``alert.updated``, ``alert.escalated`` and
  ``alert_group.updated`` (payload: the group), fed by a bus **fan-out**
  subscription, so every client of every server sees every alert (whichever
  server raised or changed it);
* ``supervisor``: ``alert.escalated`` only (the escalation channel);
* ``camera.{id}.tracks``: the camera's tracked objects after every analysed
  frame, and ``camera.{id}.counts``: its line and zone counts whenever they
  change, both from the local pipeline supervisor (only the server running a
  camera's pipeline has them);
* ``system``: ``camera.status`` when a local pipeline's state changes.

Every client is a signed-in principal: subscribing needs ``view``, a camera
channel needs the camera in the principal's scope, and a camera-scoped client
receives only messages of its cameras on the shared channels.

The hub queues typed updates (``TracksUpdate``, ``CountsUpdate``,
``StatusUpdate``, ``AlertUpdate``); the API turns each into its wire message
(``argus.api.schemas.live_out``). Each client has a bounded queue, which also
carries the API's replies to the client's own requests, in order; a client too
slow to drain it loses its oldest messages (counted in ``dropped``) rather than
slowing the feeds or other clients. Workers never hold sockets: the hub only
queues messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeGuard

from argus.domain.errors import ValidationError
from argus.domain.identity import Principal
from argus.domain.live import Counts, LiveFrame
from argus.ports.bus import EventBus, Subscription
from argus.ports.pipelines import CameraStatus, PipelineSupervisor
from argus.services.alerts import ALERTS_SUBJECT
from argus.services.background import TaskGroup
from argus.services.consumers import ConsumerState, consume_resubscribing
from argus.services.replies import Reply

__all__ = [
    "CHANNEL_PATTERN",
    "AlertEventType",
    "AlertUpdate",
    "Client",
    "CountsUpdate",
    "LiveHub",
    "LiveUpdate",
    "Outbound",
    "Reply",
    "StatusUpdate",
    "TracksUpdate",
    "check_channel",
]

log = logging.getLogger(__name__)

CHANNEL_PATTERN = re.compile(
    r"^(alerts|supervisor|system|camera\.[A-Za-z0-9_-]{1,64}\.(tracks|counts))$"
)
"""Every channel a client may subscribe to."""

QUEUE_SIZE = 256
"""Messages queued per client before the oldest are dropped."""

AlertEventType = Literal[
    "alert.created", "alert.updated", "alert.escalated", "alert.evidence", "alert_group.updated"
]
_ALERT_TYPES: frozenset[str] = frozenset(
    {"alert.created", "alert.updated", "alert.escalated", "alert.evidence", "alert_group.updated"}
)


def check_channel(name: str) -> str:
    """Return ``name`` if it is a channel (``ValidationError`` otherwise)."""
    if not CHANNEL_PATTERN.fullmatch(name):
        raise ValidationError(
            f"unknown channel {name!r}: use alerts, supervisor, system, "
            "camera.{id}.tracks or camera.{id}.counts"
        )
    return name


@dataclass(frozen=True, slots=True)
class TracksUpdate:
    """A camera's tracks after one analysed frame (channel ``camera.{id}.tracks``).

    Attributes:
        channel: The channel.
        frame: The camera's live frame.
    """

    channel: str
    frame: LiveFrame

    @property
    def camera_id(self) -> str | None:
        """The camera the update is about."""
        return self.frame.camera_id


@dataclass(frozen=True, slots=True)
class CountsUpdate:
    """A camera's line and zone counts, sent when they change (``camera.{id}.counts``).

    Attributes:
        channel: The channel.
        camera_id: The camera.
        timestamp: Stream seconds of the frame that changed them.
        counts: The counts.
        since: When the counts started (the pipeline run's start, UTC), or ``None``.
    """

    channel: str
    camera_id: str
    timestamp: float
    counts: Counts
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A local pipeline's status (channel ``system``).

    Attributes:
        status: The status.
    """

    status: CameraStatus

    @property
    def camera_id(self) -> str | None:
        """The camera the update is about."""
        return self.status.camera_id


@dataclass(frozen=True, slots=True)
class AlertUpdate:
    """An alert change from the bus fan-out (channels ``alerts`` and ``supervisor``).

    Attributes:
        type: The alert event's type.
        channel: The channel.
        alert: The event's payload: the alert as the REST API returns it.
    """

    type: AlertEventType
    channel: str
    alert: Mapping[str, object]

    @property
    def camera_id(self) -> str | None:
        """The camera the alert is about, if it says."""
        camera_id = self.alert.get("camera_id")
        return None if camera_id is None else str(camera_id)


LiveUpdate = TracksUpdate | CountsUpdate | StatusUpdate | AlertUpdate
"""Everything the hub's feeds queue to clients."""


Outbound = LiveUpdate | Reply
"""What a client's queue holds: channel updates and replies, in the order they came."""


@dataclass(eq=False, slots=True)
class Client:
    """One connected client: who it is, its channels and its outgoing queue."""

    principal: Principal | None = None
    channels: set[str] = field(default_factory=set)
    queue: asyncio.Queue[Outbound] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )
    dropped: int = 0

    def may_see(self, update: LiveUpdate) -> bool:
        """False for an update of a camera outside the client's scope."""
        if self.principal is None or self.principal.cameras is None:
            return True
        camera_id = update.camera_id
        return camera_id is None or self.principal.sees_camera(camera_id)

    def offer(self, message: Outbound) -> None:
        """Queue ``message``, dropping the oldest queued one when full."""
        while True:
            try:
                self.queue.put_nowait(message)
                return
            except asyncio.QueueFull:
                with contextlib.suppress(asyncio.QueueEmpty):
                    self.queue.get_nowait()
                    self.dropped += 1


class LiveHub:
    """Routes live updates to the clients subscribed to their channel.

    Args:
        bus: The bus whose alert fan-out feeds the ``alerts`` channels.
        pipelines: The local pipelines (tracks, counts, statuses).
        status_interval: Seconds between checks of the pipelines' states.
    """

    def __init__(
        self, bus: EventBus, pipelines: PipelineSupervisor, *, status_interval: float = 1.0
    ) -> None:
        self._bus = bus
        self._pipelines = pipelines
        self._status_interval = status_interval
        self._clients: set[Client] = set()
        self._camera_feeds: dict[str, Callable[[], None]] = {}
        self._last_counts: dict[str, CountsUpdate] = {}
        self._tasks = TaskGroup()
        self.alert_feed = ConsumerState()
        self.delivered = 0
        """Updates queued to clients."""

    @property
    def clients(self) -> int:
        """Connected clients."""
        return len(self._clients)

    def start(self) -> None:
        """Start the alert and status feeds (once)."""
        self._tasks.start(
            ("argus-live-alerts", self._alert_feed),
            ("argus-live-status", self._status_feed),
        )

    async def stop(self) -> None:
        """Stop the feeds and forget every client."""
        await self._tasks.stop()
        for cancel in self._camera_feeds.values():
            cancel()
        self._camera_feeds.clear()
        self._clients.clear()

    # --- clients ----------------------------------------------------------------------------

    def connect(self, principal: Principal | None = None) -> Client:
        """Register a new client with no channels."""
        client = Client(principal=principal)
        self._clients.add(client)
        return client

    def disconnect(self, client: Client) -> None:
        """Forget a client and stop camera feeds nobody watches any more."""
        self._clients.discard(client)
        self._sync_camera_feeds()

    def subscribe(self, client: Client, channels: Iterable[str]) -> list[str]:
        """Add channels to a client; all its channels.

        Raises:
            ValidationError: An unknown channel.
            PermissionDeniedError: The client may not view, or a camera channel
                is outside its scope.
        """
        names = [check_channel(name) for name in channels]
        if client.principal is not None:
            client.principal.require("view")
            for name in names:
                if name.startswith("camera."):
                    client.principal.require_camera(name.split(".")[1])
        client.channels.update(names)
        self._sync_camera_feeds()
        for name in names:  # the current counts at once, not only on the next change
            if name.endswith(".counts"):
                counts = self._last_counts.get(name)
                if counts is not None and client.may_see(counts):
                    client.offer(counts)
        return sorted(client.channels)

    def unsubscribe(self, client: Client, channels: Iterable[str]) -> list[str]:
        """Remove channels from a client; all its remaining channels."""
        client.channels.difference_update(channels)
        self._sync_camera_feeds()
        return sorted(client.channels)

    def publish(self, channel: str, update: LiveUpdate) -> None:
        """Queue ``update`` to every client subscribed to ``channel``."""
        for client in self._clients:
            if channel in client.channels and client.may_see(update):
                client.offer(update)
                self.delivered += 1

    # --- feeds ------------------------------------------------------------------------------

    def _sync_camera_feeds(self) -> None:
        """Subscribe to the live frames of cameras some client watches, and only those."""
        wanted = {
            name.split(".")[1]
            for client in self._clients
            for name in client.channels
            if name.startswith("camera.")
        }
        for camera_id in set(self._camera_feeds) - wanted:
            self._camera_feeds.pop(camera_id)()
        for camera_id in wanted - set(self._camera_feeds):
            self._camera_feeds[camera_id] = self._pipelines.subscribe_live(
                camera_id, self._frame_handler(camera_id)
            )

    def _frame_handler(self, camera_id: str) -> Callable[[LiveFrame], None]:
        tracks_channel = f"camera.{camera_id}.tracks"
        counts_channel = f"camera.{camera_id}.counts"

        def on_frame(frame: LiveFrame) -> None:
            self.publish(tracks_channel, TracksUpdate(tracks_channel, frame))
            previous = self._last_counts.get(counts_channel)
            # A restart resets the counts and moves ``since``: send it even when both are empty.
            if previous is None or (previous.counts, previous.since) != (frame.counts, frame.since):
                update = CountsUpdate(
                    counts_channel, camera_id, frame.timestamp, frame.counts, frame.since
                )
                self._last_counts[counts_channel] = update
                self.publish(counts_channel, update)

        return on_frame

    async def _alert_feed(self) -> None:
        await consume_resubscribing(
            lambda: self._bus.fan_out(ALERTS_SUBJECT),
            self._forward_alerts,
            self.alert_feed,
            what="live alert feed",
        )

    async def _forward_alerts(self, subscription: Subscription) -> None:
        async for delivery in subscription:
            envelope = delivery.envelope
            kind = envelope.type
            if not _is_alert_type(kind):
                continue
            alert = dict(envelope.payload)
            self.publish("alerts", AlertUpdate(kind, "alerts", alert))
            if kind == "alert.escalated":
                self.publish("supervisor", AlertUpdate(kind, "supervisor", alert))

    async def _status_feed(self) -> None:
        states: dict[str, tuple[str, str | None, bool]] = {}
        while True:
            try:
                current = {s.camera_id: s for s in self._pipelines.statuses()}
                for camera_id, status in current.items():
                    # Saturation too (not the grant itself, which moves with every measure).
                    key = (status.state, status.last_error, status.saturated)
                    if states.get(camera_id) != key:
                        states[camera_id] = key
                        self.publish("system", StatusUpdate(status))
                for camera_id in set(states) - set(current):
                    del states[camera_id]
            except Exception:  # top of a task loop: log and try again next tick
                log.exception("live status feed failed")
            await asyncio.sleep(self._status_interval)

    def statuses(self, principal: Principal | None = None) -> list[CameraStatus]:
        """Every local pipeline's status (of the principal's cameras)."""
        return [
            s
            for s in self._pipelines.statuses()
            if principal is None or principal.sees_camera(s.camera_id)
        ]


def _is_alert_type(kind: str) -> TypeGuard[AlertEventType]:
    return kind in _ALERT_TYPES
