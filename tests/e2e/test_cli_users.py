"""``argus users list|create|reset-password|unlock``: account recovery on a SQLite data directory.

The installed ``argus`` command changes accounts while the real app runs in
this process over the same data directory and secret (``open_adapters``, as
``argus serve`` opens it, with in-memory pipelines); sign-ins go through its
HTTP API, so what is checked is what a user would see.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from argus.api.testing import running
from argus.bootstrap.adapters import open_adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from tests.auth_support import GENEROUS_LIMITS, bearer, totp_now
from tests.e2e.conftest import ARGUS
from tests.e2e.serve_support import free_port

pytestmark = [pytest.mark.slow, pytest.mark.anyio]

SECRET = "e2e-users-secret-0123456789abcdef"
NEW_PASSWORD = "a-new-password-for-e2e-31"
MAX_FAILURES = 3
ACTOR = f"cli:{getpass.getuser()}"

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def argus(data_dir: Path) -> Run:
    """Runs the installed ``argus`` on the test's data directory with its secret."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARGUS_")}
    env |= {"ARGUS_DATA_DIR": str(data_dir), "ARGUS_SECRET_KEY": SECRET}

    def run(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ARGUS, *args],
            capture_output=True,
            text=True,
            env=env | extra_env,
            timeout=300,
            check=False,
        )

    return run


async def _cli(argus: Run, *args: str) -> subprocess.CompletedProcess[str]:
    """``argus ...`` off the event loop, so the app keeps serving meanwhile."""
    return await asyncio.to_thread(argus, *args)


async def _one_time(argus: Run, *args: str) -> str:
    """Run a command that prints a one-time password; return it."""
    result = await _cli(argus, "users", *args)
    assert result.returncode == 0, result.stderr
    assert "It must be changed at the next sign-in." in result.stderr
    (password,) = result.stdout.split()
    return password


