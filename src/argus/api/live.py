"""The live hub behind ``/ws``: channels, per-client queues, and the feeds that fill them.

Channels:

* ``alerts``: ``alert.created``, ``alert.updated`` and ``alert.escalated``, fed
  by a bus **fan-out** subscription, so every client of every server sees every
  alert (whichever server raised or changed it);
* ``supervisor``: ``alert.escalated`` only (the escalation channel);
* ``camera.{id}.tracks``: the camera's tracked objects after every analysed
  frame, and ``camera.{id}.counts``: its line and zone counts whenever they
  change, both from the local pipeline supervisor (only the server running a
  camera's pipeline has them);
* ``system``: ``camera.status`` when a local pipeline's state changes.

Every client is a signed-in principal: subscribing needs ``view``, a camera
channel needs the camera in the principal's scope, and a camera-scoped client
receives only messages of its cameras on the shared channels.

Each client has a bounded queue; a client too slow to drain it loses its
oldest messages (counted in ``dropped``) rather than slowing the feeds or
other clients. Workers never hold sockets: the hub only queues messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from argus.domain.errors import ValidationError
from argus.domain.identity import Principal
from argus.ports.bus import EventBus, Subscription
from argus.ports.pipelines import CameraStatus, PipelineSupervisor
from argus.services.alerts import ALERTS_SUBJECT
from argus.services.consumers import ConsumerState, consume_resubscribing

__all__ = ["CHANNEL_PATTERN", "Client", "LiveHub", "check_channel"]

log = logging.getLogger(__name__)

CHANNEL_PATTERN = re.compile(
    r"^(alerts|supervisor|system|camera\.[A-Za-z0-9_-]{1,64}\.(tracks|counts))$"
)
"""Every channel a client may subscribe to."""

QUEUE_SIZE = 256
"""Messages queued per client before the oldest are dropped."""

_ALERT_TYPES = frozenset({"alert.created", "alert.updated", "alert.escalated", "alert.evidence"})


def check_channel(name: str) -> str:
    """Return ``name`` if it is a channel (``ValidationError`` otherwise)."""
    if not CHANNEL_PATTERN.fullmatch(name):
        raise ValidationError(
            f"unknown channel {name!r}: use alerts, supervisor, system, "
            "camera.{id}.tracks or camera.{id}.counts"
        )
    return name


@dataclass(eq=False, slots=True)
class Client:
    """One connected client: who it is, its channels and its outgoing queue."""

    principal: Principal | None = None
    channels: set[str] = field(default_factory=set)
    queue: asyncio.Queue[dict[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )
    dropped: int = 0

    def may_see(self, message: Mapping[str, Any]) -> bool:
        """False for a message of a camera outside the client's scope."""
        if self.principal is None or self.principal.cameras is None:
            return True
        camera_id = message.get("camera_id")
        alert = message.get("alert")
        if camera_id is None and isinstance(alert, Mapping):
            camera_id = alert.get("camera_id")
        return camera_id is None or self.principal.sees_camera(str(camera_id))

    def offer(self, message: dict[str, Any]) -> None:
        """Queue ``message``, dropping the oldest queued one when full."""
        while True:
            try:
                self.queue.put_nowait(message)
                return
            except asyncio.QueueFull:
                with contextlib.suppress(asyncio.QueueEmpty):
                    self.queue.get_nowait()
                    self.dropped += 1


def _status_message(status: CameraStatus) -> dict[str, Any]:
    return {
        "type": "camera.status",
        "channel": "system",
        "camera_id": status.camera_id,
        "state": status.state,
        "last_error": status.last_error,
        "fps_in": round(status.fps_in, 2),
        "fps_decoded": round(status.fps_decoded, 2),
        "fps_detected": round(status.fps_detected, 2),
        "updated_at": status.updated_at.isoformat(),
    }


class LiveHub:
    """Routes live messages to the clients subscribed to their channel.

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
        self._last_counts: dict[str, Any] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.alert_feed = ConsumerState()
        self.delivered = 0
        """Messages queued to clients."""

    @property
    def clients(self) -> int:
        """Connected clients."""
        return len(self._clients)

    def start(self) -> None:
        """Start the alert and status feeds (once)."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._alert_feed(), name="argus-live-alerts"),
                asyncio.create_task(self._status_feed(), name="argus-live-status"),
            ]

    async def stop(self) -> None:
        """Stop the feeds and forget every client."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
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

    def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Queue ``message`` to every client subscribed to ``channel``."""
        for client in self._clients:
            if channel in client.channels and client.may_see(message):
                client.offer(message)
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

    def _frame_handler(self, camera_id: str) -> Callable[[Mapping[str, object]], None]:
        tracks_channel = f"camera.{camera_id}.tracks"
        counts_channel = f"camera.{camera_id}.counts"

        def on_frame(frame: Mapping[str, object]) -> None:
            self.publish(
                tracks_channel,
                {
                    "type": "tracks",
                    "channel": tracks_channel,
                    "camera_id": camera_id,
                    "frame_index": frame.get("frame_index"),
                    "timestamp": frame.get("timestamp"),
                    "width": frame.get("width"),
                    "height": frame.get("height"),
                    "tracks": frame.get("tracks", []),
                },
            )
            counts = frame.get("counts", {})
            previous = self._last_counts.get(counts_channel)
            if previous is None or previous["counts"] != counts:
                message = {
                    "type": "counts",
                    "channel": counts_channel,
                    "camera_id": camera_id,
                    "timestamp": frame.get("timestamp"),
                    "counts": counts,
                }
                self._last_counts[counts_channel] = message
                self.publish(counts_channel, message)

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
            if envelope.type not in _ALERT_TYPES:
                continue
            alert = dict(envelope.payload)
            self.publish("alerts", {"type": envelope.type, "channel": "alerts", "alert": alert})
            if envelope.type == "alert.escalated":
                self.publish(
                    "supervisor", {"type": envelope.type, "channel": "supervisor", "alert": alert}
                )

    async def _status_feed(self) -> None:
        states: dict[str, tuple[str, str | None]] = {}
        while True:
            try:
                current = {s.camera_id: s for s in self._pipelines.statuses()}
                for camera_id, status in current.items():
                    key = (status.state, status.last_error)
                    if states.get(camera_id) != key:
                        states[camera_id] = key
                        self.publish("system", _status_message(status))
                for camera_id in set(states) - set(current):
                    del states[camera_id]
            except Exception:  # top of a task loop: log and try again next tick
                log.exception("live status feed failed")
            await asyncio.sleep(self._status_interval)

    def statuses(self, principal: Principal | None = None) -> list[dict[str, Any]]:
        """Every local pipeline's status (of the principal's cameras) as ``camera.status``."""
        return [
            _status_message(s)
            for s in self._pipelines.statuses()
            if principal is None or principal.sees_camera(s.camera_id)
        ]
