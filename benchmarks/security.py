"""What security costs: sign-in, an authenticated request, and evidence sealing.

Three measurements, each against a reference measured in the same run:

* **sign-in** (``POST /api/v1/auth/token``, in-process ASGI over SQLite) against
  one argon2id verification with the same parameters: the hash is meant to
  dominate, so the ratio shows what the rest (lookup, audit record, token,
  refresh token row) adds;
* **an authenticated request** (``GET /api/v1/auth/me`` with a bearer token:
  JWT check, one user read and the session revocation check) against the
  unauthenticated ``/health/live`` on the same app: the per-request price of
  authorisation;
* **the revocation check alone** (is the token's session in the revocation
  set? one primary-key lookup in ``revoked_sessions``, as every request makes
  it) against the same unauthenticated request;
* **evidence** ``store`` + ``read`` of a 1 MiB object (data key, AES-256-GCM,
  key wrap, HMAC, sha256, a file write and read, two audit records) against
  AES-256-GCM encryption + decryption of the same bytes alone.

    python -m benchmarks.security [--quick]
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks._common import (
    Section,
    fmt_ms,
    fmt_ratio,
    markdown_table,
    median,
    progress,
    quantile,
    ratio,
    run_main,
)

__all__ = ["main", "run"]

QUICK = {"logins": 10, "requests": 200, "evidence": 10}
FULL = {"logins": 40, "requests": 2000, "evidence": 40}

ADMIN, PASSWORD = "bench-admin", "benchmark-admin-passphrase-1"


async def _timed(call: Callable[[], Awaitable[Any]], count: int) -> list[float]:
    times: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return times


def _argon2_reference(count: int) -> list[float]:
    import argon2

    hasher = argon2.PasswordHasher(
        time_cost=2, memory_cost=19_456, parallelism=1, type=argon2.Type.ID
    )
    stored = hasher.hash(PASSWORD)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        times.append(time.perf_counter() - started)
    return times


async def _api(directory: Path, sizes: dict[str, int]) -> dict[str, list[float]]:
    import httpx
    import jwt
    from pydantic import SecretStr

    from argus.adapters.bus.memory import MemoryEventBus
    from argus.adapters.db.sql import SqlDatabase
    from argus.adapters.pipelines_memory import MemoryPipelines
    from argus.api.testing import running
    from argus.bootstrap.adapters import Adapters
    from argus.bootstrap.app import build_app
    from argus.config import Settings

    secret = os.urandom(32)
    database = await SqlDatabase.open(f"sqlite:///{directory / 'argus.db'}", secret_key=secret)
    plane = Adapters(database, MemoryEventBus(), MemoryPipelines(), secret=secret)

    async def opener(_: Settings) -> Adapters:
        return plane

    settings = Settings(
        data_dir=directory,
        admin_username=ADMIN,
        admin_password=SecretStr(PASSWORD),
        rate_limit_ip_per_s=1e6,
        rate_limit_ip_burst=10**7,
        rate_limit_user_per_s=1e6,
        rate_limit_user_burst=10**7,
        # The sign-in limiter would refuse the timed sign-ins after its burst of 20.
        login_ip_per_s=1e6,
        login_ip_burst=10**7,
    )
    app = build_app(settings, open_adapters=opener)
    async with (
        running(app) as asgi,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://a") as http,
    ):
        form = {"username": ADMIN, "password": PASSWORD}

        async def login() -> str:
            answer = await http.post("/api/v1/auth/token", data=form)
            answer.raise_for_status()
            return str(answer.json()["access_token"])

        progress(f"security: {sizes['logins']} sign-ins")
        logins = await _timed(login, sizes["logins"])
        token = await login()
        headers = {"Authorization": f"Bearer {token}"}
        session = str(jwt.decode(token, options={"verify_signature": False})["sid"])

        async def revocation_check() -> None:
            assert not await database.refresh_tokens.session_revoked(session)

        async def me() -> None:
            (await http.get("/api/v1/auth/me", headers=headers)).raise_for_status()

        async def live() -> None:
            (await http.get("/health/live")).raise_for_status()

        progress(f"security: {sizes['requests']} authenticated and open requests, interleaved")
        authed: list[float] = []
        open_: list[float] = []
        checks: list[float] = []
        for _ in range(sizes["requests"] // 100):
            authed += await _timed(me, 100)
            open_ += await _timed(live, 100)
            checks += await _timed(revocation_check, 100)
    return {"login": logins, "authed": authed, "open": open_, "revocation": checks}


async def _evidence(directory: Path, count: int) -> dict[str, list[float]]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from argus.adapters.db.memory import MemoryDatabase
    from argus.bootstrap.evidence import open_evidence_service
    from argus.config import Settings
    from argus.domain.actor import Actor

    bench = Actor(principal=None, name="bench")
    database = MemoryDatabase()
    settings = Settings(data_dir=directory)
    service = await open_evidence_service(
        settings, database.evidence, database.audit, secret=os.urandom(32)
    )
    data = os.urandom(1 << 20)

    async def store_and_read() -> None:
        item = await service.store(data, "clip", "video/mp4", actor=bench)
        _, plain = await service.read(item.id, actor=bench)
        assert plain == data

    aead = AESGCM(AESGCM.generate_key(bit_length=256))

    async def aes_alone() -> None:
        nonce = os.urandom(12)
        assert aead.decrypt(nonce, aead.encrypt(nonce, data, b"id"), b"id") == data

    progress(f"security: {count} evidence store + read of 1 MiB")
    sealed = await _timed(store_and_read, count)
    reference = await _timed(aes_alone, count)
    await service.close()
    return {"sealed": sealed, "aes": reference}


def _row(name: str, times: Sequence[float], reference: Sequence[float], what: str) -> list[str]:
    return [
        name,
        fmt_ms(median(times)),
        fmt_ms(quantile(times, 0.95)),
        fmt_ratio(ratio(median(times), median(reference))),
        what,
    ]


def run(quick: bool) -> Section:
    """Run the security benchmark and return its section."""
    sizes = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="argus-bench-security-") as tmp:
        directory = Path(tmp)
        argon = _argon2_reference(sizes["logins"])
        api = asyncio.run(_api(directory, sizes))
        evidence = asyncio.run(_evidence(directory / "evidence-bench", sizes["evidence"]))
    rows = [
        [
            "argon2id verify (reference 1)",
            fmt_ms(median(argon)),
            fmt_ms(quantile(argon, 0.95)),
            "1.0x",
            "t=2, m=19 MiB, p=1",
        ],
        _row("sign-in, POST /auth/token", api["login"], argon, "x reference 1"),
        [
            "GET /health/live, open (reference 2)",
            fmt_ms(median(api["open"])),
            fmt_ms(quantile(api["open"], 0.95)),
            "1.0x",
            "in-process ASGI",
        ],
        _row("GET /auth/me, bearer token", api["authed"], api["open"], "x reference 2"),
        _row(
            "session revocation check alone",
            api["revocation"],
            api["open"],
            "x reference 2; SQLite PK lookup",
        ),
        [
            "AES-256-GCM encrypt + decrypt 1 MiB (reference 3)",
            fmt_ms(median(evidence["aes"])),
            fmt_ms(quantile(evidence["aes"], 0.95)),
            "1.0x",
            "cryptography",
        ],
        _row("evidence store + read 1 MiB", evidence["sealed"], evidence["aes"], "x reference 3"),
    ]
    body = "\n".join(
        [
            "Each ratio is against the reference row above it, measured in the same run. "
            "The API runs in-process over SQLite (no sockets); evidence goes to a directory.",
            "",
            markdown_table(["what", "p50 (ms)", "p95 (ms)", "ratio", "notes"], rows),
        ]
    )
    headline = [
        f"security: sign-in p50 {fmt_ms(median(api['login']))} ms = "
        f"{fmt_ratio(ratio(median(api['login']), median(argon)))} one argon2id verify; "
        f"authenticated request {fmt_ms(median(api['authed']))} ms = "
        f"{fmt_ratio(ratio(median(api['authed']), median(api['open'])))} an open one, "
        f"of which the revocation check {fmt_ms(median(api['revocation']))} ms = "
        f"{fmt_ratio(ratio(median(api['revocation']), median(api['open'])))}; "
        f"evidence store + read 1 MiB {fmt_ms(median(evidence['sealed']))} ms = "
        f"{fmt_ratio(ratio(median(evidence['sealed']), median(evidence['aes'])))} AES-GCM alone"
    ]
    return Section("Security: sign-in, authorisation, evidence sealing", body, headline)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.security``."""
    return run_main("Sign-in, authenticated requests and evidence sealing.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
