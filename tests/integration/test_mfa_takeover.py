"""Taking over an account's second factor with a stolen access token, and signing in after MFA.

The attacks: with only the owner's access token, ``POST /auth/mfa/enrol`` and
``/auth/mfa/confirm`` replaced an active TOTP secret (minting new recovery
codes and ending the owner's sessions), and ``/auth/mfa/disable`` needed only
the password. Both now need the password and a current code (or a recovery
code). And the first sign-in right after confirming MFA failed, because
confirming used up the current 30 s step.

The service cases run on a fixed, injected clock over every store; the API
cases check the same through HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from argus.adapters.crypto import auth_crypto
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.db.sql import SqlDatabase, async_url
from argus.domain.actor import Actor
from argus.domain.errors import AuthenticationError
from argus.domain.identity import Principal
from argus.ports.repositories import Database
from argus.services.auth import AuthService, NewUser
from tests.auth_support import ADMIN, ADMIN_PASSWORD, bearer, sign_in
from tests.integration.api_support import SECRET, Api, api
from tests.integration.test_session_revocation import POSTGRES_URL

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

PASSWORD = "correct-horse-battery-9"
T0 = datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)
"""Ten seconds into a 30 s TOTP step."""


class Clock:
    """The service's time, moved by the test."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    kind = str(request.param)
    if kind == "memory":
        yield MemoryDatabase()
        return
    if kind == "sqlite":
        store = await SqlDatabase.open(f"sqlite:///{tmp_path / 'argus.db'}", secret_key=SECRET)
        yield store
        await store.close()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    store = await SqlDatabase.open(POSTGRES_URL, secret_key=SECRET, schema=schema)
    try:
        yield store
    finally:
        await store.close()
        engine = create_async_engine(async_url(POSTGRES_URL))
        try:
            async with engine.begin() as connection:
                await connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            await engine.dispose()


def _code(secret: str, at: datetime) -> str:
    return str(pyotp.TOTP(secret).at(at))


async def _with_mfa(
    database: Database, clock: Clock
) -> tuple[AuthService, Principal, str, list[str]]:
    """A user ``ann`` with MFA on; the service, her principal, her TOTP secret, her codes."""
    auth = AuthService(database, database.audit, auth_crypto(SECRET), clock=clock)
    await auth.accounts.create_user(
        NewUser(username="ann", password=PASSWORD, role="operator"),
        Actor(principal=None, name="cli:test"),
    )
    principal = await auth.authenticate((await auth.sessions.login("ann", PASSWORD)).access_token)
    secret = (await auth.mfa.begin(principal)).secret
    codes, pair = await auth.mfa.confirm(principal, _code(secret, clock.now))
    return auth, await auth.authenticate(pair.access_token), secret, codes


async def test_the_first_sign_in_after_confirming_uses_the_same_code(database: Database) -> None:
    clock = Clock()
    auth, _, secret, _ = await _with_mfa(database, clock)
    code = _code(secret, clock.now)  # still the step the enrolment was confirmed in
    assert (await auth.sessions.login("ann", PASSWORD, code)).refresh_token is not None
    # But a code is still good for one sign-in only: a replay is refused.
    with pytest.raises(AuthenticationError):
        await auth.sessions.login("ann", PASSWORD, code)
    clock.now += timedelta(seconds=30)
    assert (await auth.sessions.login("ann", PASSWORD, _code(secret, clock.now))).refresh_token


async def test_a_stolen_token_cannot_replace_an_active_secret(database: Database) -> None:
    clock = Clock()
    auth, stolen, secret, codes = await _with_mfa(database, clock)
    clock.now += timedelta(seconds=30)
    code = _code(secret, clock.now)
    attempts: list[tuple[str | None, str | None]] = [
        (None, None),
        (PASSWORD, None),
        (None, code),
        ("not-the-password-1", code),
        (PASSWORD, "000000"),
    ]
    for password, otp in attempts:
        with pytest.raises(AuthenticationError):
            await auth.mfa.begin(stolen, password=password, otp=otp)
    assert (await database.users.find("ann")) is not None
    # The owner, with her password and a current code, re-enrols; the old secret is gone.
    fresh = await auth.mfa.begin(stolen, password=PASSWORD, otp=code)
    new_codes, _ = await auth.mfa.confirm(stolen, _code(fresh.secret, clock.now))
    assert set(new_codes).isdisjoint(codes)
    clock.now += timedelta(seconds=30)
    with pytest.raises(AuthenticationError):
        await auth.sessions.login("ann", PASSWORD, _code(secret, clock.now))
    assert await auth.sessions.login("ann", PASSWORD, _code(fresh.secret, clock.now))


