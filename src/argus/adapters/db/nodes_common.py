"""Argument checks both node stores share, so memory and SQL refuse the same input."""

from __future__ import annotations

from datetime import datetime

from argus.domain.checks import aware_utc, text
from argus.domain.errors import ValidationError

__all__ = ["check_history", "check_link"]


def check_history(since: datetime, limit: int) -> datetime:
    """``since`` in UTC, once ``limit`` is an int of at least 1.

    Raises:
        ValidationError: ``limit`` < 1 or ``since`` is naive.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValidationError(f"limit must be an int >= 1, got {limit!r}")
    return aware_utc(since, "since")


def check_link(event_id: str, evidence_id: str, kind: str) -> None:
    """Ids of at most 64 characters and a kind of at most 32 (``ValidationError``)."""
    text(event_id, "event_id", 64)
    text(evidence_id, "evidence_id", 64)
    text(kind, "kind", 32)
