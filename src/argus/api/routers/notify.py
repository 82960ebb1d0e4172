"""``/api/v1/channels``, ``/routes``, ``/recipient-groups``, ``/notifications``: notification setup.

``router`` (guarded configure/configure) holds the setup and the notification
log; ``deliveries_router`` (guarded view/operate) holds the delivery log of one
alert, shown on its card to whoever may see the alert's camera. Channel secrets
are write-only: no answer carries them, except a webhook secret Argus
generated, shown once in the creating answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, ErrorBody
from argus.api.schemas.notify import (
    AttemptPublic,
    ChannelCreate,
    ChannelCreated,
    ChannelList,
    ChannelPublic,
    ChannelUpdate,
    Delivery,
    DeliveryList,
    NotificationList,
    NotificationPublic,
)
from argus.api.schemas.notify_routes import (
    RecipientGroups,
    RouteCreate,
    RouteList,
    RoutePublic,
    RouteUpdate,
)
from argus.api.security import Acting
from argus.domain.notify import NotificationState
from argus.ports.paging import MAX_PAGE
from argus.services.notify_config import NotifyConfigService

__all__ = ["deliveries_router", "router"]

router = APIRouter(tags=["notifications"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})
deliveries_router = APIRouter(
    tags=["notifications"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)


def get_notify_config(runtime: RuntimeDep) -> NotifyConfigService:
    """The app's notification setup service."""
    return runtime.notify_config


NotifyDep = Annotated[NotifyConfigService, Depends(get_notify_config)]