async def test_a_stolen_token_and_the_password_cannot_turn_mfa_off(database: Database) -> None:
    clock = Clock()
    auth, stolen, _, codes = await _with_mfa(database, clock)
    with pytest.raises(AuthenticationError):
        await auth.mfa.disable(stolen, PASSWORD)
    with pytest.raises(AuthenticationError):
        await auth.mfa.disable(stolen, PASSWORD, "000000")
    user = await database.users.get(stolen.id)
    assert user.mfa_enabled
    # A recovery code stands in for a lost phone.
    await auth.mfa.disable(stolen, PASSWORD, codes[0])
    assert not (await database.users.get(stolen.id)).mfa_enabled


async def test_wrong_reauthentication_counts_towards_the_lockout(database: Database) -> None:
    """A stolen token must not become a way to guess the password without a lockout."""
    clock = Clock()
    auth, stolen, secret, _ = await _with_mfa(database, clock)
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            await auth.mfa.disable(stolen, "not-the-password-1", _code(secret, clock.now))
    assert (await database.users.get(stolen.id)).locked(clock.now)


# --- through HTTP ---------------------------------------------------------------------------


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Api]:
    async with api("memory", tmp_path, signed_in=False) as running:
        yield running


async def test_mfa_routes_refuse_a_token_alone(app: Api) -> None:
    admin = (await sign_in(app.client))["access_token"]
    enrol = await app.client.post("/api/v1/auth/mfa/enrol", headers=bearer(admin))
    secret = enrol.json()["secret"]
    confirmed = await app.client.post(
        "/api/v1/auth/mfa/confirm",
        json={"code": pyotp.TOTP(secret).now()},
        headers=bearer(admin),
    )
    assert confirmed.status_code == 200, confirmed.text
    stolen = bearer(confirmed.json()["tokens"]["access_token"])
    for body in ({}, {"password": ADMIN_PASSWORD}):
        again = await app.client.post("/api/v1/auth/mfa/enrol", json=body, headers=stolen)
        assert again.status_code == 401, again.text
    off = await app.client.post(
        "/api/v1/auth/mfa/disable", json={"password": ADMIN_PASSWORD}, headers=stolen
    )
    assert off.status_code == 401, off.text
    minted = await app.client.post("/api/v1/auth/mfa/recovery-codes", headers=stolen)
    assert minted.status_code == 401, minted.text
    me = await app.client.get("/api/v1/auth/me", headers=stolen)
    assert me.json()["mfa_enabled"] is True
    # The owner signs in at once with the code she confirmed with.
    signed = await sign_in(app.client, ADMIN, ADMIN_PASSWORD, pyotp.TOTP(secret).now())
    assert signed["access_token"]


SECRET_ANSWERS: list[tuple[str, str, Callable[[str], dict[str, object]]]] = [
    ("POST", "/api/v1/auth/mfa/enrol", lambda _: {}),
    ("POST", "/api/v1/auth/refresh", lambda refresh: {"refresh_token": refresh}),
]


async def test_token_answers_are_not_cached(app: Api) -> None:
    form = {"username": ADMIN, "password": ADMIN_PASSWORD}
    signed = await app.client.post("/api/v1/auth/token", data=form)
    assert signed.headers["cache-control"] == "no-store"
    tokens = signed.json()
    headers = bearer(tokens["access_token"])
    for method, path, body in SECRET_ANSWERS:
        answer = await app.client.request(
            method, path, json=body(tokens["refresh_token"]), headers=headers
        )
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["cache-control"] == "no-store", path
        if "access_token" in answer.json():
            headers = bearer(answer.json()["access_token"])
    enrolment = await app.client.post("/api/v1/auth/mfa/enrol", headers=headers)
    confirmed = await app.client.post(
        "/api/v1/auth/mfa/confirm",
        json={"code": pyotp.TOTP(enrolment.json()["secret"]).now()},
        headers=headers,
    )
    assert confirmed.headers["cache-control"] == "no-store"
    headers = bearer(confirmed.json()["tokens"]["access_token"])
    spare = confirmed.json()["recovery_codes"][0]
    reauth = {"password": ADMIN_PASSWORD, "otp": spare}
    codes = await app.client.post("/api/v1/auth/mfa/recovery-codes", json=reauth, headers=headers)
    assert codes.status_code == 200, codes.text
    assert codes.headers["cache-control"] == "no-store"
