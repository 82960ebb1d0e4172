"""``argus audit verify|list`` on a SQLite data directory, tampered with through ``sqlite3``.

Records are appended in this process through the composition root (as the
server would), then the installed ``argus`` command checks them; tampering is
plain SQL on the database file, as someone with access to the disk would do.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from argus.bootstrap.audit import open_audit_log
from argus.config import Settings
from argus.domain.audit import AuditEntry, AuditRecord
from tests.e2e.conftest import ARGUS

pytestmark = pytest.mark.slow

SECRET = "e2e-audit-secret-0123456789abcdef"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def _runner(data_dir: Path, secret: str) -> Run:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARGUS_")}
    env |= {"ARGUS_DATA_DIR": str(data_dir), "ARGUS_SECRET_KEY": secret}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ARGUS, "audit", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )

    return run


@pytest.fixture
def audit(data_dir: Path) -> Run:
    """Runs ``argus audit ...`` on the test's data directory with its secret."""
    return _runner(data_dir, SECRET)


@pytest.fixture
def records(data_dir: Path) -> list[AuditRecord]:
    """Six records appended through ``bootstrap.audit.open_audit_log``."""

    async def fill() -> list[AuditRecord]:
        log, close = await open_audit_log(Settings(data_dir=data_dir, secret_key=SECRET))
        try:
            return [
                await log.append(
                    AuditEntry(
                        action="auth.login" if n % 2 else "alert.acknowledge",
                        actor=f"user:op{n}",
                        at=T0 + timedelta(seconds=n),
                        target=f"alert:{n}",
                        details={"n": n},
                        ip="192.0.2.7",
                    )
                )
                for n in range(6)
            ]
        finally:
            await close()

    return asyncio.run(fill())


def _tamper(data_dir: Path, *statements: str) -> None:
    connection = sqlite3.connect(data_dir / "argus.db")
    try:
        with connection:
            for statement in statements:
                connection.execute(statement)
    finally:
        connection.close()


def test_verify_reports_an_intact_chain_and_its_head(
    audit: Run, records: list[AuditRecord]
) -> None:
    result = audit("verify")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"audit chain OK: 6 records, head 6 {records[-1].hash}"


def test_verify_names_an_edited_record(
    audit: Run, records: list[AuditRecord], data_dir: Path
) -> None:
    _tamper(data_dir, "UPDATE audit_log SET actor = 'user:mallory' WHERE seq = 3")
    result = audit("verify")
    assert result.returncode == 1
    assert "record 3: edited: its hash does not match its content" in result.stdout
    assert "audit chain BROKEN: 1 problem(s) in 6 records" in result.stdout


def test_verify_names_deleted_and_reordered_records(
    audit: Run, records: list[AuditRecord], data_dir: Path
) -> None:
    _tamper(
        data_dir,
        "DELETE FROM audit_log WHERE seq = 2",
        "UPDATE audit_log SET seq = -1 WHERE seq = 3",
        "UPDATE audit_log SET seq = 3 WHERE seq = 5",
        "UPDATE audit_log SET seq = 5 WHERE seq = -1",
    )
    result = audit("verify")
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("record ")]
    assert [line.split(":")[:2] for line in lines] == [
        ["record 2", " deleted"],
        ["record 3", " reordered"],
        ["record 5", " reordered"],
    ]


def test_a_deleted_last_record_needs_the_expected_head(
    audit: Run, records: list[AuditRecord], data_dir: Path
) -> None:
    anchor = f"6:{records[-1].hash}"
    assert audit("verify", "--expect-head", anchor).returncode == 0
    _tamper(data_dir, "DELETE FROM audit_log WHERE seq = 6")
    assert audit("verify").returncode == 0  # the shorter log is a valid chain by itself
    result = audit("verify", "--expect-head", anchor)
    assert result.returncode == 1
    assert "record 6: truncated: record 6 is missing" in result.stdout


def test_another_secret_key_fails_every_record(records: list[AuditRecord], data_dir: Path) -> None:
    result = _runner(data_dir, "some-other-secret-0123456789abcdef")("verify")
    assert result.returncode == 1
    assert result.stdout.count(": edited:") == 6


def test_a_malformed_expected_head_is_a_usage_error(audit: Run) -> None:
    result = audit("verify", "--expect-head", "6:not-a-hash")
    assert result.returncode == 2
    assert "error: --expect-head: expected SEQ:HASH" in result.stderr
    assert "Traceback" not in result.stderr


def test_list_shows_the_newest_records(audit: Run, records: list[AuditRecord]) -> None:
    shown = json.loads(audit("list", "--limit", "2", "--json").stdout)
    assert [item["seq"] for item in shown] == [6, 5]
    assert shown[0] == {
        "seq": 6,
        "at": "2026-03-01T12:00:05+00:00",
        "actor": "user:op5",
        "action": "auth.login",
        "target": "alert:5",
        "outcome": "success",
        "ip": "192.0.2.7",
        "details": {"n": 5},
        "prev_hash": records[4].hash,
        "hash": records[5].hash,
    }
    logins = json.loads(audit("list", "--action", "auth.", "--json").stdout)
    assert [item["seq"] for item in logins] == [6, 4, 2]
    table = audit("list", "--actor", "user:op1")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0] == "1 of 1 records, newest first"
    assert "auth.login" in table.stdout.splitlines()[1]


def _prune(data_dir: Path, before: datetime) -> int:
    async def prune() -> int:
        log, close = await open_audit_log(Settings(data_dir=data_dir, secret_key=SECRET))
        try:
            return await log.prune_before(before, limit=1000, at=T0 + timedelta(days=1))
        finally:
            await close()

    return asyncio.run(prune())


def test_verify_passes_after_retention_pruned_the_oldest_records(
    audit: Run, records: list[AuditRecord], data_dir: Path
) -> None:
    assert _prune(data_dir, T0 + timedelta(seconds=3)) == 3
    result = audit("verify", "--expect-head", f"6:{records[-1].hash}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"audit chain OK: 3 records, head 6 {records[-1].hash}"


def test_verify_refuses_a_forged_checkpoint(
    audit: Run, records: list[AuditRecord], data_dir: Path
) -> None:
    assert _prune(data_dir, T0 + timedelta(seconds=2)) == 2
    # Records 3 and 4 removed by hand, behind a checkpoint signed without the chain key.
    _tamper(
        data_dir,
        "DELETE FROM audit_log WHERE seq <= 4",
        f"UPDATE audit_checkpoints SET seq = 4, hash = '{records[3].hash}'",
    )
    result = audit("verify")
    assert result.returncode == 1
    assert "record 4: forged: the checkpoint of the pruned records is not signed" in result.stdout
    assert "record 1: deleted" in result.stdout
