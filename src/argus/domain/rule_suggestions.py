"""Rule suggestions: concrete rule changes that false-positive verdicts call for.

Operators' verdicts on a rule's alerts (dismissed as false positive, or
confirmed) are the recorded history. ``suggest`` looks for three patterns in
them and proposes one change for each it finds, with its effect replayed on
that history by the same condition the rule would apply:

* ``threshold``: a higher ``min_confidence``; a rule with a threshold needs
  the event to report a confidence of at least it (an event without one is
  held back, as ``Rule.matches`` does).
* ``schedule``: hours of the day (in the site's time zone) when false
  positives cluster; the rule's schedule becomes "active outside them"
  (``Schedule.active`` judges each alert's time).
* ``exclusion_zone``: a rectangle of the frame (normalised coordinates) where
  the false positives' objects stood (their foot point: the event's ``point``,
  or from the trajectory log for events recorded before events carried one).
  Applied, it becomes one more of the rule's ``exclude_areas``; its effect is
  judged by ``exclusion_areas.contains``, the test the rule applies. An alert
  without a known position is never counted as suppressed (the rule never
  excludes an event without a point either).

A change is proposed only when it would have suppressed at least
``min_false_positives`` false positives and ``min_share`` of them, and lost at
most ``max_true_loss`` of the confirmed alerts; of the candidates the one
suppressing most false positives wins (ties: the gentlest change).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from argus.domain.checks import aware_utc, unit_interval
from argus.domain.errors import ValidationError
from argus.domain.exclusion_areas import Area, contains
from argus.domain.rules import Rule
from argus.domain.schedule import Schedule

__all__ = [
    "SUGGESTION_KINDS",
    "Effect",
    "RuleSuggestion",
    "SuggestionKind",
    "SuggestionLimits",
    "Verdict",
    "suggest",
]

SuggestionKind = Literal["threshold", "schedule", "exclusion_zone"]
SUGGESTION_KINDS: tuple[SuggestionKind, ...] = ("threshold", "schedule", "exclusion_zone")
_MARGIN = 0.02
"""Room left around the false positives' positions in a proposed exclusion zone."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """One reviewed alert of a rule, as the suggestions see it.

    Attributes:
        alert_id: The alert.
        false_positive: Dismissed as a false positive (else confirmed).
        at: When its event happened (UTC).
        confidence: The detection confidence its event reported, if any.
        position: The object's foot point, ``(x, y)`` in [0, 1] of the frame, if known.
    """

    alert_id: str
    false_positive: bool
    at: datetime
    confidence: float | None = None
    position: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", aware_utc(self.at, "at"))
        if self.confidence is not None:
            unit_interval(self.confidence, "confidence")
        if self.position is not None:
            x, y = self.position
            object.__setattr__(
                self, "position", (unit_interval(x, "position.x"), unit_interval(y, "position.y"))
            )


@dataclass(frozen=True, slots=True)
class SuggestionLimits:
    """When a change is worth proposing.

    Attributes:
        min_false_positives: It suppresses at least this many past false positives.
        min_share: And at least this share of the rule's false positives.
        max_true_loss: It loses at most this share of the confirmed alerts (rounded down).
        max_quiet_hours: A schedule silences at most this many hours a day.
        grid: Cells per side of the grid false positives are clustered on.
    """

    min_false_positives: int = 3
    min_share: float = 0.2
    max_true_loss: float = 0.1
    max_quiet_hours: int = 8
    grid: int = 8

    def __post_init__(self) -> None:
        if self.min_false_positives < 1 or not 1 <= self.max_quiet_hours <= 23:
            raise ValidationError("min_false_positives >= 1 and max_quiet_hours in [1, 23]")
        if not 2 <= self.grid <= 64:
            raise ValidationError("grid must be in [2, 64]")
        unit_interval(self.min_share, "min_share")
        unit_interval(self.max_true_loss, "max_true_loss")


@dataclass(frozen=True, slots=True)
class Effect:
    """What a change would have done to the recorded history.

    Attributes:
        false_positives: Past false positives it would have suppressed.
        false_positive_total: The rule's false positives considered.
        confirmed_lost: Past confirmed alerts it would have suppressed too.
        confirmed_total: The rule's confirmed alerts considered.
    """

    false_positives: int
    false_positive_total: int
    confirmed_lost: int
    confirmed_total: int

    def to_dict(self) -> dict[str, int]:
        """The JSON-ready form."""
        return {
            "false_positives": self.false_positives,
            "false_positive_total": self.false_positive_total,
            "confirmed_lost": self.confirmed_lost,
            "confirmed_total": self.confirmed_total,
        }


@dataclass(frozen=True, slots=True)
class RuleSuggestion:
    """A proposed change of one rule and its effect on history.

    Attributes:
        id: Stable for the same rule, kind and change (a refresh keeps it).
        kind: ``threshold``, ``schedule`` or ``exclusion_zone``.
        rule_id: The rule.
        rule_name: Its name.
        camera_id: The rule's camera (``None``: a rule of every camera).
        summary: The change in words.
        change: The change, JSON-ready: ``{"min_confidence": t}``,
            ``{"schedule": Schedule.to_dict()}`` or ``{"polygon": [[x, y], ...]}``
            (normalised frame coordinates).
        effect: Its effect on the recorded history.
        applicable: Whether the system can apply it (every kind can, today; kept for
            suggestions stored before exclusion zones could be applied).
    """

    id: str
    kind: SuggestionKind
    rule_id: str
    rule_name: str
    camera_id: str | None
    summary: str
    change: Mapping[str, object] = field(hash=False)
    effect: Effect
    applicable: bool = True


def _suppressed(
    verdicts: Sequence[Verdict], held: Callable[[Verdict], bool]
) -> tuple[Effect, list[Verdict]]:
    fps = [v for v in verdicts if v.false_positive]
    tps = [v for v in verdicts if not v.false_positive]
    out = [v for v in verdicts if held(v)]
    lost = sum(1 for v in out if not v.false_positive)
    return Effect(len(out) - lost, len(fps), lost, len(tps)), out


def _worth(effect: Effect, limits: SuggestionLimits) -> bool:
    allowed = math.floor(limits.max_true_loss * effect.confirmed_total + 1e-9)
    return (
        effect.false_positives >= limits.min_false_positives
        and effect.false_positives >= limits.min_share * effect.false_positive_total
        and effect.confirmed_lost <= allowed
    )


def _below(threshold: float) -> Callable[[Verdict], bool]:
    """Held back by ``min_confidence = threshold`` (no reported confidence included)."""

    def held(v: Verdict) -> bool:
        return v.confidence is None or v.confidence < threshold

    return held


def _outside(schedule: Schedule) -> Callable[[Verdict], bool]:
    def held(v: Verdict) -> bool:
        return not schedule.active(v.at)

    return held


def _threshold(
    rule: Rule, verdicts: Sequence[Verdict], limits: SuggestionLimits
) -> tuple[float, Effect] | None:
    current = rule.min_confidence or 0.0
    candidates = sorted(
        {
            round(min(1.0, math.floor(v.confidence * 100 + 1e-9) / 100 + 0.01), 2)
            for v in verdicts
            if v.false_positive and v.confidence is not None and v.confidence >= current
        }
    )
    best: tuple[float, Effect] | None = None
    for t in candidates:
        if t <= current:
            continue
        effect, _ = _suppressed(verdicts, _below(t))
        if _worth(effect, limits) and (
            best is None or effect.false_positives > best[1].false_positives
        ):
            best = (t, effect)
    return best


def _schedule(
    verdicts: Sequence[Verdict], timezone: str, limits: SuggestionLimits
) -> tuple[Schedule, int, int, Effect] | None:
    zone = ZoneInfo(timezone)
    hours = [v.at.astimezone(zone).hour for v in verdicts]
    best: tuple[Schedule, int, int, Effect] | None = None
    for length in range(1, limits.max_quiet_hours + 1):
        for start in range(24):
            quiet = {(start + i) % 24 for i in range(length)}
            hits = sum(
                1 for h, v in zip(hours, verdicts, strict=True) if v.false_positive and h in quiet
            )
            if hits < limits.min_false_positives:
                continue
            schedule = Schedule(
                start=time((start + length) % 24), end=time(start), timezone=timezone
            )
            effect, _ = _suppressed(verdicts, _outside(schedule))
            if _worth(effect, limits) and (
                best is None or effect.false_positives > best[3].false_positives
            ):
                best = (schedule, start, length, effect)
    return best


def _corners(box: tuple[float, float, float, float]) -> Area:
    return ((box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3]))


def _in_box(box: tuple[float, float, float, float]) -> Callable[[Verdict], bool]:
    area = _corners(box)

    def held(v: Verdict) -> bool:
        return v.position is not None and contains(area, v.position)

    return held


def _zone(
    verdicts: Sequence[Verdict], limits: SuggestionLimits
) -> tuple[tuple[float, float, float, float], Effect] | None:
    g = limits.grid
    placed = [v for v in verdicts if v.false_positive and v.position is not None]
    best: tuple[tuple[float, float, float, float], Effect] | None = None
    for size in (1, 2, 3):
        for cx in range(g - size + 1):
            for cy in range(g - size + 1):
                lo_x, hi_x, lo_y, hi_y = cx / g, (cx + size) / g, cy / g, (cy + size) / g
                inside = [
                    p
                    for v in placed
                    if (p := v.position) is not None
                    and lo_x <= p[0] <= hi_x
                    and lo_y <= p[1] <= hi_y
                ]
                if len(inside) < limits.min_false_positives:
                    continue
                box = (
                    round(max(0.0, min(p[0] for p in inside) - _MARGIN), 3),
                    round(max(0.0, min(p[1] for p in inside) - _MARGIN), 3),
                    round(min(1.0, max(p[0] for p in inside) + _MARGIN), 3),
                    round(min(1.0, max(p[1] for p in inside) + _MARGIN), 3),
                )
                effect, _ = _suppressed(verdicts, _in_box(box))
                if not _worth(effect, limits):
                    continue
                area = (box[2] - box[0]) * (box[3] - box[1])
                if best is None or (effect.false_positives, -area) > (
                    best[1].false_positives,
                    -(best[0][2] - best[0][0]) * (best[0][3] - best[0][1]),
                ):
                    best = (box, effect)
    return best


def _id(rule: Rule, kind: str, change: Mapping[str, object]) -> str:
    text = json.dumps([rule.id, kind, change], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _share(effect: Effect) -> str:
    return (
        f"{effect.false_positives} of {effect.false_positive_total} false positives suppressed, "
        f"{effect.confirmed_lost} of {effect.confirmed_total} confirmed alerts lost"
    )


def suggest(
    rule: Rule,
    verdicts: Sequence[Verdict],
    *,
    timezone: str = "UTC",
    limits: SuggestionLimits | None = None,
) -> tuple[RuleSuggestion, ...]:
    """The changes of ``rule`` its verdicts call for, at most one of each kind.

    Args:
        rule: The rule as stored now.
        verdicts: Its reviewed alerts (of its camera, or of every camera for a
            rule of every camera).
        timezone: Where hours of the day are judged (IANA name).
        limits: When a change is worth proposing.
    """
    limits = limits or SuggestionLimits()
    if not any(v.false_positive for v in verdicts):
        return ()
    out: list[RuleSuggestion] = []

    def add(kind: SuggestionKind, change: dict[str, object], summary: str, effect: Effect) -> None:
        out.append(
            RuleSuggestion(
                id=_id(rule, kind, change),
                kind=kind,
                rule_id=rule.id,
                rule_name=rule.name,
                camera_id=rule.camera_id,
                summary=f"{summary} ({_share(effect)}).",
                change=change,
                effect=effect,
                applicable=True,
            )
        )

    threshold = _threshold(rule, verdicts, limits)
    if threshold is not None:
        t, effect = threshold
        classes = f" for {', '.join(rule.classes)}" if rule.classes else ""
        add(
            "threshold",
            {"min_confidence": t},
            f"Raise the confidence threshold{classes} to {t:.2f}",
            effect,
        )
    if rule.schedule is None:
        quiet = _schedule(verdicts, timezone, limits)
        if quiet is not None:
            schedule, start, length, effect = quiet
            end = (start + length) % 24
            add(
                "schedule",
                {"schedule": schedule.to_dict()},
                f"Stay silent from {start:02d}:00 to {end:02d}:00 ({timezone})",
                effect,
            )
    zone = _zone(verdicts, limits)
    if zone is not None:
        box, effect = zone
        polygon = [list(corner) for corner in _corners(box)]
        add(
            "exclusion_zone",
            {"polygon": polygon},
            f"Exclude the area x {box[0]:.2f}-{box[2]:.2f}, y {box[1]:.2f}-{box[3]:.2f}"
            " of the frame",
            effect,
        )
    return tuple(out)
