"""Notification configuration as a use case: channels, routes, recipient groups, the log.

``NotifyConfigService`` is the write boundary of the notification setup. Each
write and its audit record (``channel.create|update|delete|test``,
``route.create|update|delete``, ``recipient_groups.update``,
``notification.retry``) commit in one unit of work; audit records never hold
secrets (only the names of the fields that changed).

Channels, routes and groups are installation-wide, so only an actor without a
camera scope may read or change them; the delivery log of one alert is shown
to whoever may see the alert's camera (another camera's alert answers as an
unknown id).

Secrets are write-only: a channel update that names no secret keeps the stored
one; a webhook created without a secret gets a random one, handed back once
(``CreatedChannel.generated_secret``) so its receiver can verify signatures.
Whether a destination may be reached at all (SSRF) is the ``check_destination``
callable's decision, made at every save.
"""

from __future__ import annotations

import asyncio
import inspect
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from argus.domain.actor import Actor
from argus.domain.cameras import new_id
from argus.domain.errors import (
    ConflictError,
    NotFoundError,
    ValidationError,
)
from argus.domain.notify import (
    RECIPIENT_GROUPS_KEY,
    Channel,
    DeliveryAttempt,
    EmailSettings,
    Notification,
    NotificationState,
    Route,
    Target,
    WebhookSettings,
    check_groups,
)
from argus.ports.paging import Page
from argus.ports.repositories import Database
from argus.ports.unit_of_work import UnitOfWork
from argus.services.notify_commands import (
    ChannelChanges,
    CreatedChannel,
    DestinationCheck,
    NewChannel,
    NewRoute,
    RouteChanges,
    merged_settings,
    require_unscoped,
    test_payload,
)
from argus.services.writes import record, require_visible, set_fields

__all__ = [
    "ChannelChanges",
    "CreatedChannel",
    "DestinationCheck",
    "NewChannel",
    "NewRoute",
    "NotifyConfigService",
    "RouteChanges",
]