@asynccontextmanager
async def _app(data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the data directory the CLI uses; a client of its API."""
    settings = Settings(
        data_dir=data_dir,
        secret_key=SECRET,
        login_max_failures=MAX_FAILURES,
        **GENEROUS_LIMITS,
    )
    app = build_app(settings, open_adapters=open_adapters)
    async with (
        running(app) as asgi,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi), base_url="http://argus"
        ) as client,
    ):
        yield client


async def _sign_in(
    client: httpx.AsyncClient, username: str, password: str, otp: str | None = None
) -> httpx.Response:
    form = {"username": username, "password": password}
    if otp is not None:
        form["otp"] = otp
    return await client.post("/api/v1/auth/token", data=form)


async def _first_password(client: httpx.AsyncClient, username: str, one_time: str) -> Any:
    """Sign in with a one-time password (restricted) and change it; the full token body."""
    first = await _sign_in(client, username, one_time)
    assert first.status_code == 200, first.text
    assert (first.json()["restricted"], first.json()["refresh_token"]) == ("password_change", None)
    changed = await client.post(
        "/api/v1/auth/password",
        json={"current_password": one_time, "new_password": NEW_PASSWORD},
        headers=bearer(first.json()["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["restricted"] is None
    return changed.json()


async def _listed(argus: Run) -> dict[str, dict[str, Any]]:
    result = await _cli(argus, "users", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {user["username"]: user for user in json.loads(result.stdout)}


async def _cli_audit(argus: Run) -> list[dict[str, Any]]:
    """The CLI's audit records, newest first."""
    result = await _cli(argus, "audit", "list", "--actor", ACTOR, "--json")
    assert result.returncode == 0, result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


async def test_a_locked_out_admin_is_unlocked_and_its_password_reset(
    argus: Run, data_dir: Path
) -> None:
    one_time = await _one_time(argus, "create", "root", "--role", "admin")
    async with _app(data_dir) as client:
        tokens = await _first_password(client, "root", one_time)
        for _ in range(MAX_FAILURES):
            assert (await _sign_in(client, "root", "not-the-password")).status_code == 401
        assert (await _sign_in(client, "root", NEW_PASSWORD)).status_code == 429
        assert (await _listed(argus))["root"]["locked_until"] is not None

        unlocked = await _cli(argus, "users", "unlock", "root")
        assert unlocked.returncode == 0, unlocked.stderr
        assert (await _listed(argus))["root"]["locked_until"] is None
        assert (await _sign_in(client, "root", NEW_PASSWORD)).status_code == 200

        reset = await _one_time(argus, "reset-password", "root")
        assert (await _sign_in(client, "root", NEW_PASSWORD)).status_code == 401
        me = await client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 401
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 401
        again = await _sign_in(client, "root", reset)
        assert again.status_code == 200, again.text
        assert again.json()["restricted"] == "password_change"
    assert (await _listed(argus))["root"]["must_change_password"] is True
    records = await _cli_audit(argus)
    assert [r["action"] for r in records] == ["user.password_reset", "user.unlock", "user.create"]
    assert records[0]["details"]["username"] == "root"
    assert records[0]["details"]["revoked"] >= 1


async def test_reset_mfa_lets_a_user_sign_in_without_a_code(argus: Run, data_dir: Path) -> None:
    one_time = await _one_time(argus, "create", "ops", "--role", "operator")
    async with _app(data_dir) as client:
        tokens = await _first_password(client, "ops", one_time)
        token = bearer(tokens["access_token"])
        enrol = (await client.post("/api/v1/auth/mfa/enrol", headers=token)).json()
        confirmed = await client.post(
            "/api/v1/auth/mfa/confirm", json={"code": totp_now(enrol["secret"])}, headers=token
        )
        assert confirmed.status_code == 200, confirmed.text
        missing = await _sign_in(client, "ops", NEW_PASSWORD)
        assert (missing.status_code, missing.json()["code"]) == (401, "mfa_required")
        assert (await _listed(argus))["ops"]["mfa"] is True

        reset = await _one_time(argus, "reset-password", "ops", "--reset-mfa")
        signed_in = await _sign_in(client, "ops", reset)
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["restricted"] == "password_change"
    assert (await _listed(argus))["ops"]["mfa"] is False
    records = await _cli_audit(argus)
    assert [r["action"] for r in records][:2] == ["mfa.reset", "user.password_reset"]
    assert records[0]["details"]["had_mfa"] is True


async def test_list_shows_every_user(argus: Run) -> None:
    await _one_time(argus, "create", "root", "--role", "admin")
    await _one_time(argus, "create", "door", "--role", "viewer", "--camera", "b", "--camera", "a")
    listed = await _listed(argus)
    assert listed["door"] | {"id": "-"} == {
        "id": "-",
        "username": "door",
        "role": "viewer",
        "cameras": ["a", "b"],
        "disabled": False,
        "mfa": False,
        "locked_until": None,
        "failed_logins": 0,
        "must_change_password": True,
    }
    assert listed["root"]["cameras"] is None
    table = await _cli(argus, "users", "list")
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == [
        "USERNAME",
        "ROLE",
        "CAMERAS",
        "DISABLED",
        "MFA",
        "LOCKED",
        "UNTIL",
        "MUST",
        "CHANGE",
    ]
    assert [row.split() for row in rows] == [
        ["door", "viewer", "a,b", "no", "off", "-", "yes"],
        ["root", "admin", "all", "no", "off", "-", "yes"],
    ]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("reset-password", "nobody"), id="reset-password"),
        pytest.param(("reset-password", "nobody", "--reset-mfa"), id="reset-mfa"),
        pytest.param(("unlock", "nobody"), id="unlock"),
    ],
)
async def test_an_unknown_user_exits_1(argus: Run, args: tuple[str, ...]) -> None:
    result = await _cli(argus, "users", *args)
    assert result.returncode == 1
    assert result.stderr.strip() == "error: no user named nobody"
    assert result.stdout == ""


async def test_a_taken_name_exits_1(argus: Run) -> None:
    await _one_time(argus, "create", "root", "--role", "admin")
    result = await _cli(argus, "users", "create", "root", "--role", "viewer")
    assert result.returncode == 1
    assert "root" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


async def test_a_bad_role_is_a_usage_error(argus: Run) -> None:
    result = await _cli(argus, "users", "create", "root", "--role", "boss")
    assert result.returncode == 2
    assert "Invalid value for '--role'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_exits_1(argus: Run) -> None:
    url = f"postgresql://argus:hunter2-secret@127.0.0.1:{free_port()}/argus"
    result = argus("users", "list", ARGUS_DATABASE_URL=url)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot open the database postgresql://argus:***@")
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr
