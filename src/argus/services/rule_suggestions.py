"""Rule suggestions from false-positive verdicts, each with its effect on the recorded history.

``RuleSuggestions.refresh`` reads the reviewed alerts of the last ``days``
(dismissed as false positive, or confirmed), with each one's detection
confidence and the object's foot point (both from its event: the pipeline puts
``point`` on tracked events; for events recorded before it did, the point comes
from the camera's ``tracks.minute`` trajectory log, as the alert overlay reads it), groups them
by rule and asks ``domain.rule_suggestions.suggest`` for changes. The list is
kept in the settings store under ``SUGGESTIONS_KEY`` with each suggestion's
decision: ``apply`` changes the rule through ``RuleService.update`` (audited
``rule.update`` there: a threshold, a schedule, or one more of the rule's
``exclude_areas``) and records ``suggestion.apply``; ``dismiss`` records
``suggestion.dismiss``. Ids are stable, so a refresh keeps decisions.

A camera-scoped admin sees and decides the suggestions of its cameras' rules only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from argus.domain.actor import Actor
from argus.domain.alerts import Alert
from argus.domain.alerts.overlay import PATH_SPAN, box_at, track_path
from argus.domain.cameras import utc_now
from argus.domain.errors import ConflictError, NotFoundError, ValidationError
from argus.domain.event_payloads import TracksMinute
from argus.domain.exclusion_areas import MAX_AREAS, check_areas, event_point
from argus.domain.rule_suggestions import (
    Effect,
    RuleSuggestion,
    SuggestionLimits,
    Verdict,
    suggest,
)
from argus.domain.rules import Schedule, event_confidence
from argus.ports.alerts import AlertFilter
from argus.ports.paging import MAX_PAGE
from argus.ports.repositories import Database, EventFilter
from argus.services.alert_rules import RuleChanges, RuleService
from argus.services.risk_policy import RiskPolicyService
from argus.services.writes import record, require_camera, require_visible

__all__ = ["MAX_VERDICTS", "SUGGESTIONS_KEY", "RuleSuggestions", "StoredSuggestion"]

SUGGESTIONS_KEY = "rule_suggestions"
MAX_VERDICTS = 5_000
"""Most reviewed alerts one refresh reads (the newest)."""

State = Literal["open", "applied", "dismissed"]


@dataclass(frozen=True, slots=True)
class StoredSuggestion:
    """A suggestion with its decision.

    Attributes:
        suggestion: The proposed change and its effect.
        state: ``open``, ``applied`` or ``dismissed``.
        decided_by: Who applied or dismissed it.
        decided_at: When.
        computed_at: When the list it belongs to was computed.
    """

    suggestion: RuleSuggestion
    state: State
    decided_by: str | None
    decided_at: datetime | None
    computed_at: datetime


def _encode(s: RuleSuggestion) -> dict[str, Any]:
    return {
        "id": s.id,
        "kind": s.kind,
        "rule_id": s.rule_id,
        "rule_name": s.rule_name,
        "camera_id": s.camera_id,
        "summary": s.summary,
        "change": dict(s.change),
        "effect": s.effect.to_dict(),
        "applicable": s.applicable,
    }


def _decode(d: dict[str, Any]) -> RuleSuggestion:
    e = d["effect"]
    effect = Effect(
        int(e["false_positives"]),
        int(e["false_positive_total"]),
        int(e["confirmed_lost"]),
        int(e["confirmed_total"]),
    )
    return RuleSuggestion(
        id=str(d["id"]),
        kind=d["kind"],
        rule_id=str(d["rule_id"]),
        rule_name=str(d["rule_name"]),
        camera_id=d["camera_id"],
        summary=str(d["summary"]),
        change=dict(d["change"]),
        effect=effect,
        # Lists stored before exclusion zones could be applied said they could not be.
        applicable=True,
    )


class RuleSuggestions:
    """Computes, lists, applies and dismisses rule suggestions.

    Args:
        database: The store (alerts, events, rules, settings, audit).
        rules: The rules' write boundary (applying changes a rule through it).
        policies: The risk policy (the time zone hours of the day are judged in).
        days: How far back a refresh reads verdicts.
        limits: When a change is worth proposing.
        clock: The current UTC time.
    """

    def __init__(
        self,
        database: Database,
        rules: RuleService,
        policies: RiskPolicyService,
        *,
        days: float = 30.0,
        limits: SuggestionLimits | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = database
        self._rules = rules
        self._policies = policies
        self._days = days
        self._limits = limits or SuggestionLimits()
        self._clock = clock

    async def refresh(self, actor: Actor) -> tuple[StoredSuggestion, ...]:
        """Recompute the suggestions from the verdicts of the last ``days`` (audited)."""
        now = self._clock()
        verdicts = await self._verdicts(now - timedelta(days=self._days), now)
        policy = await self._policies.get()
        found: list[RuleSuggestion] = []
        for rule_id, items in verdicts.items():
            try:
                rule = await self._db.rules.get(rule_id)
            except NotFoundError:
                continue
            found += suggest(
                rule, items, timezone=policy.zone_of(rule.camera_id), limits=self._limits
            )
        async with self._db.unit_of_work() as unit:
            doc = await unit.settings.get(SUGGESTIONS_KEY) or {}
            decisions = doc.get("decisions", {})
            kept = {i: d for i, d in decisions.items() if d.get("state") != "open"}
            fresh = {
                "computed_at": now.isoformat(),
                "items": [_encode(s) for s in found],
                "decisions": kept,
            }
            await unit.settings.put(SUGGESTIONS_KEY, fresh, now)
            await record(unit.audit, actor, "suggestion.refresh", "suggestions", found=len(found))
        return await self.listing(actor)

    async def listing(
        self, actor: Actor, state: State | None = None
    ) -> tuple[StoredSuggestion, ...]:
        """The last computed suggestions the actor may see (its cameras' rules)."""
        doc = await self._db.settings.get(SUGGESTIONS_KEY) or {}
        return tuple(
            s
            for s in self._stored(doc)
            if (state is None or s.state == state)
            and (actor.principal is None or actor.principal.sees_camera(s.suggestion.camera_id))
        )

    async def apply(self, actor: Actor, suggestion_id: str) -> StoredSuggestion:
        """Change the rule as the suggestion says (audited), and mark it applied.

        Raises:
            NotFoundError: Unknown suggestion, or its rule's camera is outside the scope.
            ConflictError: It was already decided, or the rule changed since in a
                way that makes it stale (a threshold as high, a schedule, the same
                exclusion area, or as many areas as a rule may hold).
        """
        current = await self._open(actor, suggestion_id)
        s = current.suggestion
        require_camera(actor, s.camera_id)
        rule = await self._rules.get(actor, s.rule_id)
        if s.kind == "threshold":
            value = s.change["min_confidence"]
            if not isinstance(value, int | float):
                raise ValidationError("stored threshold is not a number")
            if rule.min_confidence is not None and rule.min_confidence >= value:
                raise ConflictError("the rule's threshold is already as high: recompute")
            changes = RuleChanges(min_confidence=float(value))
        elif s.kind == "exclusion_zone":
            (area,) = check_areas([s.change["polygon"]], "suggested polygon")
            if area in rule.exclude_areas:
                raise ConflictError("the rule already excludes this area: recompute")
            if len(rule.exclude_areas) >= MAX_AREAS:
                raise ConflictError(f"the rule already has {MAX_AREAS} exclusion areas")
            changes = RuleChanges(exclude_areas=(*rule.exclude_areas, area))
        else:
            if rule.schedule is not None:
                raise ConflictError("the rule got a schedule since: recompute")
            changes = RuleChanges(schedule=Schedule.from_dict(s.change["schedule"]))
        await self._rules.update(actor, s.rule_id, changes)
        return await self._decide(actor, current, "applied", "")

    async def dismiss(self, actor: Actor, suggestion_id: str, note: str = "") -> StoredSuggestion:
        """Mark the suggestion dismissed (audited); a refresh will not reopen it.

        Raises:
            NotFoundError: Unknown suggestion, or outside the actor's scope.
            ConflictError: It was already decided.
        """
        current = await self._open(actor, suggestion_id)
        return await self._decide(actor, current, "dismissed", note[:500])

    async def _open(self, actor: Actor, suggestion_id: str) -> StoredSuggestion:
        doc = await self._db.settings.get(SUGGESTIONS_KEY) or {}
        found = next((s for s in self._stored(doc) if s.suggestion.id == suggestion_id), None)
        if found is None:
            raise NotFoundError(f"no suggestion {suggestion_id}")
        require_visible(actor, found.suggestion.camera_id, f"suggestion {suggestion_id}")
        if found.state != "open":
            raise ConflictError(f"suggestion {suggestion_id} is already {found.state}")
        return found

    async def _decide(
        self, actor: Actor, current: StoredSuggestion, state: State, note: str
    ) -> StoredSuggestion:
        now = self._clock()
        s = current.suggestion
        async with self._db.unit_of_work() as unit:
            doc = await unit.settings.get(SUGGESTIONS_KEY) or {}
            decisions = dict(doc.get("decisions", {}))
            if decisions.get(s.id, {}).get("state", "open") != "open":
                raise ConflictError(f"suggestion {s.id} was decided meanwhile")
            decisions[s.id] = {"state": state, "by": actor.audit_name, "at": now.isoformat()}
            await unit.settings.put(SUGGESTIONS_KEY, {**doc, "decisions": decisions}, now)
            action = "suggestion.apply" if state == "applied" else "suggestion.dismiss"
            await record(
                unit.audit,
                actor,
                action,
                f"rule:{s.rule_id}",
                suggestion=s.id,
                kind=s.kind,
                change=dict(s.change),
                effect=s.effect.to_dict(),
                note=note,
            )
        return StoredSuggestion(s, state, actor.audit_name, now, current.computed_at)

    def _stored(self, doc: dict[str, Any]) -> list[StoredSuggestion]:
        if not doc:
            return []
        computed = datetime.fromisoformat(str(doc["computed_at"]))
        decisions: dict[str, dict[str, Any]] = doc.get("decisions", {})
        out: list[StoredSuggestion] = []
        for raw in doc.get("items", []):
            s = _decode(raw)
            d = decisions.get(s.id, {})
            at = d.get("at")
            out.append(
                StoredSuggestion(
                    s,
                    d.get("state", "open"),
                    d.get("by"),
                    None if at is None else datetime.fromisoformat(at),
                    computed,
                )
            )
        return out

    async def _verdicts(self, since: datetime, until: datetime) -> dict[str, list[Verdict]]:
        """Reviewed alerts of ``[since, until)`` as verdicts, per rule (newest ``MAX_VERDICTS``)."""
        where = AlertFilter(states=("false_positive", "confirmed"), since=since, until=until)
        alerts: list[Alert] = []
        while len(alerts) < MAX_VERDICTS:
            page = await self._db.alerts.list(where, limit=MAX_PAGE, offset=len(alerts))
            alerts += page.items
            if not page.items or len(alerts) >= page.total:
                break
        out: dict[str, list[Verdict]] = {}
        minutes: dict[tuple[str, datetime], list[tuple[datetime, dict[str, object]]]] = {}
        for alert in alerts[:MAX_VERDICTS]:
            out.setdefault(alert.rule_id, []).append(await self._verdict(alert, minutes))
        return out

    async def _verdict(
        self,
        alert: Alert,
        cache: dict[tuple[str, datetime], list[tuple[datetime, dict[str, object]]]],
    ) -> Verdict:
        try:
            event = await self._db.events.get(alert.event_id)
        except NotFoundError:
            confidence, position = None, None
        else:
            confidence, position = event_confidence(event), event_point(event.payload)
        if confidence is not None and not 0.0 <= confidence <= 1.0:
            confidence = None
        if position is None and alert.track_id is not None:
            start = (alert.event_time - PATH_SPAN).replace(second=0, microsecond=0)
            key = (alert.camera_id, start)
            if key not in cache:
                where = EventFilter(
                    camera_id=alert.camera_id,
                    types=(TracksMinute.type,),
                    since=start,
                    until=start + timedelta(minutes=1) + 2 * PATH_SPAN,
                )
                page = await self._db.events.query(where, limit=MAX_PAGE)
                cache[key] = [(e.timestamp, dict(e.payload)) for e in page.items]
            path = track_path(cache[key], alert.track_id, alert.event_time)
            box = box_at(path, alert.event_time) if path is not None else None
            if path is not None and box is not None:
                x = (box.xyxy[0] + box.xyxy[2]) / 2 / path.frame_width
                y = box.xyxy[3] / path.frame_height
                position = (min(1.0, max(0.0, x)), min(1.0, max(0.0, y)))
        return Verdict(
            alert.id, alert.state == "false_positive", alert.event_time, confidence, position
        )
