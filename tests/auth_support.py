"""Signing in from tests: the first admin's credentials, settings that create it, token helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pyotp
from pydantic import SecretStr

from argus.config import Settings

ADMIN = "admin"
ADMIN_PASSWORD = "admin-password-for-tests-7"
"""The first admin every test app creates (``ARGUS_ADMIN_PASSWORD``)."""

USER_PASSWORD = "user-password-for-tests-42"
"""Password of the users tests create."""

GENEROUS_LIMITS: dict[str, Any] = {
    "rate_limit_ip_per_s": 1e5,
    "rate_limit_ip_burst": 10**6,
    "rate_limit_user_per_s": 1e5,
    "rate_limit_user_burst": 10**6,
    "streams_per_principal": 1000,
    "ingest_events_per_s": 1e6,
    "ingest_events_burst": 10**7,
}
"""Rate limits no functional test reaches (the limit tests set their own)."""

TEST_DENY_NETWORKS = "169.254.0.0/16,fe80::/10"
"""Networks test cameras may not use: the test servers listen on loopback, so unlike the
default (``ARGUS_CAMERA_DENY_NETWORKS``) loopback is allowed; the metadata range stays denied."""


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    """Settings whose app creates ``ADMIN`` with ``ADMIN_PASSWORD`` and does not rate-limit.

    Cameras may be on loopback (where the test servers run) and read local
    media in ``data_dir`` (where the tests write theirs).
    """
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "admin_username": ADMIN,
        "admin_password": SecretStr(ADMIN_PASSWORD),
        "media_dirs": str(data_dir),
        "camera_deny_networks": TEST_DENY_NETWORKS,
        # Fixtures are dated (2026-03-01): no sweep by the real clock under a test's feet;
        # the retention tests sweep explicitly.
        "retention_sweep": False,
        **GENEROUS_LIMITS,
        **overrides,
    }
    return Settings(**values)


def server_env(**extra: str) -> dict[str, str]:
    """``ARGUS_*`` variables for an ``argus serve`` subprocess with the test admin."""
    return {
        "ARGUS_ADMIN_USERNAME": ADMIN,
        "ARGUS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "ARGUS_RATE_LIMIT_IP_PER_S": "100000",
        "ARGUS_RATE_LIMIT_IP_BURST": "1000000",
        "ARGUS_RATE_LIMIT_USER_PER_S": "100000",
        "ARGUS_RATE_LIMIT_USER_BURST": "1000000",
        "ARGUS_STREAMS_PER_PRINCIPAL": "1000",
        "ARGUS_INGEST_EVENTS_PER_S": "1000000",
        "ARGUS_INGEST_EVENTS_BURST": "10000000",
        "ARGUS_CAMERA_DENY_NETWORKS": TEST_DENY_NETWORKS,
        "ARGUS_RETENTION_SWEEP": "false",
        **extra,
    }


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header of ``token``."""
    return {"Authorization": f"Bearer {token}"}


async def sign_in(
    client: httpx.AsyncClient,
    username: str = ADMIN,
    password: str = ADMIN_PASSWORD,
    otp: str | None = None,
) -> dict[str, Any]:
    """POST /auth/token; the token body (raises on an error status)."""
    form = {"username": username, "password": password, "grant_type": "password"}
    if otp is not None:
        form["otp"] = otp
    answer = await client.post("/api/v1/auth/token", data=form)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


async def admin_token(client: httpx.AsyncClient) -> str:
    """An access token of the test admin."""
    return str((await sign_in(client))["access_token"])


async def make_user(
    client: httpx.AsyncClient,
    admin: str,
    username: str,
    role: str,
    cameras: list[str] | None = None,
) -> str:
    """Create a user (as ``admin``) and return an access token of it."""
    body = {"username": username, "password": USER_PASSWORD, "role": role, "cameras": cameras}
    answer = await client.post("/api/v1/users", json=body, headers=bearer(admin))
    answer.raise_for_status()
    return str((await sign_in(client, username, USER_PASSWORD))["access_token"])


def totp_now(secret: str, *, offset_steps: int = 0) -> str:
    """The TOTP code of ``secret`` (``offset_steps`` 30 s steps from now)."""
    import time

    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)
