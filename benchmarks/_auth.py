"""Signing benchmarks in: the server a benchmark starts creates this admin on first start."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

BENCH_ADMIN = "bench-admin"
BENCH_PASSWORD = "benchmark-admin-passphrase-1"

SERVER_ENV: dict[str, str] = {
    "ARGUS_ADMIN_USERNAME": BENCH_ADMIN,
    "ARGUS_ADMIN_PASSWORD": BENCH_PASSWORD,
    # Load generators must measure the server, not its abuse limits.
    "ARGUS_RATE_LIMIT_IP_PER_S": "1000000",
    "ARGUS_RATE_LIMIT_IP_BURST": "10000000",
    "ARGUS_RATE_LIMIT_USER_PER_S": "1000000",
    "ARGUS_RATE_LIMIT_USER_BURST": "10000000",
    "ARGUS_LOGIN_IP_PER_S": "1000000",
    "ARGUS_LOGIN_IP_BURST": "10000000",
}
"""``ARGUS_*`` variables of a benchmark's ``argus serve``."""


async def sign_in(client: httpx.AsyncClient) -> dict[str, str]:
    """Sign in as the benchmark admin; the ``Authorization`` header to send."""
    answer = await client.post(
        "/api/v1/auth/token", data={"username": BENCH_ADMIN, "password": BENCH_PASSWORD}
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}
