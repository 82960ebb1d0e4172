"""``argus evidence``: verify bundles offline, print the public key, rotate and re-wrap keys.

Each test runs the installed ``argus`` command in a private data directory
with its own secret; bundles and stored evidence are made in-process through
the composition root, as a server would make them.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
from pydantic import SecretStr

from argus.bootstrap.evidence import open_evidence_admin
from argus.bootstrap.policies import evidence_signer
from argus.config import Settings
from argus.domain.actor import Actor
from tests.e2e.conftest import ARGUS

SECRET = "e2e-secret-key-0123456789abcdef"


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_")}
    return {**env, "ARGUS_DATA_DIR": str(data_dir), "ARGUS_SECRET_KEY": SECRET}


def _argus(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ARGUS, "evidence", *args],
        capture_output=True,
        text=True,
        env=_env(data_dir),
        timeout=120,
        check=False,
    )


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, secret_key=SecretStr(SECRET))


def _store_and_export(settings: Settings) -> bytes:
    """Store a snapshot in the installation's database and export everything stored."""

    async def run() -> bytes:
        service, close = await open_evidence_admin(settings)
        try:
            item = await service.store(
                b"\xff\xd8 snapshot", "snapshot", "image/jpeg", camera_id="cam-1"
            )
            stored = [i.id for i in (await service.list()).items]
            assert item.id in stored
            return await service.export(stored, actor=Actor(principal=None, name="user:op-1"))
        finally:
            await close()

    return asyncio.run(run())


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    path = tmp_path / "bundle.zip"
    path.write_bytes(_store_and_export(_settings(tmp_path / "data")))
    return path


def _tampered(bundle: Path) -> Path:
    with zipfile.ZipFile(bundle) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    name = next(n for n in members if n.startswith("evidence/"))
    members[name] = members[name][:-1] + b"!"
    out = bundle.with_name("tampered.zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    out.write_bytes(buffer.getvalue())
    return out


def test_verify_accepts_a_good_bundle_and_rejects_a_tampered_one(
    bundle: Path, tmp_path: Path
) -> None:
    # Verification is offline: an empty data directory, no database.
    elsewhere = tmp_path / "elsewhere"
    good = _argus(elsewhere, "verify", str(bundle))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "ok   signature" in good.stdout
    assert "bundle VALID: 1 item(s)" in good.stdout
    assert not elsewhere.exists()

    bad = _argus(elsewhere, "verify", str(_tampered(bundle)))
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "FAIL file evidence/" in bad.stdout
    assert "sha256 differs" in bad.stdout
    assert "bundle INVALID (1 failed)" in bad.stdout


def test_verify_pins_the_installation_key(bundle: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shown = _argus(data_dir, "public-key")
    assert shown.returncode == 0, shown.stderr
    signer = evidence_signer(_settings(data_dir))
    assert f"public key:  {signer.public_key.hex()}" in shown.stdout
    assert f"fingerprint: {signer.fingerprint}" in shown.stdout
    key_file = tmp_path / "installation.pub"
    key_file.write_text(shown.stdout)

    for pin in (str(key_file), signer.public_key.hex()):
        result = _argus(tmp_path, "verify", str(bundle), "--public-key", pin)
        assert result.returncode == 0, result.stdout
        assert "ok   public key: signed with the expected key" in result.stdout
    other = _argus(tmp_path, "verify", str(bundle), "--public-key", "ab" * 32, "--json")
    assert other.returncode == 1
    report = json.loads(other.stdout)
    assert report["ok"] is False
    assert [c["name"] for c in report["checks"] if not c["ok"]] == ["public key"]
    garbage = _argus(tmp_path, "verify", str(bundle), "--public-key", "not-a-key")
    assert garbage.returncode == 2
    assert "error: --public-key" in garbage.stderr


def test_verify_of_a_missing_file_is_one_error_line(tmp_path: Path) -> None:
    result = _argus(tmp_path, "verify", str(tmp_path / "nope.zip"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def test_rotate_key_then_rewrap_moves_old_evidence(bundle: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    rotated = _argus(data_dir, "rotate-key")
    assert rotated.returncode == 0, rotated.stderr
    assert "new current evidence key: k2" in rotated.stdout
    keys = json.loads((data_dir / "evidence-keys.json").read_text())
    assert [k["kid"] for k in keys["keys"]] == ["k1", "k2"]

    rewrapped = _argus(data_dir, "rewrap")
    assert rewrapped.returncode == 0, rewrapped.stderr
    assert "re-wrapped 1 evidence item(s) under key k2" in rewrapped.stdout
    again = _argus(data_dir, "rewrap")
    assert "re-wrapped 0 evidence item(s)" in again.stdout

    # With k1 gone from the key file, the old evidence still reads and exports.
    keys["keys"] = [k for k in keys["keys"] if k["kid"] != "k1"]
    (data_dir / "evidence-keys.json").write_text(json.dumps(keys))
    newer = tmp_path / "newer.zip"
    newer.write_bytes(_store_and_export(_settings(data_dir)))
    checked = _argus(data_dir, "verify", str(newer))
    assert checked.returncode == 0, checked.stdout
    assert "bundle VALID: 2 item(s)" in checked.stdout


def test_rotate_key_refuses_keys_from_the_environment(tmp_path: Path) -> None:
    env = {**_env(tmp_path), "ARGUS_EVIDENCE_MASTER_KEYS": "k1:" + "A" * 43 + "="}
    result = subprocess.run(
        [ARGUS, "evidence", "rotate-key"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "ARGUS_EVIDENCE_MASTER_KEYS" in result.stderr
