"""Evidence sealed on an edge node opens on the server, and only when nothing was altered."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import secrets
from collections.abc import Callable

import pytest

from argus.adapters.crypto.seal import NONCE_SIZE, evidence_aad, open_sealed, seal
from argus.domain.edge import SealedBlob
from argus.domain.errors import IntegrityError

KEY = bytes(range(32))
AAD = evidence_aad("01JEVIDENCE0000000000000000", "node-1", "cam-1", "snapshot")
DATA = b"\xff\xd8\xff\xe0 a jpeg, more or less" * 40


def _flip(text: str, index: int = 0) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_round_trip_checks_the_digest_and_uses_a_fresh_nonce() -> None:
    first, second = seal(KEY, DATA, AAD), seal(KEY, DATA, AAD)
    assert open_sealed(KEY, first, AAD) == DATA
    assert first.sha256 == hashlib.sha256(DATA).hexdigest()
    assert len(base64.b64decode(first.nonce)) == NONCE_SIZE
    assert first.nonce != second.nonce
    assert first.ciphertext != second.ciphertext


def test_empty_plaintext_round_trips() -> None:
    assert open_sealed(KEY, seal(KEY, b"", AAD), AAD) == b""


def test_aad_names_every_part_of_the_identity() -> None:
    assert evidence_aad("e", "n", "c", "clip") == b"e|n|c|clip"


@pytest.mark.parametrize(
    ("change", "key", "aad"),
    [
        pytest.param(
            lambda b: dataclasses.replace(b, ciphertext=_flip(b.ciphertext)),
            KEY,
            AAD,
            id="ciphertext",
        ),
        pytest.param(
            lambda b: dataclasses.replace(b, ciphertext=_flip(b.ciphertext, -1)), KEY, AAD, id="tag"
        ),
        pytest.param(lambda b: dataclasses.replace(b, nonce=_flip(b.nonce)), KEY, AAD, id="nonce"),
        pytest.param(
            lambda b: b,
            KEY,
            evidence_aad("01JEVIDENCE0000000000000000", "node-2", "cam-1", "snapshot"),
            id="other-node",
        ),
        pytest.param(
            lambda b: b,
            KEY,
            evidence_aad("01JEVIDENCE0000000000000000", "node-1", "cam-1", "clip"),
            id="other-kind",
        ),
        pytest.param(lambda b: b, secrets.token_bytes(32), AAD, id="wrong-key"),
        pytest.param(
            lambda b: dataclasses.replace(b, sha256=hashlib.sha256(b"x").hexdigest()),
            KEY,
            AAD,
            id="digest",
        ),
    ],
)
def test_anything_altered_is_refused(
    change: Callable[[SealedBlob], SealedBlob], key: bytes, aad: bytes
) -> None:
    blob = change(seal(KEY, DATA, AAD))
    with pytest.raises(IntegrityError):
        open_sealed(key, blob, aad)


def test_a_short_key_is_refused_on_both_sides() -> None:
    with pytest.raises(IntegrityError):
        seal(b"short", DATA, AAD)
    with pytest.raises(IntegrityError):
        open_sealed(b"short", seal(KEY, DATA, AAD), AAD)