ChannelId = Annotated[str, Path(min_length=1, max_length=64, description="Channel id.")]
RouteId = Annotated[str, Path(min_length=1, max_length=64, description="Route id.")]
AlertId = Annotated[str, Path(min_length=1, max_length=64, description="Alert id.")]
NotificationId = Annotated[str, Path(min_length=1, max_length=64, description="Notification id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]
_CHANGED: dict[int | str, dict[str, object]] = {
    409: {"model": ErrorBody, "description": "Changed meanwhile, or the name is taken."}
}
_IN_USE: dict[int | str, dict[str, object]] = {
    409: {"model": ErrorBody, "description": "A route still targets the channel."}
}
_NOT_DEAD: dict[int | str, dict[str, object]] = {
    409: {"model": ErrorBody, "description": "The notification is not dead."}
}


# --- channels ---------------------------------------------------------------------------------


@router.get("/channels", summary="List notification channels")
async def list_channels(
    notify: NotifyDep, actor: Acting, limit: Limit = 100, offset: Offset = 0
) -> ChannelList:
    """Channels in creation order; secrets show only whether they are set."""
    page = await notify.list_channels(actor, limit=limit, offset=offset)
    items = [ChannelPublic.of(c) for c in page.items]
    return ChannelList(items=items, total=page.total, limit=limit, offset=offset)


@router.post("/channels", status_code=201, summary="Create a notification channel")
async def create_channel(body: ChannelCreate, notify: NotifyDep, actor: Acting) -> ChannelCreated:
    """Create an e-mail, webhook or MQTT channel.

    A webhook created without a ``secret`` gets a random one, returned once as
    ``generated_secret`` (configure the receiver with it). The destination must
    be reachable under the installation's network policy (422 otherwise).
    """
    created = await notify.create_channel(actor, body.command())
    public = ChannelPublic.of(created.channel).model_dump()
    return ChannelCreated(**public, generated_secret=created.generated_secret)


@router.get("/channels/{channel_id}", summary="Get a notification channel")
async def get_channel(channel_id: ChannelId, notify: NotifyDep, actor: Acting) -> ChannelPublic:
    """One channel."""
    return ChannelPublic.of(await notify.get_channel(actor, channel_id))


@router.patch("/channels/{channel_id}", summary="Change a notification channel", responses=_CHANGED)
async def update_channel(
    channel_id: ChannelId, body: ChannelUpdate, notify: NotifyDep, actor: Acting
) -> ChannelPublic:
    """Change fields; ``settings`` is merged, and a secret left out keeps its value."""
    return ChannelPublic.of(await notify.update_channel(actor, channel_id, body.command()))


@router.delete(
    "/channels/{channel_id}",
    status_code=204,
    summary="Remove a notification channel",
    responses=_IN_USE,
)
async def delete_channel(channel_id: ChannelId, notify: NotifyDep, actor: Acting) -> None:
    """Delete a channel no route targets; its notification log stays."""
    await notify.delete_channel(actor, channel_id)


@router.post("/channels/{channel_id}/test", status_code=202, summary="Send a test notification")
async def test_channel(
    channel_id: ChannelId, notify: NotifyDep, actor: Acting
) -> NotificationPublic:
    """Queue a test notification; its delivery shows in ``/notifications``."""
    return NotificationPublic.of(await notify.test(actor, channel_id))


# --- routes -----------------------------------------------------------------------------------


@router.get("/routes", summary="List notification routes")
async def list_routes(
    notify: NotifyDep, actor: Acting, limit: Limit = 100, offset: Offset = 0
) -> RouteList:
    """Routes in creation order."""
    page = await notify.list_routes(actor, limit=limit, offset=offset)
    items = [RoutePublic.of(r) for r in page.items]
    return RouteList(items=items, total=page.total, limit=limit, offset=offset)


@router.post("/routes", status_code=201, summary="Create a notification route")
async def create_route(body: RouteCreate, notify: NotifyDep, actor: Acting) -> RoutePublic:
    """Create a route; each target must name an existing channel (422 otherwise)."""
    return RoutePublic.of(await notify.create_route(actor, body.command()))


@router.get("/routes/{route_id}", summary="Get a notification route")
async def get_route(route_id: RouteId, notify: NotifyDep, actor: Acting) -> RoutePublic:
    """One route."""
    return RoutePublic.of(await notify.get_route(actor, route_id))


@router.patch("/routes/{route_id}", summary="Change a notification route", responses=_CHANGED)
async def update_route(
    route_id: RouteId, body: RouteUpdate, notify: NotifyDep, actor: Acting
) -> RoutePublic:
    """Change fields; ``targets`` replaces the whole list."""
    return RoutePublic.of(await notify.update_route(actor, route_id, body.command()))


@router.delete("/routes/{route_id}", status_code=204, summary="Remove a notification route")
async def delete_route(route_id: RouteId, notify: NotifyDep, actor: Acting) -> None:
    """Delete a route."""
    await notify.delete_route(actor, route_id)


# --- recipient groups -------------------------------------------------------------------------


@router.get("/recipient-groups", summary="Get the recipient groups")
async def get_groups(notify: NotifyDep, actor: Acting) -> RecipientGroups:
    """Named address lists, used by route targets as ``group:<name>``."""
    groups = await notify.get_groups(actor)
    return RecipientGroups(groups={name: list(members) for name, members in groups.items()})


@router.put("/recipient-groups", summary="Replace the recipient groups")
async def put_groups(body: RecipientGroups, notify: NotifyDep, actor: Acting) -> RecipientGroups:
    """Replace every group at once."""
    groups = await notify.put_groups(actor, body.groups)
    return RecipientGroups(groups={name: list(members) for name, members in groups.items()})


# --- the log ----------------------------------------------------------------------------------


@router.get("/notifications", summary="List notifications")
async def list_notifications(
    notify: NotifyDep,
    actor: Acting,
    state: Annotated[NotificationState | None, Query(description="Only in this state.")] = None,
    channel_id: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only of this channel.")
    ] = None,
    limit: Limit = 50,
    cursor: Annotated[
        str | None, Query(min_length=1, max_length=500, description="From a next_cursor.")
    ] = None,
) -> NotificationList:
    """The notification log, newest first; page on with ``next_cursor``."""
    page = await notify.list_notifications(
        actor, state=state, channel_id=channel_id, limit=limit, cursor=cursor
    )
    items = [NotificationPublic.of(i) for i in page.items]
    return NotificationList(items=items, next_cursor=page.next_cursor, total=page.total)


@router.post(
    "/notifications/{notification_id}/retry",
    summary="Retry a dead notification",
    responses=_NOT_DEAD,
)
async def retry_notification(
    notification_id: NotificationId, notify: NotifyDep, actor: Acting
) -> NotificationPublic:
    """Send a dead notification again; its earlier attempts are kept."""
    return NotificationPublic.of(await notify.retry(actor, notification_id))


@deliveries_router.get("/alerts/{alert_id}/deliveries", summary="An alert's delivery log")
async def alert_deliveries(alert_id: AlertId, notify: NotifyDep, actor: Acting) -> DeliveryList:
    """Every notification about the alert, with each attempt, result and latency."""
    deliveries = await notify.deliveries(actor, alert_id)
    return DeliveryList(
        items=[
            Delivery(
                notification=NotificationPublic.of(item),
                attempts=[AttemptPublic.of(a) for a in attempts],
            )
            for item, attempts in deliveries
        ]
    )
