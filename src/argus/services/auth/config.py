"""``AuthConfig``: lifetimes and limits of the auth services."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AuthConfig"]


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """Lifetimes and limits of the auth service (from ``Settings``).

    Attributes:
        access_ttl_s: Lifetime of an access token.
        refresh_ttl_s: Lifetime of a refresh token.
        max_failures: Failed sign-ins in a row that lock the account.
        lockout_s: How long a locked account stays locked.
        login_rate_per_s: Sign-in attempts per second per client address.
        login_burst: Sign-in attempts one address may make at once.
    """

    access_ttl_s: int = 900
    refresh_ttl_s: int = 14 * 86_400
    max_failures: int = 5
    lockout_s: float = 900.0
    login_rate_per_s: float = 0.5
    login_burst: int = 20
