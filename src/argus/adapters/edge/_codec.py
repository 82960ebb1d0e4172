"""What both outboxes share: the stored form of an item body and the drop accounting."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from argus.domain.edge import OutboxItem

__all__ = ["decode_body", "encode_body", "log_drops"]


def encode_body(item: OutboxItem) -> bytes:
    """Compact JSON of the item's body: the stored form, and what the size bounds count."""
    return json.dumps(dict(item.body), separators=(",", ":"), ensure_ascii=False).encode()


def decode_body(raw: bytes) -> dict[str, object]:
    """The body ``encode_body`` wrote."""
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("a stored outbox body is not a JSON object")
    return body


def log_drops(
    log: logging.Logger, now: Mapping[str, int], total: Mapping[str, int], why: str
) -> None:
    """Warn that the overflow policy dropped items, and why (never silent)."""
    log.warning(
        "edge outbox %s: dropped %s by the overflow policy; dropped so far: %s",
        why,
        ", ".join(f"{count} {kind}" for kind, count in sorted(now.items())),
        ", ".join(f"{count} {kind}" for kind, count in sorted(total.items())),
    )
