"""Signed checkpoints of a pruned audit prefix: signing, parsing, and verification from them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from argus.domain.audit import (
    GENESIS_HASH,
    AuditCheckpoint,
    chain_key,
    sign_checkpoint,
    verify_chain,
)
from argus.domain.errors import ValidationError
from tests.unit.test_audit_chain import KEY, T0, Records, _chain

OTHER_KEY = chain_key(b"another-secret-0123456789abcdef")
AT = T0 + timedelta(days=400)


def _pruned(count: int, keep_from: int, key: bytes = KEY) -> tuple[AuditCheckpoint, Records]:
    """A chain of ``count`` records with records before ``keep_from`` (1-based) pruned."""
    records = _chain(count)
    last = records[keep_from - 2]
    checkpoint = sign_checkpoint(
        key, (last.seq, last.hash), count=keep_from - 1, before=T0 + timedelta(days=1), pruned_at=AT
    )
    return checkpoint, records[keep_from - 1 :]


def test_a_signed_checkpoint_verifies_under_its_key_only() -> None:
    checkpoint, _ = _pruned(6, 4)
    assert checkpoint.verify(KEY)
    assert not checkpoint.verify(OTHER_KEY)
    assert checkpoint.head == (3, _chain(3)[-1].hash)
    for change in ({"seq": 2}, {"count": 9}, {"pruned_at": AT + timedelta(seconds=1)}):
        assert not replace(checkpoint, **change).verify(KEY)


def test_a_checkpoint_round_trips_through_its_dict() -> None:
    checkpoint, _ = _pruned(5, 3)
    assert AuditCheckpoint.from_dict(checkpoint.to_dict()) == checkpoint
    with pytest.raises(ValidationError):
        AuditCheckpoint.from_dict({**checkpoint.to_dict(), "seq": "3"})
    with pytest.raises(ValidationError):
        AuditCheckpoint.from_dict({"seq": 1})


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"seq": 0}, id="no-record"),
        pytest.param({"hash": "xyz"}, id="bad-hash"),
        pytest.param({"signature": "0" * 63}, id="short-signature"),
        pytest.param({"count": -1}, id="negative-count"),
        pytest.param({"before": datetime(2026, 1, 1)}, id="naive"),
    ],
)
def test_malformed_checkpoints_are_refused(fields: dict[str, object]) -> None:
    checkpoint, _ = _pruned(4, 2)
    with pytest.raises(ValidationError):
        replace(checkpoint, **fields)  # type: ignore[arg-type]


def test_nothing_pruned_has_no_checkpoint() -> None:
    with pytest.raises(ValidationError, match="genesis"):
        sign_checkpoint(KEY, (0, GENESIS_HASH), count=0, before=T0, pruned_at=AT)


def test_the_rest_of_a_pruned_chain_verifies_from_its_checkpoint() -> None:
    checkpoint, rest = _pruned(10, 4)
    report = verify_chain(rest, KEY, checkpoint=checkpoint)
    assert report.ok, report.problems
    assert (report.records, report.start, report.head) == (7, checkpoint.head, (10, rest[-1].hash))
    # Without the checkpoint the same records look like a deleted prefix.
    assert [(p.seq, p.kind) for p in verify_chain(rest, KEY).problems] == [(1, "deleted")]
    assert verify_chain([], KEY, checkpoint=checkpoint).head == checkpoint.head


def test_a_forged_checkpoint_is_reported_and_the_chain_judged_from_genesis() -> None:
    checkpoint, rest = _pruned(8, 4, key=OTHER_KEY)
    kinds = [(p.seq, p.kind) for p in verify_chain(rest, KEY, checkpoint=checkpoint).problems]
    assert kinds == [(1, "deleted"), (3, "forged")]


def test_records_missing_after_the_checkpoint_are_still_deleted() -> None:
    checkpoint, rest = _pruned(8, 4)
    kinds = [(p.seq, p.kind) for p in verify_chain(rest[1:], KEY, checkpoint=checkpoint).problems]
    assert kinds == [(4, "deleted")]
    edited = [rest[0], replace(rest[1], prev_hash="f" * 64), *rest[2:]]
    assert "edited" in {p.kind for p in verify_chain(edited, KEY, checkpoint=checkpoint).problems}


def test_a_checkpoint_over_other_records_does_not_fit() -> None:
    checkpoint, rest = _pruned(8, 4)
    shifted = replace(checkpoint, hash="e" * 64)
    signed = sign_checkpoint(KEY, shifted.head, count=3, before=T0, pruned_at=AT)
    kinds = [(p.seq, p.kind) for p in verify_chain(rest, KEY, checkpoint=signed).problems]
    assert kinds == [(4, "deleted")]
