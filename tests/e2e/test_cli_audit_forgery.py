"""A username with a newline must not forge a line of ``argus audit list``.

The attack: a failed sign-in records the name it was given as the actor, so a
name holding a newline followed by a made-up record printed as two records.
The trail keeps what was sent (it is evidence); ``argus audit list`` escapes
every field it prints, so no stored record with control characters (from a
sign-in, or written by hand) can forge a line.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from argus.bootstrap.audit import open_audit_log
from argus.bootstrap.auth import open_auth_admin
from argus.config import Settings
from argus.domain.audit import AuditEntry
from argus.domain.errors import AuthenticationError
from tests.e2e.conftest import ARGUS

pytestmark = pytest.mark.slow

SECRET = "e2e-audit-secret-0123456789abcdef"
FORGED = "  99  2026-03-01T12:00:00+00:00  success  user:admin  user.delete  user:ceo"
"""What the attacker wants to appear as a record of its own."""


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, secret_key=SECRET)


def _audit_list(data_dir: Path) -> list[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARGUS_")}
    env |= {"ARGUS_DATA_DIR": str(data_dir), "ARGUS_SECRET_KEY": SECRET}
    result = subprocess.run(
        [ARGUS, "audit", "list"], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_sign_in_with_a_newline_in_the_name_forges_no_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    async def attack() -> None:
        auth, close = await open_auth_admin(_settings(data_dir))
        try:
            with pytest.raises(AuthenticationError):
                await auth.sessions.login(f"eve\n{FORGED}", "whatever-password", ip="192.0.2.9")
        finally:
            await close()

    asyncio.run(attack())
    lines = _audit_list(data_dir)
    assert lines[0] == "1 of 1 records, newest first"
    assert len(lines) == 2, lines
    assert "eve\\n" in lines[1]
    assert not any(line.startswith(FORGED[:8]) for line in lines)


def test_a_stored_record_with_control_characters_is_printed_escaped(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    async def store() -> None:
        log, close = await open_audit_log(_settings(data_dir))
        try:
            await log.append(
                AuditEntry(
                    action="auth.login\r\n",
                    actor=f"user:eve\n{FORGED}",
                    at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
                    target="user:\x1b[2Jceo\u2028",
                    outcome="failure",
                    ip="192.0.2.9\u202e",
                )
            )
        finally:
            await close()

    asyncio.run(store())
    lines = _audit_list(data_dir)
    assert len(lines) == 2, lines
    record = lines[1]
    for shown in ("user:eve\\n", "auth.login\\r\\n", "user:\\x1b[2Jceo\\u2028", "\\u202e"):
        assert shown in record, (shown, record)
    assert "\x1b" not in record
