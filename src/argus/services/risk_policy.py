"""``RiskPolicyService``: the editable risk policy and the site's time zones.

The risk policy (weights, night hours, day value, dwell and repeat scales, an
optional fixed time zone) is a document in the installation settings under
``RISK_POLICY_KEY``; the site (its time zone and per-camera exceptions) under
``SITE_KEY``. Until one is stored the composition root's defaults apply (the
``ARGUS_RISK_*`` settings; ``ARGUS_SITE_TIMEZONE`` or the machine's zone).
Every write is validated, stored and audited (``risk_policy.update``,
``site.update``) in one unit of work.

``current`` is what ``AlertService`` scores with (its ``risk_source``): the
stored policy resolved against the site, cached for ``refresh_seconds`` so
that a change made on another server is picked up as quickly as a rule change.
``preview`` answers what the policy would give an event, for the editor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argus.domain.actor import Actor
from argus.domain.alerts import Risk, RiskContext, RiskPolicy, assess_risk
from argus.domain.alerts.risk import RISK_POLICY_KEY
from argus.domain.cameras import utc_now
from argus.domain.errors import ValidationError
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.rules import Match, Rule
from argus.domain.site import SITE_KEY, Site
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.repositories import Database
from argus.services.writes import record, require_camera, require_visible

__all__ = ["RiskPolicyService", "RiskPreview", "score_hypothetical", "zone_criticality"]


async def zone_criticality(database: Database, camera_id: str) -> dict[str, float]:
    """The criticality of each of the camera's zones, by zone name."""
    zones = await all_pages(
        lambda skip: database.zones.list(camera_id, limit=MAX_PAGE, offset=skip)
    )
    return {zone.name: zone.criticality for zone in zones}


def score_hypothetical(
    rule: Rule,
    camera_id: str,
    at: datetime,
    payload: Mapping[str, object],
    *,
    context: RiskContext,
    policy: RiskPolicy,
    window_count: int = 1,
) -> Risk:
    """The risk ``policy`` gives an alert of ``rule`` on an event that did not happen.

    The event is of the rule's first type (``preview`` when it names none), at
    ``at`` on ``camera_id``, with ``payload``, matched ``window_count`` times.
    """
    envelope = Envelope(
        event_id=new_event_id(),
        type=rule.event_types[0] if rule.event_types else "preview",
        timestamp=at,
        source=EventSource("preview", camera_id),
        payload=dict(payload),
    )
    return assess_risk(Match(rule, envelope, window_count), context, policy)


@dataclass(frozen=True, slots=True)
class RiskPreview:
    """An event the policy editor asks about.

    Attributes:
        rule_id: The rule that would fire.
        camera_id: The camera of the event (its zone decides local time).
        at: When the event happens (UTC).
        confidence: Detection confidence, if reported.
        dwell: Dwell in seconds, if reported.
        zone: Name of the event's zone (its criticality counts), if any.
        recent_alerts: Earlier alerts of the rule and camera within the repeat window.
    """

    rule_id: str
    camera_id: str
    at: datetime
    confidence: float | None = None
    dwell: float | None = None
    zone: str | None = None
    recent_alerts: int = 0


