"""What is known about evidence that is not there or not right: gaps and tampered rows.

An ``EvidenceGap`` says that an alert's evidence was not captured, and why:
``shed`` (the capture queue was full and this alert was the lowest severity
waiting), ``no_frames`` (no buffered frames covered the moment) or
``failed`` (the capture or the store raised, e.g. a full disk). An alert
without evidence and without a gap is one whose capture is still pending;
an operator can tell the difference.

A ``TamperedEvidence`` is a stored metadata row that contradicts itself
(its columns disagree with its body, or the body does not parse). Listings
report it in place, flagged, instead of failing the whole page; its content is
never served.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Self, get_args

from argus.domain.checks import aware_utc, text
from argus.domain.errors import ValidationError
from argus.domain.evidence import EvidenceItem

__all__ = ["GAP_REASONS", "EvidenceEntry", "EvidenceGap", "GapReason", "TamperedEvidence"]

GapReason = Literal["shed", "no_frames", "failed"]
GAP_REASONS: tuple[GapReason, ...] = get_args(GapReason)

_DETAIL = 1000


def _reason(value: object) -> GapReason:
    for reason in GAP_REASONS:
        if value == reason:
            return reason
    raise ValidationError(f"unknown evidence gap reason {value!r}; expected one of {GAP_REASONS}")


@dataclass(frozen=True, slots=True)
class EvidenceGap:
    """An alert whose evidence could not be captured.

    Attributes:
        alert_id: The alert.
        camera_id: Its camera.
        reason: ``shed``, ``no_frames`` or ``failed``.
        detail: What happened, in words (the error, for ``failed``).
        at: When the gap was recorded (UTC).
        severity: The alert's severity (shedding goes by it).
    """

    alert_id: str
    camera_id: str
    reason: GapReason
    detail: str
    at: datetime
    severity: str = "low"

    def __post_init__(self) -> None:
        text(self.alert_id, "alert_id", 200)
        text(self.camera_id, "camera_id", 200)
        _reason(self.reason)
        # A long error text is cut, not refused: the gap must be recorded either way.
        object.__setattr__(self, "detail", str(self.detail)[:_DETAIL])
        object.__setattr__(self, "at", aware_utc(self.at, "at"))
        text(self.severity, "severity", 20)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (what the bus and the API carry)."""
        return {
            "alert_id": self.alert_id,
            "camera_id": self.camera_id,
            "reason": self.reason,
            "detail": self.detail,
            "at": self.at.isoformat(),
            "severity": self.severity,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Parse ``to_dict``'s output (``ValidationError`` when it is not one)."""
        try:
            return cls(
                alert_id=data["alert_id"],
                camera_id=data["camera_id"],
                reason=_reason(data["reason"]),
                detail=data["detail"],
                at=datetime.fromisoformat(data["at"]),
                severity=data["severity"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"not an evidence gap: {exc!r}") from exc


@dataclass(frozen=True, slots=True)
class TamperedEvidence:
    """A metadata row that failed its consistency check, as far as it can be read.

    Attributes:
        id: The row's id.
        reason: What is wrong with it.
        cameras: Every camera the row names (its column and, when it parses, its
            body): a camera-scoped caller sees the row only if it sees all of them.
        claimed: The item its body describes, when the body parses (not to be trusted).
        kind: The row's ``kind`` column.
        alert_id: The row's ``alert_id`` column.
        incident_id: The row's ``incident_id`` column.
        created_at: The row's ``created_at`` column.
        locked: The row's ``locked`` column.
    """

    id: str
    reason: str
    cameras: tuple[str | None, ...]
    claimed: EvidenceItem | None = None
    kind: str = ""
    alert_id: str | None = None
    incident_id: str | None = None
    created_at: datetime | None = None
    locked: bool = False


EvidenceEntry = EvidenceItem | TamperedEvidence
"""One row of an evidence listing: an item, or a row reported as tampered."""
