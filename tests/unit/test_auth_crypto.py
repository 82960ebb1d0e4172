"""The auth crypto adapters: argon2id, HS256 JWTs, pyotp TOTP, the AES-GCM box."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from argus.adapters.crypto import AesGcmBox, Argon2Hasher, JwtCodec, PyOtpTotp, auth_crypto
from argus.domain.errors import AuthenticationError, ConfigError
from argus.ports.crypto import TOTP_STEP_S, TokenCodec

CLAIMS = {"sub": "u1", "aud": "argus-api", "iss": "argus"}


def decode(codec: TokenCodec, token: str) -> dict[str, Any]:
    return codec.decode(token, audience="argus-api", issuer="argus", required=["sub"])


def test_argon2_verifies_its_own_hashes_and_refuses_garbage() -> None:
    hasher = Argon2Hasher()
    stored = hasher.hash("a long enough password")
    assert stored.startswith("$argon2id$")
    assert hasher.verify(stored, "a long enough password")
    assert not hasher.verify(stored, "another password")
    assert not hasher.verify("not a hash", "a long enough password")


def test_a_token_of_another_key_or_audience_is_refused() -> None:
    ours, theirs = JwtCodec(b"k" * 32), JwtCodec(b"x" * 32)
    assert decode(ours, ours.encode(CLAIMS))["sub"] == "u1"
    with pytest.raises(AuthenticationError, match="not valid"):
        decode(ours, theirs.encode(CLAIMS))
    with pytest.raises(AuthenticationError, match="not valid"):
        decode(ours, ours.encode({**CLAIMS, "aud": "else"}))
    with pytest.raises(AuthenticationError, match="not valid"):
        decode(ours, "not.a.token")


def test_totp_codes_are_rfc6238_per_step() -> None:
    totp = PyOtpTotp()
    secret = totp.new_secret()
    step = 58_000_000
    assert totp.code(secret, step) == pyotp.TOTP(secret).at(step * TOTP_STEP_S)
    uri, png = totp.enrolment(secret, "ann", "Argus")
    assert uri.startswith("otpauth://totp/Argus:ann?")
    assert f"secret={secret}" in uri
    assert png.startswith(b"\x89PNG")


def test_the_box_opens_only_for_its_context_and_key() -> None:
    box = AesGcmBox(b"k" * 32)
    sealed = box.seal("JBSWY3DPEHPK3PXP", "user-1")
    assert box.open(sealed, "user-1") == "JBSWY3DPEHPK3PXP"
    for opener, context in ((box, "user-2"), (AesGcmBox(b"x" * 32), "user-1")):
        with pytest.raises(ConfigError, match="does not decrypt"):
            opener.open(sealed, context)
    with pytest.raises(ConfigError):
        box.open("not base64!", "user-1")


def test_auth_crypto_keys_each_part_apart() -> None:
    one, two = auth_crypto(b"s" * 32), auth_crypto(b"t" * 32)
    with pytest.raises(AuthenticationError):
        decode(two.tokens, one.tokens.encode(CLAIMS))
    assert one.recovery_key != two.recovery_key
