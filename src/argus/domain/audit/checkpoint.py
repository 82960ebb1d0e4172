"""Signed checkpoints: what lets the audit chain verify after its oldest records are pruned.

Retention removes the oldest audit records (a prefix of the chain). Without
them the first remaining record no longer links to the genesis hash, which
verification would report as deleted records. So, in the transaction that
prunes, the log stores an ``AuditCheckpoint``: the ``seq`` and ``hash`` of the
last pruned record, how many records that prune removed, when, and an
HMAC-SHA256 signature over all of it under the chain key. Verification then
starts at the checkpoint (the first remaining record must have ``seq + 1`` and
chain to ``hash``) instead of at genesis.

Only a holder of the chain key can sign a checkpoint, so deleting records and
writing a checkpoint over them does not pass: a checkpoint whose signature
does not match is reported as ``forged`` and verification falls back to the
genesis, reporting the missing records as deleted. The message signed is
prefixed with ``CHECKPOINT_CONTEXT``, so no record hash can pass for a
checkpoint signature or the other way round.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from argus.domain.audit.chain import GENESIS_HASH
from argus.domain.checks import aware_utc
from argus.domain.codec import iso_z, parse_time
from argus.domain.errors import ValidationError

__all__ = ["CHECKPOINT_CONTEXT", "AuditCheckpoint", "sign_checkpoint"]

CHECKPOINT_CONTEXT = b"argus audit checkpoint v1\n"
"""The domain-separation prefix of every signed checkpoint message."""

_HEX = frozenset("0123456789abcdef")


def _hex64(value: str, name: str) -> str:
    if len(value) != 64 or not set(value) <= _HEX:
        raise ValidationError(f"{name} must be 64 lowercase hex digits")
    return value


@dataclass(frozen=True, slots=True)
class AuditCheckpoint:
    """The signed summary of a pruned prefix of the audit chain.

    Attributes:
        seq: The last pruned record (records ``1..seq`` are gone).
        hash: That record's chain hash (the next record's ``prev_hash``).
        count: Records removed by the prune that wrote this checkpoint.
        before: The prune's cutoff: records older than this were removed.
        pruned_at: When the prune ran (UTC).
        signature: HMAC-SHA256 over the fields under the chain key, 64 hex digits.
    """

    seq: int
    hash: str
    count: int
    before: datetime
    pruned_at: datetime
    signature: str

    def __post_init__(self) -> None:
        if isinstance(self.seq, bool) or self.seq < 1:
            raise ValidationError(f"a checkpoint covers at least record 1, not {self.seq}")
        if self.count < 0:
            raise ValidationError("count must be >= 0")
        _hex64(self.hash, "hash")
        _hex64(self.signature, "signature")
        object.__setattr__(self, "before", aware_utc(self.before, "before"))
        object.__setattr__(self, "pruned_at", aware_utc(self.pruned_at, "pruned_at"))

    def message(self) -> bytes:
        """The signed bytes: the context and a canonical JSON of every field but the signature."""
        body = {
            "seq": self.seq,
            "hash": self.hash,
            "count": self.count,
            "before": iso_z(self.before),
            "pruned_at": iso_z(self.pruned_at),
        }
        return CHECKPOINT_CONTEXT + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def verify(self, key: bytes) -> bool:
        """Whether the signature was made with ``key`` over these fields."""
        expected = hmac.new(key, self.message(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.signature)

    @property
    def head(self) -> tuple[int, str]:
        """``(seq, hash)`` the remaining chain starts after."""
        return (self.seq, self.hash)

    def to_dict(self) -> dict[str, object]:
        """The JSON-ready form."""
        return {
            "seq": self.seq,
            "hash": self.hash,
            "count": self.count,
            "before": iso_z(self.before),
            "pruned_at": iso_z(self.pruned_at),
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> AuditCheckpoint:
        """Parse ``to_dict``'s output (the signature is not checked here: ``verify``).

        Raises:
            ValidationError: ``data`` is not in that form.
        """
        try:
            seq, count = data["seq"], data["count"]
            if not isinstance(seq, int) or not isinstance(count, int):
                raise ValidationError("seq and count must be integers")
            return cls(
                seq=seq,
                hash=str(data["hash"]),
                count=count,
                before=parse_time(data["before"], "before"),
                pruned_at=parse_time(data["pruned_at"], "pruned_at"),
                signature=str(data["signature"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"not an audit checkpoint: {exc}") from exc


def sign_checkpoint(
    key: bytes, head: tuple[int, str], *, count: int, before: datetime, pruned_at: datetime
) -> AuditCheckpoint:
    """The checkpoint of a prune that removed records up to ``head``, signed with ``key``.

    Raises:
        ValidationError: ``head`` is the genesis (nothing pruned) or malformed.
    """
    seq, head_hash = head
    if head_hash == GENESIS_HASH:
        raise ValidationError("nothing was pruned: the head is the genesis")
    unsigned = AuditCheckpoint(seq, head_hash, count, before, pruned_at, signature="0" * 64)
    signature = hmac.new(key, unsigned.message(), hashlib.sha256).hexdigest()
    return replace(unsigned, signature=signature)
