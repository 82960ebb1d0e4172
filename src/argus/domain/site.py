"""The site: its time zone and the time zones of cameras that stand elsewhere.

Local time matters twice in alerting: the risk policy's night hours and the
schedules and quiet hours of notification routes are judged in the local time
of the camera that raised the alert. A camera's zone is the site's unless the
site document names another for it (a camera across a border, a remote edge
node). The document is stored in the installation settings under
``SITE_KEY`` as ``{"timezone": "Europe/Berlin", "camera_timezones": {camera_id:
zone}}``; the default zone (the machine's, or ``ARGUS_SITE_TIMEZONE``) is
chosen by the composition root, which may read the host's configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argus.domain.checks import text
from argus.domain.errors import ValidationError

__all__ = ["MAX_CAMERA_TIMEZONES", "SITE_KEY", "Site", "valid_timezone"]

SITE_KEY = "site"
"""Settings key of the site document."""

MAX_CAMERA_TIMEZONES = 10_000
"""Most per-camera time zones one site document holds."""


def valid_timezone(value: object, where: str) -> str:
    """An IANA time zone name ``zoneinfo`` knows (``Europe/Berlin``, ``UTC``).

    Raises:
        ValidationError: ``value`` is not a string naming a known zone.
    """
    name = text(value, where, 64)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        # OSError: a key naming a folder of the database ("America") is no zone.
        raise ValidationError(
            f"{where}: unknown time zone {name!r} (use an IANA name such as Europe/Berlin)"
        ) from exc
    return name


@dataclass(frozen=True, slots=True)
class Site:
    """The site's time zone and per-camera exceptions.

    Attributes:
        timezone: IANA zone of the site, the zone of every camera not listed.
        camera_timezones: Zone per camera id, for cameras elsewhere.
    """

    timezone: str = "UTC"
    camera_timezones: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        valid_timezone(self.timezone, "timezone")
        if not isinstance(self.camera_timezones, Mapping):
            raise ValidationError("camera_timezones must be an object")
        if len(self.camera_timezones) > MAX_CAMERA_TIMEZONES:
            raise ValidationError(f"at most {MAX_CAMERA_TIMEZONES} camera time zones")
        zones = {
            text(camera, "camera_timezones key", 64): valid_timezone(
                zone, f"camera_timezones[{camera!r}]"
            )
            for camera, zone in sorted(self.camera_timezones.items())
        }
        object.__setattr__(self, "camera_timezones", MappingProxyType(zones))

    def zone_of(self, camera_id: str | None) -> str:
        """The zone local time is judged in for ``camera_id`` (the site's if not listed)."""
        if camera_id is None:
            return self.timezone
        return self.camera_timezones.get(camera_id, self.timezone)

    def to_dict(self) -> dict[str, Any]:
        """The stored (and JSON) form."""
        return {"timezone": self.timezone, "camera_timezones": dict(self.camera_timezones)}

    @classmethod
    def from_dict(cls, data: object, *, default_timezone: str = "UTC") -> Site:
        """Parse a site document; a missing ``timezone`` is ``default_timezone``.

        Raises:
            ValidationError: ``data`` is not a site document (unknown keys refused).
        """
        if not isinstance(data, Mapping):
            raise ValidationError("the site must be an object")
        unknown = set(data) - {"timezone", "camera_timezones"}
        if unknown:
            raise ValidationError(f"unknown site field(s): {', '.join(sorted(map(str, unknown)))}")
        zone = data.get("timezone")
        cameras = data.get("camera_timezones") or {}
        if not isinstance(cameras, Mapping):
            raise ValidationError("camera_timezones must be an object of camera id: time zone")
        return cls(
            timezone=default_timezone if zone is None else valid_timezone(zone, "timezone"),
            camera_timezones=dict(cameras),
        )
