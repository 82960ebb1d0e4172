"""``SnapshotLinks``: the alert snapshot for notifications, attached or as a signed, expiring link.

A mail channel says whether the alert's snapshot is attached (``attach``),
linked (``link``) or left out (``none``); Slack and Teams webhooks show a
linked image. A link is ``<ARGUS_PUBLIC_URL>/api/v1/shared/snapshots/<token>``
with a token naming the **alert** and an expiry under an HMAC
(``domain.notify.signing``): whoever holds the mail can open that alert's
snapshot, without an account, until the link expires, and nothing else.

The link names the alert rather than the picture because a notification
usually leaves before the picture exists: evidence capture stores the
snapshot once the clip's post-roll is recorded, seconds after the alert.
A mail's link is given at once and works as soon as the snapshot is stored;
a chat image (which the chat service fetches right away) is only shown when
the snapshot already exists; an attachment waits for the snapshot up to
``attach_wait_s`` after the notification was made, then goes without it.
Without a public URL there is no link to give, and a ``link`` mail channel
gets the picture attached instead.

Opening a link reads the evidence as ``shared-link`` through
``EvidenceService`` (integrity checked, audited ``evidence.read``); only a
JPEG or PNG snapshot opens. Every refusal, a forged or expired token or no
snapshot, is the same ``NotFoundError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from argus.domain.actor import Actor
from argus.domain.errors import NotFoundError
from argus.domain.evidence import EvidenceItem
from argus.domain.notify import Channel, EmailSettings, Notification, WebhookSettings
from argus.domain.notify.signing import open_snapshot_token, snapshot_token
from argus.ports.evidence import EvidenceFilter
from argus.services.evidence import EvidenceService

__all__ = ["LINK_ACTOR", "SHARED_PATH", "SnapshotLinks"]

SHARED_PATH = "/api/v1/shared/snapshots/"
"""Where links point (the token follows)."""
LINK_ACTOR = Actor(principal=None, name="shared-link")
_IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
_NOT_FOUND = "no such snapshot, or the link has expired"
_POLL_S = 0.5


class SnapshotLinks:
    """Finds an alert's snapshot and mints and opens its links.

    Args:
        evidence: The evidence service.
        key: The link key (``signing.link_key(installation secret)``).
        clock: Wall-clock time (UTC).
        base_url: ``ARGUS_PUBLIC_URL`` (no trailing slash); ``None``: no links.
        ttl_s: Seconds a link stays valid.
        attach_wait_s: Longest wait for a snapshot to attach, from the notification's creation.
        sleep: Waits between looks for the snapshot (``asyncio.sleep``).
    """

    def __init__(
        self,
        evidence: EvidenceService,
        key: bytes,
        *,
        clock: Callable[[], datetime],
        base_url: str | None,
        ttl_s: float,
        attach_wait_s: float = 20.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._evidence = evidence
        self._key = key
        self._clock = clock
        self._base = base_url.rstrip("/") if base_url else None
        self._ttl = timedelta(seconds=ttl_s)
        self._attach_wait = timedelta(seconds=attach_wait_s)
        self._sleep = sleep

    def url(self, alert_id: str) -> str | None:
        """A link to ``alert_id``'s snapshot, valid for the lifetime from now (``None``: no URL)."""
        if self._base is None:
            return None
        token = snapshot_token(self._key, alert_id, self._clock() + self._ttl)
        return f"{self._base}{SHARED_PATH}{token}"

    async def snapshot_of(self, alert_id: str) -> EvidenceItem | None:
        """The alert's stored snapshot, if there is one yet."""
        page = await self._evidence.list(EvidenceFilter(alert_id=alert_id), limit=50)
        shots = [i for i in page.items if i.kind == "snapshot" and i.content_type in _IMAGE_TYPES]
        return shots[0] if shots else None

    async def _awaited(self, notification: Notification, alert_id: str) -> EvidenceItem | None:
        deadline = notification.created_at + self._attach_wait
        while True:
            item = await self.snapshot_of(alert_id)
            if item is not None or self._clock() >= deadline:
                return item
            await self._sleep(_POLL_S)

    async def for_notification(
        self, notification: Notification, channel: Channel
    ) -> tuple[bytes | None, str | None]:
        """The snapshot bytes to attach and the link to show, as ``channel`` wants them.

        Either may be ``None``: no snapshot (yet), a channel that shows none, no base URL.
        """
        alert_id, settings = notification.alert_id, channel.settings
        if alert_id is None:
            return None, None
        if isinstance(settings, WebhookSettings):
            # A chat service fetches the image at once: link only what exists.
            exists = self._base is not None and await self.snapshot_of(alert_id) is not None
            return None, self.url(alert_id) if exists else None
        if not isinstance(settings, EmailSettings) or settings.snapshot == "none":
            return None, None
        if settings.snapshot == "link" and self._base is not None:
            return None, self.url(alert_id)
        item = await self._awaited(notification, alert_id)
        if item is None:
            return None, None
        _, data = await self._evidence.read(item.id, actor=LINK_ACTOR)
        return data, None

    async def open(self, token: str) -> tuple[EvidenceItem, bytes]:
        """The snapshot of the alert a valid token names, verified and decrypted (audited).

        Raises:
            NotFoundError: Forged, altered or expired token, or no snapshot (yet).
            IntegrityError: The stored snapshot failed its integrity check.
        """
        alert_id = open_snapshot_token(self._key, token, self._clock())
        item = None if alert_id is None else await self.snapshot_of(alert_id)
        if item is None:
            raise NotFoundError(_NOT_FOUND)
        return await self._evidence.read(item.id, actor=LINK_ACTOR)
