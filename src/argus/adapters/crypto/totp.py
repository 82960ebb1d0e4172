"""``PyOtpTotp``: RFC 6238 codes with pyotp and enrolment QR codes with segno (``Totp``)."""

from __future__ import annotations

import io

import pyotp
import segno

from argus.ports.crypto import TOTP_DIGITS, TOTP_STEP_S

__all__ = ["PyOtpTotp"]


class PyOtpTotp:
    """TOTP with SHA-1, ``TOTP_STEP_S`` seconds and ``TOTP_DIGITS`` digits."""

    def new_secret(self) -> str:
        """A random 32-character base32 secret (160 bits)."""
        return pyotp.random_base32()

    def code(self, secret: str, step: int) -> str:
        """The code of ``secret`` for time step ``step``."""
        return str(self._totp(secret).at(step * TOTP_STEP_S))

    def enrolment(self, secret: str, username: str, issuer: str) -> tuple[str, bytes]:
        """The otpauth URI of ``secret`` and its QR code as PNG."""
        uri = self._totp(secret).provisioning_uri(name=username, issuer_name=issuer)
        buffer = io.BytesIO()
        segno.make(uri, error="m").save(buffer, kind="png", scale=6, border=4)
        return uri, buffer.getvalue()

    @staticmethod
    def _totp(secret: str) -> pyotp.TOTP:
        return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_S)
