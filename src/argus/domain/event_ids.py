"""Event ids: ULIDs, 26 characters that sort by the time they stand for.

A ULID is Crockford base32 holding a 48-bit Unix time in milliseconds
followed by 80 random bits, so ids sort lexicographically by time; ids made
in the same millisecond by one process increase monotonically.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import threading
from datetime import UTC, datetime

from argus.domain.checks import aware_utc
from argus.domain.errors import ValidationError

__all__ = ["check_event_id", "derived_event_id", "event_id_time", "new_event_id"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(_CROCKFORD)}
_EVENT_ID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
_RANDOM_BITS = 80
_MAX_TIME_MS = (1 << 48) - 1


class _UlidState:
    """Last id issued by this process, so ids of one millisecond stay increasing."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_ms = -1
        self.last_random = 0


_STATE = _UlidState()


def _encode(value: int) -> str:
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_event_id(now: datetime | None = None) -> str:
    """Return a new unique event id (a ULID) for the time ``now``.

    Args:
        now: The time the id stands for, timezone-aware; the current UTC time
            when ``None``.

    Returns:
        26 characters of Crockford base32 (upper case) that sort
        lexicographically by time. Two ids for the same millisecond made by
        this process sort in the order they were made.

    Raises:
        ValidationError: ``now`` is naive or outside the 48-bit millisecond range.
    """
    moment = datetime.now(UTC) if now is None else now
    if moment.tzinfo is None:
        raise ValidationError("new_event_id needs a timezone-aware datetime")
    ms = math.floor(moment.timestamp() * 1000)
    if not 0 <= ms <= _MAX_TIME_MS:
        raise ValidationError(f"time {moment.isoformat()} cannot be encoded in an event id")
    with _STATE.lock:
        if ms == _STATE.last_ms:
            random_part = _STATE.last_random + 1
            if random_part >> _RANDOM_BITS:
                # 2**80 ids in one millisecond cannot happen; carry into the time to stay sorted.
                ms, random_part = ms + 1, secrets.randbits(_RANDOM_BITS - 1)
        else:
            # One spare top bit leaves room to increment without overflowing.
            random_part = secrets.randbits(_RANDOM_BITS - 1)
        _STATE.last_ms, _STATE.last_random = ms, random_part
    return _encode((ms << _RANDOM_BITS) | random_part)


def derived_event_id(at: datetime, *parts: str) -> str:
    """A deterministic event id (ULID) for a fact stated at ``at``.

    The time part is ``at`` (milliseconds), the 80 random bits are the first 80
    bits of the SHA-256 of ``parts``, so the same fact always gets the same id
    (a replay, or a second server stating it, stores nothing twice) and ids
    still sort by time.

    Raises:
        ValidationError: ``at`` is naive or outside the ULID time range.
    """
    moment = aware_utc(at, "at")
    ms = math.floor(moment.timestamp() * 1000)
    if not 0 <= ms <= _MAX_TIME_MS:
        raise ValidationError(f"time {moment.isoformat()} cannot be encoded in an event id")
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return _encode((ms << _RANDOM_BITS) | int.from_bytes(digest[:10], "big"))


def event_id_time(event_id: str) -> datetime:
    """Return the UTC time (millisecond precision) encoded in an event id.

    Raises:
        ValidationError: ``event_id`` is not a valid event id.
    """
    check_event_id(event_id)
    value = 0
    for char in event_id:
        value = (value << 5) | _DECODE[char]
    ms = value >> _RANDOM_BITS
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def check_event_id(event_id: object) -> str:
    """``event_id`` when it is a valid event id.

    Raises:
        ValidationError: It is not a 26-character ULID.
    """
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        raise ValidationError(f"event_id must be a 26-character ULID, got {event_id!r}")
    return event_id
