"""``JwtCodec``: access tokens as HS256 JWTs (``TokenCodec``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jwt

from argus.domain.errors import AuthenticationError

__all__ = ["JwtCodec"]

_ALGORITHM = "HS256"


class JwtCodec:
    """Signs claims with HMAC-SHA256 and accepts nothing but HS256 back.

    Args:
        key: The signing key (derived from the installation secret).
    """

    def __init__(self, key: bytes) -> None:
        self._key = key

    def encode(self, claims: Mapping[str, Any]) -> str:
        """The signed JWT of ``claims``."""
        return jwt.encode(dict(claims), self._key, algorithm=_ALGORITHM)

    def decode(
        self, token: str, *, audience: str, issuer: str, required: Sequence[str]
    ) -> dict[str, Any]:
        """The claims of ``token``; its times are left to the caller.

        PyJWT would check the times on the wall clock; the auth service checks
        them on its own clock, so that tests (and the clock) agree with issuing.

        Raises:
            AuthenticationError: The token is not valid (the reason is in the message).
        """
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                audience=audience,
                issuer=issuer,
                options={
                    "require": list(required),
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"the access token is not valid: {exc}") from exc
        return claims
