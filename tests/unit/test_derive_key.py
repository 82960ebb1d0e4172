"""``derive_key`` keeps every key Argus derived before it existed, byte for byte.

Each key of an installation is derived from its secret with a purpose label;
stored data (camera credentials, sealed TOTP secrets, recovery-code hashes,
the audit chain, evidence MACs and signatures) only opens under the same key.
The expected values were computed with the derivations as they were written
before ``derive_key`` replaced them (``cryptography``'s ``HKDF`` with
``length=32, salt=None``, and the audit chain's hand-written HKDF).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from argus.adapters.crypto import (
    MFA_KEY_LABEL,
    RECOVERY_KEY_LABEL,
    TOKEN_KEY_LABEL,
    AesGcmBox,
    auth_crypto,
)
from argus.adapters.db.audit_memory import MemoryAuditLog
from argus.adapters.db.crypto import CREDENTIALS_KEY_LABEL, CredentialCipher
from argus.adapters.evidence.signing import Ed25519Signer
from argus.domain.audit import chain_key
from argus.domain.cameras import Credentials
from argus.domain.keys import derive_key
from argus.services.auth.factors import SecondFactor
from argus.services.auth.trail import AuthTrail

SECRET = b"pinned installation secret 0123456789"

PINNED = {
    TOKEN_KEY_LABEL: "f685e9525b8df91e207836e3e9afea141fde2e6995810f2e51ccb1803649b4ca",
    MFA_KEY_LABEL: "05c0634f2853a4090bdac4c295c99693270ea483c4472be0f37e50f2f604c41b",
    RECOVERY_KEY_LABEL: "91b71bdfc0fbf51529bb0dab61fc8920c69ebbbb6a24512e1e2bfe0ce1576b8f",
    CREDENTIALS_KEY_LABEL: "4226cd8f9677648949a87d0a97aca9b9b753e7478646b16c1fbdd2163e305002",
    "argus evidence hmac v1": "e1bb6e16d3946afedad2278f01f88f65de2b59783537fb8a002898709efe755b",
    "argus evidence signing v1": (
        "233f21c8e80922f7de01c26d271ecfff46da5c37dcf6a2aa0a2700b25bca181e"
    ),
    "argus audit chain v1": "9873e0e8f4038f36d50fdccf050f5321779929ff277204d4708f64a4dae7239e",
}


@pytest.mark.parametrize("label", sorted(PINNED), ids=sorted(PINNED))
def test_each_derivation_keeps_its_key(label: str) -> None:
    assert derive_key(SECRET, label).hex() == PINNED[label]


@pytest.mark.parametrize("label", sorted(PINNED), ids=sorted(PINNED))
def test_it_is_rfc5869_hkdf_sha256_without_salt(label: str) -> None:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode())
    assert derive_key(SECRET, label) == hkdf.derive(SECRET)


def test_labels_and_secrets_give_different_keys() -> None:
    keys = {derive_key(SECRET, label) for label in PINNED}
    assert len(keys) == len(PINNED)
    assert derive_key(SECRET + b"x", TOKEN_KEY_LABEL) != derive_key(SECRET, TOKEN_KEY_LABEL)


def test_the_audit_chain_key_is_unchanged() -> None:
    assert chain_key(SECRET).hex() == PINNED["argus audit chain v1"]


def test_the_evidence_signing_key_is_unchanged() -> None:
    public = "9a837cbdc4e3fddf5437543121fcbd501d9cc8b769952b8a42bc4e9f18c2780d"
    assert Ed25519Signer.from_secret(SECRET).public_key.hex() == public


def test_camera_credentials_stored_before_still_decrypt() -> None:
    blob = bytes.fromhex(
        "01f5284a713d56ab81305d37c1cfd80c9a5189e4a0a3de33ca13ebcdbb619eccbd40f19868770154"
        "9033fbcdaf097a1d4903f4"
    )
    assert CredentialCipher(SECRET).decrypt(blob, context="camera-1") == Credentials("cam", "pw-1")


def test_a_totp_secret_sealed_before_still_opens() -> None:
    sealed = "rmKnC6urbxgbcvvTz/tNJ90g6ouoLTvFFiO4L3PSRGXFQuwR0q1s+unRshc="
    box = AesGcmBox(derive_key(SECRET, MFA_KEY_LABEL))
    assert box.open(sealed, "user-1") == "JBSWY3DPEHPK3PXP"
    assert auth_crypto(SECRET).box.open(sealed, "user-1") == "JBSWY3DPEHPK3PXP"


def test_an_access_token_signed_before_still_verifies() -> None:
    token = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1MSIsImF1ZCI6ImFyZ3VzLWFwaSJ9."
        "iStEVs6F1c1fd49knbIsq0YPJTAVyX1AKFubFKST2LQ"
    )
    # HS256 is deterministic: the same claims under the same key give the same token.
    assert auth_crypto(SECRET).tokens.encode({"sub": "u1", "aud": "argus-api"}) == token


def test_a_recovery_code_hash_stored_before_still_matches() -> None:
    crypto = auth_crypto(SECRET)
    trail = AuthTrail(MemoryAuditLog(chain_key(SECRET)), lambda: datetime.now(UTC))
    factors = SecondFactor(crypto.totp, crypto.box, crypto.recovery_key, trail, datetime.now)
    pinned = "81aba37bacdb645af82984ee83b2fd81e2ec42efcf0ebfcb482adaad96dc4777"
    assert factors.code_hash("ABCDEFGH-23456723") == pinned
