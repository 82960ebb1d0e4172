"""``Notifier``: turns alert changes on the bus into durable notification outbox items.

A durable bus consumer (``NOTIFY_DURABLE_NAME``, shared by every server, which
split the work) on ``ALERTS_SUBJECT``. For ``alert.created`` and
``alert.escalated`` it selects the routes and targets the alert goes to
(``argus.domain.notify.routing``: rule, camera, severity, schedule and quiet
hours in the camera's local time, escalation levels), resolves each target's
recipients (its ``to`` with ``group:<name>`` expanded through the recipient
groups document, else the channel's default recipients) and enqueues one
``Notification`` per route and target into ``database.notify.outbox``. The
dispatcher (``notify_dispatch``) delivers them.

Skipped: repeat alerts (``repeat``: they joined an alert group without raising
its severity) and suppressed ones (``suppressed``: snoozed or in a
maintenance window), so an alert storm notifies once and on escalation, not
for every repeat; other envelope types (``alert.updated``,
``alert_group.updated``); targets whose channel is gone or disabled, and
e-mail targets left without a recipient (each logged).

Exactly once over an at-least-once bus: every item carries ``dedupe_key``
(alert, kind, escalation level, route, channel) and the outbox stores a key
once, so a redelivery (a crash before the ack, a lost ack, a restart) enqueues
nothing twice. The delivery is acknowledged only after the items are stored;
an outage of the store is retried with backoff, then the delivery is left for
the bus to deliver again, and ``check`` reports it meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from argus.domain.cameras import new_id, utc_now
from argus.domain.errors import NotFoundError, ValidationError
from argus.domain.events import Envelope
from argus.domain.notify import (
    RECIPIENT_GROUPS_KEY,
    Channel,
    EmailSettings,
    Notification,
    NotificationKind,
    Route,
    Target,
    dedupe_key,
)
from argus.domain.notify.routing import facts_of, resolve_recipients, select
from argus.domain.site import SITE_KEY, Site
from argus.ports.bus import EventBus, Subscription
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.repositories import Database
from argus.services.alerts import ALERTS_SUBJECT
from argus.services.background import TaskGroup
from argus.services.consumers import (
    ConsumerState,
    IdempotentConsumer,
    StoreRetry,
    consume_resubscribing,
)

__all__ = ["NOTIFY_DURABLE_NAME", "Notifier"]

log = logging.getLogger(__name__)

NOTIFY_DURABLE_NAME = "argus-notify"
"""Durable consumer of the alert subject shared by every server."""

_KINDS: Mapping[str, NotificationKind] = {
    "alert.created": "alert.created",
    "alert.escalated": "alert.escalated",
}

SiteSource = Callable[[], Awaitable[Site]]
"""The site (time zones), e.g. ``RiskPolicyService.site``."""


class Notifier:
    """Enqueues the notifications of raised and escalated alerts, in the background.

    Args:
        database: The store (routes, channels, recipient groups, the outbox, cameras).
        bus: The event bus.
        clock: Current UTC time (schedules, quiet hours, item times).
        node_id: This server's id (the outbox lease owner of nothing here; for logs).
        base_url: Public URL of the dashboard for links in messages (``None``: no links).
        site: The site's time zones; ``None``: the stored site document, else UTC.
        subject: The alert subject.
        retry_attempts: Tries of an alert whose items the store refuses before
            the delivery is left for the bus to deliver again.
        retry_max_delay: Longest wait between two tries, in seconds.
        on_enqueued: Called after items were stored (wakes the dispatcher, so a
            notification does not wait for its next poll).
    """

    def __init__(
        self,
        database: Database,
        bus: EventBus,
        *,
        clock: Callable[[], datetime] = utc_now,
        node_id: str = "argus",
        base_url: str | None = None,
        site: SiteSource | None = None,
        subject: str = ALERTS_SUBJECT,
        retry_attempts: int = 10,
        retry_max_delay: float = 5.0,
        on_enqueued: Callable[[], None] | None = None,
    ) -> None:
        self._db = database
        self._bus = bus
        self._clock = clock
        self._node_id = node_id
        self._base_url = base_url.rstrip("/") if base_url else None
        self._site = site if site is not None else self._stored_site
        self._subject = subject
        self._on_enqueued = on_enqueued
        self._retry = StoreRetry(retry_attempts, retry_max_delay, "the notifications of")
        self._tasks = TaskGroup()
        self._consumer = IdempotentConsumer(self._handle_retrying)
        self.state = ConsumerState()
        self.enqueued = 0
        """Notifications stored (duplicates not counted)."""
        self.skipped = 0
        """Alert changes that notified nobody (repeats, suppressed, no route)."""

    @property
    def consumed(self) -> int:
        """Deliveries taken from the bus and acknowledged (replays included)."""
        return self._consumer.handled + self._consumer.duplicates

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start consuming (once)."""
        self._tasks.start(("argus-notifier", self._consume_forever))

    async def stop(self) -> None:
        """Stop consuming and wait for it."""
        await self._tasks.stop()

    def check(self) -> tuple[bool, str]:
        """Whether the notifier is consuming, and a one-line reason."""
        if not self._tasks.started:
            return False, "notifier not started"
        if self._tasks.finished:
            return False, f"notifier stopped: {self.state.last_error or 'finished'}"
        if self.store_error is not None:
            return False, f"notifications cannot be stored ({self.store_error}); retrying"
        if not self.state.subscribed:
            return False, f"notifier not subscribed: {self.state.last_error or 'starting'}"
        return True, f"notifier on {self._subject!r}"

    async def _consume_forever(self) -> None:
        await consume_resubscribing(
            lambda: self._bus.subscribe(self._subject, durable=NOTIFY_DURABLE_NAME),
            self._consume,
            self.state,
            what="notifier",
        )

    async def _consume(self, subscription: Subscription) -> None:
        async for delivery in subscription:
            await self._consumer.process(delivery)

    async def _handle_retrying(self, envelope: Envelope) -> None:
        await self._retry.run(lambda: self.handle(envelope), envelope.event_id)

    @property
    def store_error(self) -> str | None:
        """Why the store refused the latest items; ``None`` once it takes them again."""
        return self._retry.error

    # --- the work --------------------------------------------------------------------------

    async def handle(self, envelope: Envelope) -> int:
        """Enqueue the notifications of one alert change (idempotent).

        Returns:
            How many new items were stored (0 for a replay or nothing to send).

        Raises:
            StorageError: The store refused the items; calling again stores
                those missing and nothing twice.
        """
        kind = _KINDS.get(envelope.type)
        alert = envelope.payload
        if kind is None:
            return 0
        if kind == "alert.created" and alert.get("repeat"):
            self.skipped += 1
            return 0
        if alert.get("suppressed"):
            self.skipped += 1
            return 0
        try:
            facts = facts_of(alert)
        except ValidationError:
            log.warning("ignoring %s %s: not an alert", envelope.type, envelope.event_id)
            return 0
        level = facts.escalation_level if kind == "alert.escalated" else 0
        routes = await all_pages(
            lambda skip: self._db.notify.routes.list(limit=MAX_PAGE, offset=skip)
        )
        site = await self._site()
        chosen = select(facts, kind, level, routes, now=self._clock(), tz_of=site.zone_of)
        items = await self._items(alert, kind, level, chosen)
        if not items:
            self.skipped += 1
            return 0
        stored = await self._db.notify.outbox.enqueue(items)
        self.enqueued += stored
        if stored and self._on_enqueued is not None:
            self._on_enqueued()
        return stored

    async def _items(
        self,
        alert: Mapping[str, object],
        kind: NotificationKind,
        level: int,
        chosen: list[tuple[Route, Target]],
    ) -> list[Notification]:
        if not chosen:
            return []
        alert_id = str(alert["id"])
        groups = await self._groups()
        payload = await self._payload(alert, kind, level)
        now = self._clock()
        channels: dict[str, Channel | None] = {}
        items: list[Notification] = []
        for route, target in chosen:
            if target.channel_id not in channels:
                channels[target.channel_id] = await self._channel(target.channel_id)
            channel = channels[target.channel_id]
            if channel is None or not channel.enabled:
                state = "gone" if channel is None else "disabled"
                log.warning(
                    "route %s: channel %s is %s; alert %s not sent there",
                    route.id,
                    target.channel_id,
                    state,
                    alert_id,
                )
                continue
            recipients: tuple[str, ...] = ()
            if isinstance(channel.settings, EmailSettings):
                recipients, missing = resolve_recipients(target, channel.settings.to, groups)
                if missing:
                    log.warning("route %s names unknown group(s) %s", route.id, missing)
                if not recipients:
                    log.warning("route %s: no recipients for alert %s", route.id, alert_id)
                    continue
            items.append(
                Notification(
                    id=new_id(),
                    dedupe_key=dedupe_key(alert_id, kind, level, channel.id, route.id),
                    channel_id=channel.id,
                    kind=kind,
                    created_at=now,
                    next_attempt_at=now,
                    payload={**payload, "route": {"id": route.id, "name": route.name}},
                    recipients=recipients,
                    alert_id=alert_id,
                    group_id=_optional(alert.get("group_id")),
                    level=level,
                )
            )
        return items

    async def _payload(
        self, alert: Mapping[str, object], kind: str, level: int
    ) -> dict[str, object]:
        camera_id = str(alert["camera_id"])
        try:
            camera = await self._db.cameras.get(camera_id)
            name = camera.name
        except NotFoundError:
            name = camera_id
        link = f"{self._base_url}/#/alerts/{alert['id']}" if self._base_url else None
        return {
            "alert": dict(alert),
            "camera": {"id": camera_id, "name": name},
            "kind": kind,
            "level": level,
            "links": {"alert": link},
        }

    async def _channel(self, channel_id: str) -> Channel | None:
        try:
            return await self._db.notify.channels.get(channel_id)
        except NotFoundError:
            return None

    async def _groups(self) -> dict[str, tuple[str, ...]]:
        stored = await self._db.settings.get(RECIPIENT_GROUPS_KEY)
        groups = (stored or {}).get("groups")
        if not isinstance(groups, Mapping):
            return {}
        return {
            str(name): tuple(str(a) for a in members)
            for name, members in groups.items()
            if isinstance(members, list | tuple)
        }

    async def _stored_site(self) -> Site:
        stored = await self._db.settings.get(SITE_KEY)
        return Site() if stored is None else Site.from_dict(stored)


def _optional(value: object) -> str | None:
    return None if value is None else str(value)
