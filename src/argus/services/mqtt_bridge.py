"""``MqttBridge``: mirrors counts, occupancy, alert, camera and node state onto MQTT topics.

Home Assistant (and anything else speaking MQTT) reads Argus from retained
topics (``domain.notify.mqtt_topics``) whose values ``MqttState`` folds from:

* the **event subject** by fan-out (every server sees every event):
  ``line.crossed`` → line counts, ``zone.entered``/``zone.exited`` → zone
  occupancy, ``camera.online``/``camera.offline`` (cameras on edge nodes) and
  ``node.online``/``node.offline`` → camera and node state;
* the **alerts subject** by fan-out: ``alert.created``/``updated``/``escalated``
  → a camera's alert ``on``/``off`` with the latest open alert as attributes,
  and each new alert on ``<prefix>/alerts`` (not retained);
* the **local pipelines' statuses**, polled like the live hub does;
* the **store**, at start (today's counts, open alerts, cameras with their lines
  and zones, edge nodes) and every ``rescan_s`` (new cameras, lines, zones and
  nodes are announced; deleted cameras' topics and entities removed).

With discovery on, each camera and node is announced to Home Assistant
(``domain.notify.ha_discovery``), again whenever Home Assistant says it came
online (its birth message on ``<discovery_prefix>/status``).

Publishing never blocks the feeds: a change marks its topic pending with the
latest value, and one publisher task sends pending topics while the link is
up, so a burst of crossings coalesces into the latest count and a dead broker
only leaves topics pending. After every (re)connection every retained value
and discovery config is sent again: a broker restarted without persistence
gets its state back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, time, timedelta, tzinfo

from argus.domain.alerts.lifecycle import OPEN_ALERT_STATES
from argus.domain.errors import ArgusError
from argus.domain.events import Envelope
from argus.domain.notify.ha_discovery import DiscoveryConfig, camera_entities, node_entities
from argus.domain.notify.mqtt_state import MqttState, Publish
from argus.domain.notify.mqtt_topics import MqttTopics
from argus.ports.alerts import AlertFilter
from argus.ports.bus import EventBus, Subscription
from argus.ports.mqtt import MqttLink
from argus.ports.paging import all_pages
from argus.ports.pipelines import CameraStatus
from argus.ports.repositories import Database, EventFilter
from argus.services.alerts import ALERTS_SUBJECT
from argus.services.background import TaskGroup
from argus.services.consumers import ConsumerState, consume_resubscribing

__all__ = ["MqttBridge"]

log = logging.getLogger(__name__)

_ALERT_TYPES = frozenset({"alert.created", "alert.updated", "alert.escalated"})
_TRANSIENT_MAX = 1000
"""Non-retained messages (new alerts) kept while the broker is away; the oldest go first."""


class MqttBridge:
    """Publishes Argus's live state on MQTT, with Home Assistant discovery.

    Args:
        bus: The event bus (fan-out of the event and alerts subjects).
        events_subject: The subject pipelines publish events on.
        database: The store (seeding and rescans).
        statuses: The local pipelines' statuses (``PipelineSupervisor.statuses``).
        link: The broker connection.
        topics: The state topics.
        discovery_prefix: Home Assistant's discovery prefix; ``None`` = no discovery.
        sw_version: Argus's version (the devices' ``sw_version``).
        clock: Now, timezone-aware (midnight resets).
        tz: The zone of the counting day (the site's).
        status_interval: Seconds between polls of the local statuses and the day.
        rescan_s: Seconds between two reads of cameras, lines, zones and nodes.
    """

    def __init__(
        self,
        bus: EventBus,
        events_subject: str,
        database: Database,
        statuses: Callable[[], Iterable[CameraStatus]],
        link: MqttLink,
        *,
        topics: MqttTopics,
        discovery_prefix: str | None,
        sw_version: str,
        clock: Callable[[], datetime],
        tz: tzinfo = UTC,
        status_interval: float = 1.0,
        rescan_s: float = 60.0,
    ) -> None:
        self._bus = bus
        self._subject = events_subject
        self._db = database
        self._statuses = statuses
        self._link = link
        self._topics = topics
        self._discovery_prefix = discovery_prefix
        self._version = sw_version
        self._clock = clock
        self._tz = tz
        self._interval = status_interval
        self._rescan_s = rescan_s
        self.state = MqttState(topics, tz, clock().astimezone(tz).date())
        self._cameras: dict[str, str] = {}
        self._nodes: set[str] = set()
        self._discovery: dict[str, bytes] = {}
        self._owned: dict[str, set[str]] = {}
        self._pending: dict[str, bytes] = {}
        self._transient: deque[Publish] = deque(maxlen=_TRANSIENT_MAX)
        self._wake = asyncio.Event()
        self._tasks = TaskGroup()
        self.event_feed = ConsumerState()
        self.alert_feed = ConsumerState()
        self.published = 0
        """Messages the broker took."""

    async def start(self) -> None:
        """Seed from the store, connect, and start the feeds (once)."""
        if self._tasks.started:
            return
        try:
            await self._seed()
        except ArgusError:  # the rescan loop tries again; the feeds need not wait
            log.exception("seeding the MQTT state from the store failed")
        self._link.start(self._on_connect, self._on_message)
        self._tasks.start(
            ("argus-mqtt-publisher", self._publisher),
            ("argus-mqtt-events", self._event_loop),
            ("argus-mqtt-alerts", self._alert_loop),
            ("argus-mqtt-status", self._status_loop),
            ("argus-mqtt-rescan", self._rescan_loop),
        )

    async def stop(self) -> None:
        """Stop the feeds, then announce ``offline`` and disconnect."""
        await self._tasks.stop()
        await self._link.stop()

    def check(self) -> tuple[bool, str]:
        """Whether the bridge is connected and fed, and a one-line reason."""
        if self._tasks.finished:
            return False, "MQTT bridge stopped"
        ok, reason = self._link.check()
        if not ok:
            return False, reason
        for name, feed in (("events", self.event_feed), ("alerts", self.alert_feed)):
            if not feed.subscribed:
                return False, f"MQTT bridge not fed with {name}: {feed.last_error or 'starting'}"
        return True, f"{reason}; {len(self._pending)} topic(s) pending"

    # --- seeding and rescans ----------------------------------------------------------------

    async def _seed(self) -> None:
        await self._rescan()
        midnight = datetime.combine(self.state.day, time(), self._tz)
        buckets = await self._db.events.counts(
            EventFilter(
                types=("line.crossed",), since=midnight, until=midnight + timedelta(days=1)
            ),
            interval="day",
            tz=self._tz,
        )
        totals: dict[tuple[str, str, str], int] = {}
        for bucket in buckets:
            if bucket.direction is not None and bucket.start.date() == self.state.day:
                key = (bucket.camera_id, bucket.name, bucket.direction)
                totals[key] = totals.get(key, 0) + bucket.count
        self._queue(self.state.seed_counts(totals))
        where = AlertFilter(states=tuple(sorted(OPEN_ALERT_STATES)))
        alerts = await all_pages(
            lambda offset: self._db.alerts.list(where, limit=500, offset=offset)
        )
        self._queue(self.state.seed_alerts(a.to_dict() for a in reversed(alerts)))
        for camera_id in {key[0] for key in totals}:
            self._announce_camera(camera_id)

    async def _rescan(self) -> None:
        cameras = await all_pages(lambda offset: self._db.cameras.list(limit=200, offset=offset))
        current = {camera.id: camera.name for camera in cameras}
        for camera_id in set(self._cameras) - set(current):
            self._queue(self.state.forget_camera(camera_id))
            self._remove_discovery(camera_id)
        self._cameras = current
        for camera_id in current:
            lines, zones = await self._scene(camera_id)
            self._queue(self.state.declare(camera_id, lines, zones))
            self._announce_camera(camera_id)
        for node in await self._db.nodes.list():
            self._queue(
                self.state.on_node_state(node.node_id, "offline" if node.offline else "online")
            )
            self._announce_node(node.node_id)

    async def _scene(self, camera_id: str) -> tuple[list[str], list[str]]:
        """The names of a camera's lines and zones."""
        lines = await all_pages(
            lambda offset: self._db.lines.list(camera_id, limit=200, offset=offset)
        )
        zones = await all_pages(
            lambda offset: self._db.zones.list(camera_id, limit=200, offset=offset)
        )
        return [line.name for line in lines], [zone.name for zone in zones]

    # --- discovery --------------------------------------------------------------------------

    def _announce_camera(self, camera_id: str) -> None:
        if self._discovery_prefix is None or camera_id.startswith("node:"):
            return
        lines = [line for camera, line in self.state.lines if camera == camera_id]
        zones = [zone for camera, zone in self.state.zones if camera == camera_id]
        name = self._cameras.get(camera_id, camera_id)
        configs = camera_entities(
            self._topics, camera_id, name, lines=lines, zones=zones, sw_version=self._version
        )
        self._offer_discovery(camera_id, configs)

    def _announce_node(self, node_id: str) -> None:
        self._nodes.add(node_id)
        if self._discovery_prefix is not None:
            configs = node_entities(self._topics, node_id, sw_version=self._version)
            self._offer_discovery(f"node:{node_id}", configs)

    def _offer_discovery(self, owner: str, configs: Iterable[DiscoveryConfig]) -> None:
        assert self._discovery_prefix is not None
        owned = self._owned.setdefault(owner, set())
        for config in configs:
            topic = config.topic(self._discovery_prefix)
            body = json.dumps(dict(config.payload), separators=(",", ":")).encode("utf-8")
            owned.add(topic)
            if self._discovery.get(topic) != body:
                self._discovery[topic] = body
                self._queue([Publish(topic, body)])

    def _remove_discovery(self, owner: str) -> None:
        """Remove a deleted camera's entities: an empty retained config each."""
        for topic in sorted(self._owned.pop(owner, set())):
            self._discovery.pop(topic, None)
            self._queue([Publish(topic, b"")])

    # --- feeds ------------------------------------------------------------------------------

    async def _event_loop(self) -> None:
        await consume_resubscribing(
            lambda: self._bus.fan_out(self._subject),
            self._fold_events,
            self.event_feed,
            what="MQTT bridge event feed",
        )

    async def _fold_events(self, subscription: Subscription) -> None:
        async for delivery in subscription:
            self._fold(delivery.envelope)

    def _fold(self, envelope: Envelope) -> None:
        camera_id = envelope.source.camera_id
        known = (set(self.state.lines), set(self.state.zones))
        self._queue(self.state.on_event(envelope))
        if (set(self.state.lines), set(self.state.zones)) != known:
            self._announce_camera(camera_id)
        if envelope.type.startswith("node.") and envelope.source.edge_node_id not in self._nodes:
            self._announce_node(envelope.source.edge_node_id)

    async def _alert_loop(self) -> None:
        await consume_resubscribing(
            lambda: self._bus.fan_out(ALERTS_SUBJECT),
            self._fold_alerts,
            self.alert_feed,
            what="MQTT bridge alert feed",
        )

    async def _fold_alerts(self, subscription: Subscription) -> None:
        async for delivery in subscription:
            envelope = delivery.envelope
            if envelope.type in _ALERT_TYPES:
                self._queue(self.state.on_alert(envelope.type, envelope.payload))

    async def _status_loop(self) -> None:
        while True:
            try:
                for status in self._statuses():
                    self._queue(self.state.on_camera_state(status.camera_id, status.state))
                self._queue(self.state.roll(self._clock()))
            except Exception:  # top of a task loop: log and try again next tick
                log.exception("MQTT bridge status poll failed")
            await asyncio.sleep(self._interval)

    async def _rescan_loop(self) -> None:
        while True:
            await asyncio.sleep(self._rescan_s)
            try:
                await self._rescan()
            except Exception:  # top of a task loop: log and try again next time
                log.exception("MQTT bridge rescan failed")

    # --- publishing -------------------------------------------------------------------------

    def _queue(self, messages: Iterable[Publish]) -> None:
        for message in messages:
            if message.retain:
                self._pending.pop(message.topic, None)
                self._pending[message.topic] = message.payload
            else:
                self._transient.append(message)
            self._wake.set()

    async def _on_connect(self) -> None:
        """Everything again: a broker restarted without persistence has lost it."""
        self._queue(self._retained())
        self._wake.set()  # what waited while the broker was away goes out too

    async def _on_message(self, topic: str, payload: bytes) -> None:
        if topic == f"{self._discovery_prefix}/status" and payload.strip() == b"online":
            log.info("Home Assistant came online: announcing every entity again")
            self._queue(self._retained())

    def _retained(self) -> list[Publish]:
        return [
            *(Publish(topic, body) for topic, body in self._discovery.items()),
            *self.state.everything(),
        ]

    async def _publisher(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._link.connected and (self._pending or self._transient):
                if self._transient:
                    message = self._transient.popleft()
                else:
                    topic = next(iter(self._pending))
                    message = Publish(topic, self._pending.pop(topic))
                try:
                    await self._link.publish(message.topic, message.payload, retain=message.retain)
                    self.published += 1
                except Exception as exc:  # top of a task loop: keep the message, wait
                    if isinstance(exc, ArgusError):
                        log.warning("MQTT publish on %s failed: %s", message.topic, exc)
                    else:
                        log.exception("MQTT publish on %s failed", message.topic)
                    if message.retain:
                        self._pending.setdefault(message.topic, message.payload)
                    else:
                        self._transient.appendleft(message)
                    break  # the next connect (or change) wakes the publisher again
                finally:
                    _raise_if_cancelling()

    @property
    def pending(self) -> int:
        """Retained topics waiting for the broker."""
        return len(self._pending)


def _raise_if_cancelling() -> None:
    """Re-raise a cancellation a client library swallowed.

    On Python 3.11, ``asyncio.wait_for`` (which aiomqtt awaits acknowledgements
    with) can lose a ``cancel()`` that arrives as the acknowledgement does; the
    loop would then wait for ever and ``stop`` with it.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
