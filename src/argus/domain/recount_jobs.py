"""Re-count jobs: a camera's recorded period counted again from its trajectory log.

A job names a camera and a period (at most ``MAX_RECOUNT_DAYS``); a worker of
the control plane (``argus.services.recount_jobs``) runs it: per line of the
camera, the *live* count (the ``line.crossed`` events of the period) beside
the *re-counted* one (``argus.domain.analytics.recount`` over the period's
``tracks.minute`` events). Jobs move ``queued`` -> ``running`` -> ``done`` or
``failed``; a job found ``running`` when a server starts is queued again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from argus.domain.errors import ValidationError

__all__ = [
    "MAX_RECOUNT_DAYS",
    "RECOUNT_STATUSES",
    "LineRecount",
    "RecountJob",
    "RecountStatus",
    "check_period",
]

RecountStatus = Literal["queued", "running", "done", "failed"]
RECOUNT_STATUSES: tuple[RecountStatus, ...] = get_args(RecountStatus)

MAX_RECOUNT_DAYS = 31
"""The longest period one job may cover."""


def check_period(start: datetime, end: datetime) -> None:
    """Refuse a period that is naive, empty or longer than ``MAX_RECOUNT_DAYS``.

    Raises:
        ValidationError: Which of those, in words.
    """
    for name, moment in (("start", start), ("end", end)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValidationError(f"{name} must be timezone-aware")
    if end <= start:
        raise ValidationError("end must be after start")
    if end - start > timedelta(days=MAX_RECOUNT_DAYS):
        raise ValidationError(f"a re-count covers at most {MAX_RECOUNT_DAYS} days")


@dataclass(frozen=True, slots=True)
class LineRecount:
    """One line's live and re-counted crossings over a job's period.

    Attributes:
        line: The line's name.
        live_in: ``line.crossed`` events ``in`` in the period.
        live_out: ``line.crossed`` events ``out``.
        recounted_in: Crossings ``in`` the re-count found.
        recounted_out: Crossings ``out`` the re-count found.
    """

    line: str
    live_in: int
    live_out: int
    recounted_in: int
    recounted_out: int

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form (as stored and served)."""
        return {
            "line": self.line,
            "live": {"in": self.live_in, "out": self.live_out},
            "recounted": {"in": self.recounted_in, "out": self.recounted_out},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> LineRecount:
        """Read ``to_dict``'s form back.

        Raises:
            ValidationError: It is not that form.
        """
        try:
            live, recounted = data["live"], data["recounted"]
            if not isinstance(live, Mapping) or not isinstance(recounted, Mapping):
                raise TypeError("live and recounted must be objects")
            return cls(
                str(data["line"]),
                int(live["in"]),
                int(live["out"]),
                int(recounted["in"]),
                int(recounted["out"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"a malformed line result: {exc}") from exc


@dataclass(frozen=True, slots=True)
class RecountJob:
    """A re-count of one camera's period.

    Attributes:
        id: Stable id.
        camera_id: The camera.
        start: First instant of the period (UTC).
        end: End of the period, excluded.
        status: Where the job is.
        requested_by: Who asked (the audit name of the actor).
        created_at: When it was asked for.
        started_at: When a worker last took it, if one did.
        finished_at: When it ended, if it did.
        lines: Per line of the camera, live and re-counted (when ``done``).
        samples: Trajectory samples the re-count read.
        error: Why it failed (when ``failed``).
    """

    id: str
    camera_id: str
    start: datetime
    end: datetime
    status: RecountStatus
    requested_by: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    lines: tuple[LineRecount, ...] = ()
    samples: int = 0
    error: str | None = None

    def __post_init__(self) -> None:
        check_period(self.start, self.end)
        if self.status not in RECOUNT_STATUSES:
            raise ValidationError(f"status must be one of {list(RECOUNT_STATUSES)}")
