"""Webhook signatures and signed, expiring snapshot links.

**Webhooks.** Every webhook request carries::

    X-Argus-Delivery: <notification id>
    X-Argus-Timestamp: <unix seconds>
    X-Argus-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body
with the channel's secret, compares in constant time, and refuses a timestamp
more than ``window_s`` (300 s) away from its own clock: a captured request
cannot be replayed later, and the body cannot be changed. ``verify`` is that
check, for receivers written in Python (the README shows it in shell too). A
retry is signed afresh with its own timestamp; ``X-Argus-Delivery`` stays the
same, so a receiver drops a repeat it has already processed.

**Snapshot links.** A mail can link the alert's snapshot instead of
attaching it: ``/api/v1/shared/snapshots/<token>`` serves it without
credentials while the token holds. The token is
``<alert id>.<expiry unix s>.<base64url HMAC-SHA256(key, "<id>.<expiry>")>``
with a key derived from the installation secret (``derive_key``, label
``argus snapshot links v1``); a forged, altered or expired token reads as
"not found". Pure: the clock is passed in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime

from argus.domain.errors import ValidationError
from argus.domain.keys import derive_key

__all__ = [
    "DELIVERY_HEADER",
    "LINK_KEY_LABEL",
    "REPLAY_WINDOW_S",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "link_key",
    "open_snapshot_token",
    "sign",
    "snapshot_token",
    "verify",
]

DELIVERY_HEADER = "X-Argus-Delivery"
TIMESTAMP_HEADER = "X-Argus-Timestamp"
SIGNATURE_HEADER = "X-Argus-Signature"
REPLAY_WINDOW_S = 300.0
"""Default tolerance of a receiver's clock against the timestamp, in seconds."""
LINK_KEY_LABEL = "argus snapshot links v1"

_SIGNATURE = re.compile(r"^sha256=([0-9a-f]{64})$")
_TOKEN = re.compile(r"^([0-9A-Za-z_-]{1,64})\.([0-9]{1,12})\.([0-9A-Za-z_-]{43})$")


def _mac(secret: bytes | str, timestamp: int, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: bytes | str, timestamp: int, body: bytes) -> str:
    """The ``X-Argus-Signature`` value of ``body`` sent at ``timestamp`` (unix seconds).

    Raises:
        ValidationError: The secret is empty.
    """
    if not secret:
        raise ValidationError("a webhook secret must not be empty")
    return f"sha256={_mac(secret, timestamp, body)}"


def verify(
    secret: bytes | str,
    timestamp: str | int,
    body: bytes,
    signature: str,
    now: datetime,
    *,
    window_s: float = REPLAY_WINDOW_S,
) -> bool:
    """Whether a webhook request is authentic and fresh (a receiver's check).

    Args:
        secret: The channel's secret.
        timestamp: The ``X-Argus-Timestamp`` header.
        body: The raw request body, as received.
        signature: The ``X-Argus-Signature`` header.
        now: The receiver's clock (aware).
        window_s: Largest distance of the timestamp from ``now`` accepted.

    Returns:
        ``True`` only when the signature matches and the timestamp is inside the window.
    """
    if not secret:
        return False
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now.timestamp() - stamp) > window_s:
        return False
    match = _SIGNATURE.match(signature.strip())
    if match is None:
        return False
    return hmac.compare_digest(match.group(1), _mac(secret, stamp, body))


def link_key(installation_secret: bytes) -> bytes:
    """The snapshot-link key derived from the installation secret."""
    return derive_key(installation_secret, LINK_KEY_LABEL)


def _link_mac(key: bytes, subject: str, expires: int) -> str:
    digest = hmac.digest(key, f"{subject}.{expires}".encode(), "sha256")
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def snapshot_token(key: bytes, alert_id: str, expires: datetime) -> str:
    """A token that opens the snapshot of ``alert_id`` until ``expires`` (aware).

    Raises:
        ValidationError: The id is not URL-safe (ids are ULIDs).
    """
    if not re.fullmatch(r"[0-9A-Za-z_-]{1,64}", alert_id):
        raise ValidationError(f"alert id {alert_id!r} cannot be put in a link")
    stamp = int(expires.timestamp())
    return f"{alert_id}.{stamp}.{_link_mac(key, alert_id, stamp)}"


def open_snapshot_token(key: bytes, token: str, now: datetime) -> str | None:
    """The alert id ``token`` opens at ``now``; ``None`` when forged, altered or expired."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    alert_id, stamp_text, mac = match.groups()
    stamp = int(stamp_text)
    if not hmac.compare_digest(mac, _link_mac(key, alert_id, stamp)):
        return None
    if now.timestamp() >= stamp:
        return None
    return alert_id
