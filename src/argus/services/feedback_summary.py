"""Operators' verdicts on alerts, counted per rule and per camera: where false positives come from.

An alert an operator reviewed ends either ``false_positive`` (dismissed, with
a reason) or ``confirmed`` (it opened an incident). ``summarize_feedback``
counts both per rule and per camera over a time range, with each group's
false-positive share (dismissed over reviewed) and its most given reasons, so
a rule or a camera that mostly cries wolf stands out. Alerts are read a page
at a time, newest first, up to ``MAX_REVIEWED``; past that the summary says
it is ``truncated`` (narrow the range).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from argus.domain.alerts import Alert
from argus.domain.errors import NotFoundError
from argus.ports.alerts import AlertFilter
from argus.ports.paging import MAX_PAGE
from argus.ports.repositories import Database

__all__ = ["MAX_REASONS", "MAX_REVIEWED", "FeedbackSummary", "VerdictGroup", "summarize_feedback"]

MAX_REVIEWED = 10_000
"""Most reviewed alerts one summary reads. Viewers may ask for it, and each page read
costs in proportion to every alert matched (SQLite, 2 cores: 2 s for 10,000 alerts,
10 s for 20,000), so a wide range is cut off here rather than let it scan everything."""

MAX_REASONS = 5
"""Reasons listed per group, most given first."""


@dataclass(frozen=True, slots=True)
class VerdictGroup:
    """The verdicts on the alerts of one rule or one camera.

    Attributes:
        key: The rule id or camera id.
        name: The rule's name as the alerts recorded it, or the camera's name (its id
            when the camera was removed).
        false_positives: Alerts dismissed as false positives.
        confirmed: Alerts confirmed as real.
        reasons: The most given dismissal reasons and how often (``""``: none given).
    """

    key: str
    name: str
    false_positives: int
    confirmed: int
    reasons: tuple[tuple[str, int], ...]

    @property
    def reviewed(self) -> int:
        """Alerts with a verdict."""
        return self.false_positives + self.confirmed

    @property
    def share(self) -> float:
        """False positives over reviewed alerts (0 when none were reviewed)."""
        return self.false_positives / self.reviewed if self.reviewed else 0.0


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    """Verdicts per rule and per camera, most false positives first.

    Attributes:
        false_positives: Alerts dismissed as false positives, in all.
        confirmed: Alerts confirmed as real, in all.
        by_rule: One group per rule.
        by_camera: One group per camera.
        truncated: More than ``MAX_REVIEWED`` alerts matched; the newest were counted.
    """

    false_positives: int
    confirmed: int
    by_rule: tuple[VerdictGroup, ...]
    by_camera: tuple[VerdictGroup, ...]
    truncated: bool


def _reason(alert: Alert) -> str:
    step = next((t for t in reversed(alert.history) if t.to_state == "false_positive"), None)
    return "" if step is None else " ".join(step.note.split())


def _groups(alerts: Iterable[Alert], key: Callable[[Alert], tuple[str, str]]) -> list[VerdictGroup]:
    names: dict[str, str] = {}
    dismissed: Counter[str] = Counter()
    confirmed: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {}
    for alert in alerts:
        group, name = key(alert)
        names.setdefault(group, name)
        if alert.state == "false_positive":
            dismissed[group] += 1
            reasons.setdefault(group, Counter())[_reason(alert)] += 1
        else:
            confirmed[group] += 1
    made = [
        VerdictGroup(
            key=group,
            name=name,
            false_positives=dismissed[group],
            confirmed=confirmed[group],
            reasons=tuple(reasons.get(group, Counter()).most_common(MAX_REASONS)),
        )
        for group, name in names.items()
    ]
    return sorted(made, key=lambda g: (-g.false_positives, -g.share, g.name, g.key))


async def summarize_feedback(
    database: Database,
    *,
    camera_ids: tuple[str, ...] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> FeedbackSummary:
    """The verdicts on alerts created in ``[since, until)`` of ``camera_ids`` (``None``: all).

    Raises:
        ValidationError: ``since`` or ``until`` is naive.
    """
    where = AlertFilter(
        states=("false_positive", "confirmed"), camera_ids=camera_ids, since=since, until=until
    )
    reviewed: list[Alert] = []
    total = 0
    while len(reviewed) < MAX_REVIEWED:
        page = await database.alerts.list(where, limit=MAX_PAGE, offset=len(reviewed))
        total = page.total
        reviewed += page.items
        if not page.items or len(reviewed) >= page.total:
            break
    reviewed = reviewed[:MAX_REVIEWED]
    dismissed = sum(1 for alert in reviewed if alert.state == "false_positive")
    cameras: dict[str, str] = {}
    for camera_id in sorted({alert.camera_id for alert in reviewed}):
        try:
            cameras[camera_id] = (await database.cameras.get(camera_id)).name
        except NotFoundError:
            cameras[camera_id] = camera_id
    return FeedbackSummary(
        false_positives=dismissed,
        confirmed=len(reviewed) - dismissed,
        by_rule=tuple(_groups(reviewed, lambda a: (a.rule_id, a.rule_name))),
        by_camera=tuple(_groups(reviewed, lambda a: (a.camera_id, cameras[a.camera_id]))),
        truncated=total > len(reviewed),
    )