class RiskPolicyService:
    """The stored risk policy and site, with defaults, validation and audit.

    Args:
        database: The store (settings, audit, rules, zones).
        clock: Current UTC time.
        defaults: The policy before one is stored (``bootstrap.policies.risk_policy``).
        site_default: The site before one is stored (``bootstrap.policies.site_defaults``).
        refresh_seconds: How stale ``current`` may get (changes made on another server).
    """

    def __init__(
        self,
        database: Database,
        clock: Callable[[], datetime] = utc_now,
        *,
        defaults: RiskPolicy | None = None,
        site_default: Site | None = None,
        refresh_seconds: float = 2.0,
    ) -> None:
        self._db = database
        self._clock = clock
        self._defaults = defaults if defaults is not None else RiskPolicy()
        self._site_default = site_default if site_default is not None else Site()
        self._refresh = refresh_seconds
        self._cached: tuple[float, RiskPolicy] | None = None

    # --- reading ---------------------------------------------------------------------------

    async def get(self) -> RiskPolicy:
        """The stored policy over the defaults, resolved against the stored site."""
        stored = await self._db.settings.get(RISK_POLICY_KEY)
        policy = self._defaults if stored is None else self._parse_stored(stored)
        return policy.with_site(await self.site())

    async def current(self) -> RiskPolicy:
        """``get``, cached for ``refresh_seconds`` (``AlertService``'s risk source)."""
        cached = self._cached
        if cached is not None and time.monotonic() - cached[0] <= self._refresh:
            return cached[1]
        policy = await self.get()
        self._cached = (time.monotonic(), policy)
        return policy

    async def site(self) -> Site:
        """The stored site, else the default (its time zone fills a stored one's gap)."""
        stored = await self._db.settings.get(SITE_KEY)
        if stored is None:
            return self._site_default
        return Site.from_dict(stored, default_timezone=self._site_default.timezone)

    @property
    def default_policy(self) -> RiskPolicy:
        """The policy in force while none is stored."""
        return self._defaults

    @property
    def default_site(self) -> Site:
        """The site in force while none is stored."""
        return self._site_default

    def _parse_stored(self, stored: Mapping[str, Any]) -> RiskPolicy:
        return RiskPolicy.from_dict(stored, base=self._defaults)

    # --- writing ---------------------------------------------------------------------------

    async def update(self, actor: Actor, document: Mapping[str, Any]) -> RiskPolicy:
        """Replace the policy with ``document`` (missing fields: the defaults); audited.

        Raises:
            ValidationError: The document is invalid (nothing is stored).
        """
        policy = RiskPolicy.from_dict(document, base=self._defaults)
        site = await self.site()
        async with self._db.unit_of_work() as unit:
            await unit.settings.put(RISK_POLICY_KEY, policy.to_dict(), self._clock())
            await record(
                unit.audit, actor, "risk_policy.update", "settings:risk_policy", **policy.to_dict()
            )
        self._cached = None
        return policy.with_site(site)

    async def update_site(self, actor: Actor, document: Mapping[str, Any]) -> Site:
        """Replace the site with ``document``; every camera it names must exist. Audited.

        Raises:
            ValidationError: The document is invalid or names an unknown camera.
            PermissionDeniedError: A camera outside the actor's scope.
        """
        site = Site.from_dict(document, default_timezone=self._site_default.timezone)
        for camera_id in site.camera_timezones:
            require_camera(actor, camera_id)
        cameras = await all_pages(lambda skip: self._db.cameras.list(limit=MAX_PAGE, offset=skip))
        known = {camera.id for camera in cameras}
        unknown = sorted(set(site.camera_timezones) - known)
        if unknown:
            raise ValidationError(f"camera_timezones: unknown camera(s) {', '.join(unknown)}")
        async with self._db.unit_of_work() as unit:
            await unit.settings.put(SITE_KEY, site.to_dict(), self._clock())
            await record(unit.audit, actor, "site.update", "settings:site", **site.to_dict())
        self._cached = None
        return site

    # --- preview ---------------------------------------------------------------------------

    async def preview(
        self, actor: Actor, request: RiskPreview, policy: Mapping[str, Any] | None = None
    ) -> tuple[Risk, RiskPolicy]:
        """The risk ``policy`` (a draft document; else the stored one) gives ``request``'s event.

        Returns:
            The explained risk, and the policy (resolved against the site) that gave it.

        Raises:
            NotFoundError: Unknown rule or camera (or one outside the actor's scope).
            ValidationError: An invalid draft or request.
        """
        require_visible(actor, request.camera_id, f"camera {request.camera_id}")
        camera = await self._db.cameras.get(request.camera_id)
        rule = await self._db.rules.get(request.rule_id)
        site = await self.site()
        chosen = (
            await self.get()
            if policy is None
            else RiskPolicy.from_dict(policy, base=self._defaults).with_site(site)
        )
        if request.recent_alerts < 0:
            raise ValidationError("recent_alerts must be >= 0")
        payload: dict[str, object] = {}
        if request.confidence is not None:
            payload["confidence"] = request.confidence
        if request.dwell is not None:
            payload["dwell_seconds"] = request.dwell
        criticality: float | None = None
        if request.zone is not None:
            payload["zone"] = request.zone
            criticality = (await zone_criticality(self._db, camera.id)).get(request.zone)
        context = RiskContext(criticality, request.recent_alerts)
        risk = score_hypothetical(
            rule, camera.id, request.at, payload, context=context, policy=chosen
        )
        return risk, chosen
