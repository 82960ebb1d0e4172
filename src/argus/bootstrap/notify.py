"""Notification delivery of the control plane: senders, the dispatcher and snapshot links.

Built here and nowhere else: the destination policy (``ARGUS_NOTIFY_ALLOWED_NETWORKS``)
shared by every sender and by the channel editor's save-time check, the
e-mail, webhook and MQTT senders, the ``NotificationDispatcher`` over the
database's outbox with the ``ARGUS_NOTIFY_*`` policy, and the signed snapshot
links (``ARGUS_PUBLIC_URL``, key derived from the installation secret).
``ControlPlane.steps`` starts the dispatcher before the notifier (so what is
enqueued flows at once) and stops it after.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from argus.adapters.notify.destinations import DestinationPolicy
from argus.adapters.notify.mqtt import MqttSender
from argus.adapters.notify.smtp import SmtpSender
from argus.adapters.notify.templates import render
from argus.adapters.notify.webhook import WebhookSender
from argus.bootstrap.adapters import Adapters
from argus.config import Settings
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import utc_now
from argus.domain.notify import Channel, DeliveryAttempt
from argus.domain.notify.breaker import BreakerPolicy
from argus.domain.notify.delivery import DispatchPolicy
from argus.domain.notify.signing import link_key
from argus.services.evidence import EvidenceService
from argus.services.notify_dispatch import NotificationDispatcher
from argus.services.snapshot_links import SnapshotLinks

__all__ = ["NotifyDelivery", "build_notify_delivery", "dispatch_policy"]

log = logging.getLogger(__name__)


def dispatch_policy(settings: Settings) -> DispatchPolicy:
    """The dispatcher's policy from the ``ARGUS_NOTIFY_*`` settings."""
    return DispatchPolicy(
        max_attempts=settings.notify_max_attempts,
        backoff=BackoffPolicy(settings.notify_backoff_initial_s, settings.notify_backoff_max_s),
        breaker=BreakerPolicy(
            settings.notify_breaker_threshold,
            settings.notify_breaker_cooldown_s,
            settings.notify_breaker_max_cooldown_s,
        ),
        lease_s=settings.notify_lease_s,
        poll_s=settings.notify_poll_s,
        batch=settings.notify_batch,
        channel_concurrency=settings.notify_channel_concurrency,
    )


@dataclass(frozen=True, slots=True)
class NotifyDelivery:
    """What delivers notifications in this server.

    Attributes:
        destinations: Which hosts channels may reach (senders and the channel editor).
        links: The alert snapshots for notifications, and the shared-link route's opener.
        dispatcher: Delivers the outbox.
        mqtt: The MQTT sender (its cached broker connections close on stop).
        enabled: Whether this server runs the dispatcher (``ARGUS_NOTIFY_DISPATCH``).
    """

    destinations: DestinationPolicy
    links: SnapshotLinks
    dispatcher: NotificationDispatcher
    mqtt: MqttSender
    enabled: bool

    def start(self) -> None:
        """Start the dispatcher, when this server runs one."""
        if self.enabled:
            self.dispatcher.start()

    async def stop(self) -> None:
        """Stop the dispatcher (deliveries in flight are retried later) and close connections."""
        await self.dispatcher.stop()
        await self.mqtt.close()


def build_notify_delivery(
    settings: Settings,
    adapters: Adapters,
    evidence: EvidenceService,
    on_attempt: Callable[[DeliveryAttempt, Channel], None] | None = None,
) -> NotifyDelivery:
    """The senders, the dispatcher and the snapshot links, built and not started."""
    destinations = DestinationPolicy.of(settings.notify_allowed_networks)
    links = SnapshotLinks(
        evidence,
        link_key(adapters.secret),
        clock=utc_now,
        base_url=settings.public_url,
        ttl_s=settings.notify_link_ttl_s,
    )
    mqtt = MqttSender(destinations)
    dispatcher = NotificationDispatcher(
        adapters.database.notify.outbox,
        adapters.database.notify.channels,
        {
            "email": SmtpSender(destinations),
            "webhook": WebhookSender(destinations),
            "mqtt": mqtt,
        },
        render=render,
        clock=utc_now,
        owner=f"{adapters.node_id}:{os.getpid()}",
        policy=dispatch_policy(settings),
        snapshot=links.for_notification,
        on_attempt=on_attempt,
    )
    return NotifyDelivery(destinations, links, dispatcher, mqtt, settings.notify_dispatch)
