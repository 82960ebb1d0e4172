"""``argus serve`` as a real process under attack: forged client addresses, readable files,
a one-time password in the log, and serving over TLS.

Every test runs the installed ``argus serve`` on a free loopback port (the
forwarded-address checks need uvicorn's real connection handling, which an
in-process client does not have).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import signal
import ssl
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from argus.bootstrap.first_admin import FIRST_ADMIN_FILE
from tests.e2e.conftest import ARGUS
from tests.e2e.serve_support import START_TIMEOUT, ServeProcess, free_port, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ATTEMPTS = 10
LOW_LOGIN_LIMIT = {
    # Three sign-ins per address, then (practically) none: the test admin's own sign-in
    # spends one, so an attacker on one address is refused from its third attempt on.
    "ARGUS_LOGIN_IP_BURST": "3",
    "ARGUS_LOGIN_IP_PER_S": "0.0001",
}


def _forged(i: int) -> str:
    return f"203.0.113.{i + 1}"


def _spray(server: ServeProcess) -> list[int]:
    """Wrong passwords for new usernames, each request claiming another client address."""
    codes = []
    for i in range(ATTEMPTS):
        answer = httpx.post(
            f"{server.base}/api/v1/auth/token",
            data={"username": f"nobody-{i}", "password": "not-the-password-1"},
            headers={"X-Forwarded-For": _forged(i), "X-Forwarded-Proto": "https"},
            timeout=30,
        )
        codes.append(answer.status_code)
    return codes


def _sign_in_addresses(server: ServeProcess) -> dict[str, str | None]:
    """The address the audit trail recorded for each sprayed username."""
    answer = httpx.get(
        f"{server.base}/api/v1/audit",
        params={"action": "auth.login", "limit": "100"},
        headers=server.headers,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    recorded: dict[str, str | None] = {}
    for record in answer.json()["items"]:
        actor = str(record["actor"])
        if actor.startswith("nobody-"):
            recorded[actor] = record["ip"]
    return recorded


def test_forwarded_for_from_an_untrusted_peer_changes_nothing(tmp_path: Path) -> None:
    env = {
        **LOW_LOGIN_LIMIT,
        "ARGUS_RATE_LIMIT_IP_BURST": "40",
        "ARGUS_RATE_LIMIT_IP_PER_S": "0.0001",
    }
    with serving(tmp_path / "data", tmp_path / "serve.log", env=env) as server:
        codes = _spray(server)
        # The per-address sign-in limit holds: rotating the header does not reset it.
        assert set(codes) <= {401, 429}, codes
        assert codes[-1] == 429, codes
        assert codes.count(401) <= 2, codes
        # The audit trail has the real peer, never the forged address.
        recorded = _sign_in_addresses(server)
        assert recorded, "no sign-in attempt was audited"
        assert set(recorded.values()) == {"127.0.0.1"}, recorded
        # The request budget per address holds as well (the earlier requests count).
        answers = [
            httpx.get(
                f"{server.base}/api/v1/cameras",
                headers={**server.headers, "X-Forwarded-For": _forged(i)},
                timeout=30,
            ).status_code
            for i in range(40)
        ]
        assert 429 in answers, answers


def test_forwarded_for_from_a_configured_proxy_names_the_client(tmp_path: Path) -> None:
    env = {**LOW_LOGIN_LIMIT, "ARGUS_TRUSTED_PROXIES": "127.0.0.1, ::1"}
    with serving(tmp_path / "data", tmp_path / "serve.log", env=env) as server:
        codes = _spray(server)
        # Each forwarded client is its own address: none reaches its limit.
        assert codes == [401] * ATTEMPTS, codes
        recorded = _sign_in_addresses(server)
        assert recorded == {f"nobody-{i}": _forged(i) for i in range(ATTEMPTS)}, recorded


@contextmanager
def _process(
    data_dir: Path, log: Path, env: dict[str, str], *args: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``argus serve`` with exactly ``env``'s ARGUS_* variables; SIGTERMed at the end."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_")}
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [ARGUS, "serve", "--data-dir", str(data_dir), *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**clean, **env},
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path, **client: Any) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"argus serve exited {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=2, **client).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"argus serve was not ready in {START_TIMEOUT} s:\n{log.read_text()}")
        time.sleep(0.1)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_is_private_and_the_one_time_password_stays_out_of_the_log(
    tmp_path: Path,
) -> None:
    data_dir, log, port = tmp_path / "data", tmp_path / "serve.log", free_port()
    base = f"http://127.0.0.1:{port}"
    with _process(data_dir, log, {}, "--port", str(port)) as process:
        _wait_ready(process, f"{base}/health/ready", log)
        output = log.read_text()
        password_file = data_dir / FIRST_ADMIN_FILE
        assert str(password_file) in output, output
        one_time = password_file.read_text().strip()
        assert len(one_time) >= 12
        # Its output is a log (not a terminal): the password is only in the file.
        assert one_time not in output
        # Nothing the server keeps is readable by other accounts.
        assert _mode(data_dir) == 0o700
        for name in (FIRST_ADMIN_FILE, "argus.db", "secret.key"):
            assert _mode(data_dir / name) == 0o600, name
        for path in data_dir.rglob("*"):
            assert _mode(path) & 0o007 == 0, f"{path} is open to others: {oct(_mode(path))}"
        # The password in the file is the admin's one-time password.
        answer = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": "admin", "password": one_time},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["restricted"] == "password_change"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "argus test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_speaks_tls_with_the_given_certificate(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    data_dir, log, port = tmp_path / "data", tmp_path / "serve.log", free_port()
    trusting = ssl.create_default_context(cafile=str(cert))
    args = ("--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key))
    env = {"ARGUS_ADMIN_PASSWORD": "admin-password-for-tls-test-1"}
    with _process(data_dir, log, env, *args) as process:
        base = f"https://127.0.0.1:{port}"
        _wait_ready(process, f"{base}/health/ready", log, verify=trusting)
        assert re.search(rf"serving on https://127\.0\.0\.1:{port}", log.read_text())
        answer = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": "admin", "password": "admin-password-for-tls-test-1"},
            verify=trusting,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        # Plain HTTP on the TLS port gets no answer from the API.
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=5).raise_for_status()
        # A client that does not trust the certificate refuses the connection.
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{base}/health/live", timeout=5)


def test_tls_options_go_together(tmp_path: Path) -> None:
    cert, _ = _self_signed(tmp_path)
    result = subprocess.run(
        [ARGUS, "serve", "--data-dir", str(tmp_path / "data"), "--tls-cert", str(cert)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "--tls-cert and --tls-key go together" in result.stderr
