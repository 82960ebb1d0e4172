"""``SecondFactor``: TOTP codes and recovery codes of a user.

TOTP (RFC 6238, 30 s, one step of drift) never accepts the same step twice
for sign-in; ten one-time recovery codes are kept as keyed hashes (HMAC-SHA256).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from argus.domain.identity import User
from argus.ports.crypto import TOTP_DIGITS, TOTP_STEP_S, SecretBox, Totp
from argus.services.auth.trail import AuthTrail

__all__ = ["RECOVERY_CODES", "SecondFactor"]

RECOVERY_CODES = 10
"""Recovery codes issued at once."""


class SecondFactor:
    """Checks and makes TOTP and recovery codes; TOTP secrets are sealed at rest.

    Args:
        totp: TOTP codes and enrolment.
        box: Seals TOTP secrets, bound to the user id.
        recovery_key: The HMAC key of recovery-code hashes.
        trail: The audit trail (a recovery code used up is recorded).
        clock: Current UTC time.
    """

    def __init__(
        self,
        totp: Totp,
        box: SecretBox,
        recovery_key: bytes,
        trail: AuthTrail,
        clock: Callable[[], datetime],
    ) -> None:
        self.totp = totp
        self.box = box
        self._recovery_key = recovery_key
        self._trail = trail
        self._clock = clock

    def step(self, secret: str, code: str, last_step: int) -> int | None:
        """The time step ``code`` is valid for (now, or one step either side), if after
        ``last_step``; ``None`` when it is not a current code."""
        code = code.strip().replace(" ", "")
        if not (code.isdigit() and len(code) == TOTP_DIGITS):
            return None
        current = int(self._clock().timestamp() // TOTP_STEP_S)
        for step in (current - 1, current, current + 1):
            if step > last_step and hmac.compare_digest(self.totp.code(secret, step), code):
                return step
        return None

    def recovery_codes(self) -> tuple[list[str], tuple[str, ...]]:
        """New recovery codes (to show once) and their hashes (to store)."""
        codes = [self._new_recovery_code() for _ in range(RECOVERY_CODES)]
        return codes, tuple(self.code_hash(c) for c in codes)

    def code_hash(self, code: str) -> str:
        """The stored form of a recovery code (case, dashes and spaces ignored)."""
        normal = code.strip().lower().replace("-", "").replace(" ", "")
        return hmac.new(self._recovery_key, normal.encode(), hashlib.sha256).hexdigest()

    async def check(self, user: User, code: str) -> dict[str, Any] | None:
        """The user's changes after a valid code, ``None`` when ``code`` is wrong.

        A TOTP code records its step, so it is not accepted again; a recovery
        code is used up (and audited).
        """
        assert user.mfa_secret is not None
        secret = self.box.open(user.mfa_secret, user.id)
        step = self.step(secret, code, user.last_totp_step)
        if step is not None:
            return {"last_totp_step": step}
        digest = self.code_hash(code)
        for stored in user.recovery_codes:
            if hmac.compare_digest(stored, digest):
                remaining = tuple(c for c in user.recovery_codes if c != stored)
                await self._trail.record(
                    "mfa.recovery_code_used",
                    f"user:{user.username}",
                    target=f"user:{user.id}",
                    remaining=len(remaining),
                )
                return {"recovery_codes": remaining}
        return None

    @staticmethod
    def _new_recovery_code() -> str:
        raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
        return f"{raw[:8]}-{raw[8:16]}"