class NotifyConfigService:
    """Notification setup over one store (see the module docstring).

    Args:
        database: The store.
        clock: The current UTC time.
        check_destination: Refuses unreachable or forbidden destinations
            (SSRF check), called on every channel save; ``None`` checks nothing.
    """

    def __init__(
        self,
        database: Database,
        clock: Callable[[], datetime],
        check_destination: DestinationCheck | None = None,
    ) -> None:
        self._db = database
        self._clock = clock
        self._check_destination = check_destination

    async def _checked(self, channel: Channel) -> Channel:
        check = self._check_destination
        if check is None:
            return channel
        if inspect.iscoroutinefunction(check):
            await check(channel)
        else:
            # A plain check may resolve the host name (blocking): keep it off the loop.
            outcome = await asyncio.to_thread(check, channel)
            if inspect.isawaitable(outcome):
                await outcome
        return channel

    # --- channels -----------------------------------------------------------------------------

    async def list_channels(
        self, actor: Actor, *, limit: int = 100, offset: int = 0
    ) -> Page[Channel]:
        """Channels in creation order."""
        require_unscoped(actor)
        return await self._db.notify.channels.list(limit=limit, offset=offset)

    async def get_channel(self, actor: Actor, channel_id: str) -> Channel:
        """One channel (``NotFoundError`` if unknown)."""
        require_unscoped(actor)
        return await self._db.notify.channels.get(channel_id)

    async def create_channel(self, actor: Actor, command: NewChannel) -> CreatedChannel:
        """Create a channel (audited); a webhook without a secret gets a generated one.

        Raises:
            ValidationError: A field is invalid or the destination is refused.
            ConflictError: The name is taken.
        """
        require_unscoped(actor)
        settings, generated = command.settings, None
        if isinstance(settings, WebhookSettings) and settings.secret is None:
            generated = secrets.token_urlsafe(32)
            settings = replace(settings, secret=generated)
        now = self._clock()
        fields = set_fields(command)
        fields["settings"] = settings
        channel = await self._checked(
            Channel(id=new_id(), created_at=now, updated_at=now, **fields)
        )
        async with self._db.unit_of_work() as unit:
            await unit.notify.channels.add(channel)
            await record(
                unit.audit, actor, "channel.create", f"channel:{channel.id}", kind=channel.kind
            )
        return CreatedChannel(channel, generated)

    async def update_channel(
        self, actor: Actor, channel_id: str, changes: ChannelChanges
    ) -> Channel:
        """Change a channel (audited; the record names the changed fields, never values).

        Raises:
            NotFoundError: Unknown channel.
            ValidationError: A field is invalid or the destination is refused.
            ConflictError: The name is taken, or the channel changed meanwhile.
        """
        require_unscoped(actor)
        given = set_fields(changes)
        async with self._db.unit_of_work() as unit:
            current = await unit.notify.channels.get(channel_id)
            fields = dict(given)
            patch = fields.pop("settings", None)
            if patch is not None:
                fields["settings"] = merged_settings(current, patch)
            channel = replace(
                current, **fields, updated_at=self._clock(), version=current.version + 1
            )
            await self._checked(channel)
            await unit.notify.channels.update(channel)
            changed = sorted(set(fields) - {"settings"})
            if patch is not None:
                changed += sorted(f"settings.{name}" for name in patch)
            await record(
                unit.audit, actor, "channel.update", f"channel:{channel_id}", fields=changed
            )
        return channel

    async def delete_channel(self, actor: Actor, channel_id: str) -> None:
        """Delete a channel (audited); its log stays.

        Raises:
            NotFoundError: Unknown channel.
            ConflictError: A route still targets it (change those routes first).
        """
        require_unscoped(actor)
        async with self._db.unit_of_work() as unit:
            await unit.notify.channels.get(channel_id)
            users = [
                route.name
                for route in await _all_routes(unit)
                if any(target.channel_id == channel_id for target in route.targets)
            ]
            if users:
                raise ConflictError(
                    f"channel {channel_id} is used by route(s) {', '.join(sorted(users))}"
                )
            await unit.notify.channels.delete(channel_id)
            await record(unit.audit, actor, "channel.delete", f"channel:{channel_id}")

    async def test(self, actor: Actor, channel_id: str) -> Notification:
        """Queue a test notification over the channel (audited); the dispatcher sends it.

        Raises:
            NotFoundError: Unknown channel.
        """
        require_unscoped(actor)
        now = self._clock()
        async with self._db.unit_of_work() as unit:
            channel = await unit.notify.channels.get(channel_id)
            token = new_id()
            item = Notification(
                id=token,
                dedupe_key=f"test:{channel_id}:{token}",
                channel_id=channel_id,
                kind="test",
                created_at=now,
                next_attempt_at=now,
                payload=test_payload(channel, actor, now),
                recipients=(
                    channel.settings.to if isinstance(channel.settings, EmailSettings) else ()
                ),
            )
            await unit.notify.outbox.enqueue([item])
            await record(
                unit.audit, actor, "channel.test", f"channel:{channel_id}", notification=item.id
            )
        return item

    # --- routes -------------------------------------------------------------------------------

    async def list_routes(self, actor: Actor, *, limit: int = 100, offset: int = 0) -> Page[Route]:
        """Routes in creation order."""
        require_unscoped(actor)
        return await self._db.notify.routes.list(limit=limit, offset=offset)

    async def get_route(self, actor: Actor, route_id: str) -> Route:
        """One route (``NotFoundError`` if unknown)."""
        require_unscoped(actor)
        return await self._db.notify.routes.get(route_id)

    async def create_route(self, actor: Actor, command: NewRoute) -> Route:
        """Create a route (audited); its targets must name existing channels.

        Raises:
            ValidationError: A field is invalid or a target names no channel.
        """
        require_unscoped(actor)
        now = self._clock()
        route = Route(id=new_id(), created_at=now, updated_at=now, **set_fields(command))
        async with self._db.unit_of_work() as unit:
            await _check_targets(unit, route.targets)
            await unit.notify.routes.add(route)
            await record(unit.audit, actor, "route.create", f"route:{route.id}")
        return route

    async def update_route(self, actor: Actor, route_id: str, changes: RouteChanges) -> Route:
        """Change a route (audited).

        Raises:
            NotFoundError: Unknown route.
            ValidationError: A field is invalid or a target names no channel.
            ConflictError: The route changed meanwhile.
        """
        require_unscoped(actor)
        given = set_fields(changes)
        async with self._db.unit_of_work() as unit:
            current = await unit.notify.routes.get(route_id)
            route = replace(current, **given, updated_at=self._clock(), version=current.version + 1)
            if "targets" in given:
                await _check_targets(unit, route.targets)
            await unit.notify.routes.update(route)
            await record(
                unit.audit, actor, "route.update", f"route:{route_id}", fields=sorted(given)
            )
        return route

    async def delete_route(self, actor: Actor, route_id: str) -> None:
        """Delete a route (audited; ``NotFoundError`` if unknown)."""
        require_unscoped(actor)
        async with self._db.unit_of_work() as unit:
            await unit.notify.routes.delete(route_id)
            await record(unit.audit, actor, "route.delete", f"route:{route_id}")

    # --- recipient groups ---------------------------------------------------------------------

    async def get_groups(self, actor: Actor | None = None) -> dict[str, tuple[str, ...]]:
        """The recipient groups by name (empty when none were set)."""
        if actor is not None:
            require_unscoped(actor)
        doc = await self._db.settings.get(RECIPIENT_GROUPS_KEY)
        if not doc:
            return {}
        return check_groups(doc.get("groups", {}))

    async def put_groups(
        self, actor: Actor, groups: Mapping[str, Sequence[str]]
    ) -> dict[str, tuple[str, ...]]:
        """Replace the recipient groups (audited; the record names the groups).

        Raises:
            ValidationError: A name or address is invalid.
        """
        require_unscoped(actor)
        checked = check_groups(groups)
        doc = {"groups": {name: list(members) for name, members in sorted(checked.items())}}
        async with self._db.unit_of_work() as unit:
            await unit.settings.put(RECIPIENT_GROUPS_KEY, doc, self._clock())
            await record(
                unit.audit,
                actor,
                "recipient_groups.update",
                "settings:" + RECIPIENT_GROUPS_KEY,
                groups=sorted(checked),
            )
        return checked

    # --- the log ------------------------------------------------------------------------------

    async def deliveries(
        self, actor: Actor, alert_id: str
    ) -> list[tuple[Notification, tuple[DeliveryAttempt, ...]]]:
        """Every notification about one alert with its attempts.

        Raises:
            NotFoundError: Unknown alert, or one outside the actor's camera scope.
        """
        alert = await self._db.alerts.get(alert_id)
        require_visible(actor, alert.camera_id, f"alert {alert_id}")
        return await self._db.notify.outbox.deliveries(alert_id)

    async def list_notifications(
        self,
        actor: Actor,
        *,
        state: NotificationState | None = None,
        channel_id: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Notification]:
        """The notification log, newest first, cursor-paginated."""
        require_unscoped(actor)
        return await self._db.notify.outbox.list(
            state=state, channel_id=channel_id, limit=limit, cursor=cursor
        )

    async def retry(self, actor: Actor, notification_id: str) -> Notification:
        """Send a dead notification again (audited); its attempts so far are kept.

        Raises:
            NotFoundError: Unknown notification.
            ConflictError: It is not dead.
        """
        require_unscoped(actor)
        async with self._db.unit_of_work() as unit:
            item = await unit.notify.outbox.retry(notification_id, self._clock())
            await record(unit.audit, actor, "notification.retry", f"notification:{item.id}")
        return item

    async def counts(self) -> Mapping[str, int]:
        """How many notifications are in each state (metrics)."""
        return await self._db.notify.outbox.counts()


async def _all_routes(unit: UnitOfWork) -> list[Route]:
    routes: list[Route] = []
    while True:
        page = await unit.notify.routes.list(limit=1000, offset=len(routes))
        routes += page.items
        if not page.items or len(routes) >= page.total:
            return routes


async def _check_targets(unit: UnitOfWork, targets: Sequence[Target]) -> None:
    for n, target in enumerate(targets):
        try:
            await unit.notify.channels.get(target.channel_id)
        except NotFoundError:
            raise ValidationError(
                f"targets[{n}].channel_id: no channel {target.channel_id!r}"
            ) from None
