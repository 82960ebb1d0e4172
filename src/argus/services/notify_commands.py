"""The commands of ``NotifyConfigService`` and the small rules its methods share.

Commands: new channels and routes, and partial changes (frozen dataclasses
whose fields default to ``UNSET``, absent: keep the value, as
``argus.services.writes`` describes). Rules: only unscoped actors configure
notifications; a settings patch merges into the stored settings; a test
notification carries a sample alert.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from argus.domain.actor import Actor
from argus.domain.alerts import Severity
from argus.domain.errors import PermissionDeniedError
from argus.domain.notify import (
    SECRET_FIELDS,
    Channel,
    ChannelKind,
    ChannelSettings,
    Schedule,
    Target,
    Templates,
    settings_from_dict,
)
from argus.services.writes import UNSET, Unset

__all__ = [
    "ChannelChanges",
    "CreatedChannel",
    "DestinationCheck",
    "NewChannel",
    "NewRoute",
    "RouteChanges",
    "merged_settings",
    "require_unscoped",
    "test_payload",
]

DestinationCheck = Callable[[Channel], object]
"""Refuses a channel whose destination may not be reached (raises ``ValidationError``).

It may be a coroutine function; its result is awaited when awaitable."""


@dataclass(frozen=True, slots=True)
class NewChannel:
    """A channel to create (see ``Channel``); secrets in clear, write-only."""

    name: str
    kind: ChannelKind
    settings: ChannelSettings
    enabled: bool = True
    templates: Templates = field(default_factory=Templates)
    rate_per_minute: int = 30


@dataclass(frozen=True, slots=True)
class ChannelChanges:
    """Fields of a channel to change; ``UNSET`` keeps one.

    ``settings`` is merged into the stored settings: fields it names replace
    theirs, a secret it leaves out keeps the stored one, a secret given as
    ``None`` is cleared.
    """

    name: str | Unset = UNSET
    enabled: bool | Unset = UNSET
    templates: Templates | Unset = UNSET
    rate_per_minute: int | Unset = UNSET
    settings: Mapping[str, object] | Unset = UNSET


@dataclass(frozen=True, slots=True)
class CreatedChannel:
    """A created channel, and the webhook secret generated for it (shown once), if any."""

    channel: Channel
    generated_secret: str | None = None


@dataclass(frozen=True, slots=True)
class NewRoute:
    """A route to create (see ``Route`` for the fields)."""

    name: str
    targets: tuple[Target, ...]
    enabled: bool = True
    rule_ids: tuple[str, ...] = ()
    camera_ids: tuple[str, ...] = ()
    min_severity: Severity = "low"
    schedule: Schedule | None = None
    quiet_hours: Schedule | None = None
    quiet_min_severity: Severity = "high"
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class RouteChanges:
    """Fields of a route to change; ``UNSET`` keeps one; ``targets`` replaces the list."""

    name: str | Unset = UNSET
    targets: tuple[Target, ...] | Unset = UNSET
    enabled: bool | Unset = UNSET
    rule_ids: tuple[str, ...] | Unset = UNSET
    camera_ids: tuple[str, ...] | Unset = UNSET
    min_severity: Severity | Unset = UNSET
    schedule: Schedule | Unset | None = UNSET
    quiet_hours: Schedule | Unset | None = UNSET
    quiet_min_severity: Severity | Unset = UNSET
    timezone: str | Unset | None = UNSET


def test_payload(channel: Channel, actor: Actor, now: datetime) -> dict[str, object]:
    """A sample alert, so the channel's templates render as they will for a real one."""
    return {
        "test": True,
        "requested_by": actor.audit_name,
        "channel": {"id": channel.id, "name": channel.name, "kind": channel.kind},
        "alert": {
            "id": "test",
            "rule_id": "test",
            "rule_name": "Test notification",
            "camera_id": "test",
            "severity": "low",
            "state": "new",
            "created_at": now.isoformat(),
            "risk": {"score": 0.0, "severity": "low", "components": []},
        },
        "camera": {"id": "test", "name": "Test camera"},
        "level": 0,
        "links": {},
    }


def require_unscoped(actor: Actor) -> None:
    """Refuse a camera-scoped actor: channels and routes serve every camera."""
    principal = actor.principal
    if principal is not None and principal.cameras is not None:
        raise PermissionDeniedError(
            f"{principal.actor} is limited to some cameras; notification settings serve all"
        )


def merged_settings(channel: Channel, patch: Mapping[str, object]) -> ChannelSettings:
    """The stored settings with ``patch`` applied.

    A secret sent back in its public form (``{"set": true}``, as a form that
    echoes a read does) keeps the stored value, as if it were left out.
    """
    current = cast(dict[str, object], channel.to_dict()["settings"])
    secret = SECRET_FIELDS[channel.kind]
    given = {k: v for k, v in patch.items() if not (k in secret and isinstance(v, Mapping))}
    return settings_from_dict(channel.kind, {**current, **given})
