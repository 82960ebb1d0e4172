"""What the in-memory and SQL notification stores share: argument checks and the cursor."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from argus.adapters.db._common import decode_cursor, encode_cursor
from argus.domain.checks import aware_utc, finite
from argus.domain.errors import ConflictError, ValidationError
from argus.domain.notify import NOTIFICATION_STATES, DeliveryAttempt, Notification
from argus.ports.paging import check_page

__all__ = [
    "check_claim",
    "check_list",
    "check_record",
    "decode_cursor",
    "encode_cursor",
    "recorded",
]


def check_claim(
    now: datetime, owner: str, lease_s: float, limit: int, exclude: Collection[str]
) -> tuple[datetime, frozenset[str]]:
    """Validate ``claim_due``'s arguments; returns ``now`` in UTC and the excluded channels."""
    now = aware_utc(now, "now")
    if not isinstance(owner, str) or not 1 <= len(owner) <= 100:
        raise ValidationError("owner must be a string of 1 to 100 characters")
    if not 0 < finite(lease_s, "lease_s") <= 86_400:
        raise ValidationError(f"lease_s must be in (0, 86400], got {lease_s}")
    check_page(limit)
    return now, frozenset(exclude)


def check_list(state: str | None, limit: int, cursor: str | None) -> tuple[datetime, str] | None:
    """Validate ``list``'s arguments; returns the decoded cursor, if any."""
    if state is not None and state not in NOTIFICATION_STATES:
        raise ValidationError(f"state must be one of {', '.join(NOTIFICATION_STATES)}")
    check_page(limit)
    return None if cursor is None else decode_cursor(cursor)


def check_record(state: str, next_attempt_at: datetime | None) -> datetime | None:
    """Validate ``record``'s arguments; returns ``next_attempt_at`` in UTC, if given."""
    if state not in NOTIFICATION_STATES:
        raise ValidationError(f"state must be one of {', '.join(NOTIFICATION_STATES)}")
    return None if next_attempt_at is None else aware_utc(next_attempt_at, "next_attempt_at")


def recorded(
    item: Notification,
    attempt: DeliveryAttempt,
    state: str,
    next_attempt_at: datetime | None,
    error: str | None,
) -> dict[str, object]:
    """The fields ``record`` changes on ``item`` (lease cleared, attempts bumped).

    Raises:
        ConflictError: The attempt's number is not beyond the attempts already made.
    """
    if attempt.number <= item.attempts:
        raise ConflictError(
            f"notification {item.id} already has {item.attempts} attempt(s); "
            f"attempt {attempt.number} was recorded by another dispatcher"
        )
    return {
        "state": state,
        "attempts": attempt.number,
        "next_attempt_at": item.next_attempt_at if next_attempt_at is None else next_attempt_at,
        "last_error": None if error is None else error[:2000],
        "delivered_at": attempt.at if state == "delivered" else item.delivered_at,
        "leased_until": None,
        "lease_owner": None,
    }
