"""The auth services one by one, over the memory database and fake cryptography.

The fakes stand in for argon2, JWT, TOTP and AES-GCM (``argus.ports.crypto``),
so these cases run in milliseconds and check the services' own rules:
sessions, lockout, TOTP steps, MFA re-authentication, and account writes
with their audit records. ``test_auth_crypto.py`` checks the real adapters.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from argus.adapters.db.memory import MemoryDatabase
from argus.domain.actor import Actor
from argus.domain.audit import AuditEntry, AuditRecord
from argus.domain.errors import (
    AuthenticationError,
    ConfigError,
    PermissionDeniedError,
    RateLimitedError,
    StorageError,
    ValidationError,
)
from argus.domain.identity import Principal, Role, SecurityPolicy
from argus.ports.crypto import TOTP_STEP_S, AuthCrypto
from argus.services.auth import (
    AuthConfig,
    AuthService,
    MfaRequiredError,
    NewApiKey,
    NewUser,
    UserChanges,
)
from argus.services.auth.factors import SecondFactor
from argus.services.auth.tokens import AccessTokens
from argus.services.auth.trail import AuthTrail

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
PASSWORD = "correct horse battery"
ADMIN = Actor(principal=None, ip="203.0.113.9", name="cli:root")


class FakeHasher:
    def hash(self, password: str) -> str:
        return f"fake${password}"

    def verify(self, stored: str, password: str) -> bool:
        return stored == f"fake${password}"


class FakeCodec:
    def encode(self, claims: Mapping[str, Any]) -> str:
        return "tok." + json.dumps(dict(claims), sort_keys=True)

    def decode(
        self, token: str, *, audience: str, issuer: str, required: Sequence[str]
    ) -> dict[str, Any]:
        if not token.startswith("tok."):
            raise AuthenticationError("the access token is not valid: not a fake token")
        claims: dict[str, Any] = json.loads(token[4:])
        if claims.get("aud") != audience or claims.get("iss") != issuer:
            raise AuthenticationError("the access token is not valid: audience or issuer")
        if any(name not in claims for name in required):
            raise AuthenticationError("the access token is not valid: a claim is missing")
        return claims


class FakeTotp:
    """Codes that are the step number, whatever the secret."""

    def new_secret(self) -> str:
        return "FAKESECRET"

    def code(self, secret: str, step: int) -> str:
        return f"{step % 1_000_000:06d}"

    def enrolment(self, secret: str, username: str, issuer: str) -> tuple[str, bytes]:
        return f"otpauth://totp/{issuer}:{username}?secret={secret}", b"png"


class FakeBox:
    def seal(self, plaintext: str, context: str) -> str:
        return f"{context}|{plaintext}"

    def open(self, sealed: str, context: str) -> str:
        owner, _, plaintext = sealed.partition("|")
        if owner != context:
            raise ConfigError("a stored MFA secret does not decrypt")
        return plaintext


def fake_crypto() -> AuthCrypto:
    return AuthCrypto(FakeHasher(), FakeCodec(), FakeTotp(), FakeBox(), b"k" * 32)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def code_now(clock: Clock) -> str:
    return FakeTotp().code("", int(clock.now.timestamp() // TOTP_STEP_S))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def database() -> MemoryDatabase:
    return MemoryDatabase()


@pytest.fixture
def auth(database: MemoryDatabase, clock: Clock) -> AuthService:
    config = AuthConfig(max_failures=3, lockout_s=60.0)
    return AuthService(database, database.audit, fake_crypto(), config, clock=clock)


async def _records(database: MemoryDatabase) -> list[AuditRecord]:
    return await database.audit.records()


async def _user(auth: AuthService, name: str = "ann", role: Role = "operator") -> Principal:
    command = NewUser(username=name, password=PASSWORD, role=role)
    user = await auth.accounts.create_user(command, ADMIN)
    return Principal.of_user(user)


# --- sessions ------------------------------------------------------------------------------


async def test_a_sign_in_gives_tokens_whose_principal_is_the_user(auth: AuthService) -> None:
    ann = await _user(auth)
    pair = await auth.sessions.login("ann", PASSWORD, ip="198.51.100.1")
    assert pair.refresh_token is not None
    assert pair.restricted is None
    assert (await auth.authenticate(pair.access_token)).id == ann.id


async def test_a_reused_refresh_token_ends_the_session(auth: AuthService) -> None:
    await _user(auth)
    pair = await auth.sessions.login("ann", PASSWORD)
    assert pair.refresh_token is not None
    fresh = await auth.sessions.refresh(pair.refresh_token)
    with pytest.raises(AuthenticationError, match="already used"):
        await auth.sessions.refresh(pair.refresh_token)
    with pytest.raises(AuthenticationError, match="signed out"):
        await auth.authenticate(fresh.access_token)


async def test_failures_lock_the_account_until_the_lockout_ends(
    auth: AuthService, clock: Clock, database: MemoryDatabase
) -> None:
    await _user(auth)
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            await auth.sessions.login("ann", "not the password!")
    with pytest.raises(RateLimitedError):
        await auth.sessions.login("ann", PASSWORD)
    assert "auth.lockout" in [r.entry.action for r in await _records(database)]
    clock.now += timedelta(seconds=61)
    assert await auth.sessions.login("ann", PASSWORD)


async def test_an_unknown_name_and_a_wrong_password_read_the_same(auth: AuthService) -> None:
    await _user(auth)
    messages = []
    for name, password in (("nobody", PASSWORD), ("ann", "not the password!")):
        with pytest.raises(AuthenticationError) as caught:
            await auth.sessions.login(name, password)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


async def test_an_expired_access_token_is_refused_on_the_service_clock(
    auth: AuthService, clock: Clock, database: MemoryDatabase
) -> None:
    ann = await database.users.get((await _user(auth)).id)
    tokens = AccessTokens(FakeCodec(), 900, clock)
    token = tokens.issue(ann, clock.now, None, "session-1")
    assert tokens.decode(token)["sid"] == "session-1"
    clock.now += timedelta(seconds=900)
    with pytest.raises(AuthenticationError, match="expired"):
        tokens.decode(token)
    assert tokens.claims(token, check_expiry=False) is not None


# --- second factor -------------------------------------------------------------------------


def test_a_totp_code_is_good_one_step_either_side_and_once(clock: Clock) -> None:
    database = MemoryDatabase()
    trail = AuthTrail(database.audit, clock)
    factors = SecondFactor(FakeTotp(), FakeBox(), b"k" * 32, trail, clock)
    now = int(clock.now.timestamp() // TOTP_STEP_S)
    for step in (now - 1, now, now + 1):
        assert factors.step("S", f"{step % 1_000_000:06d}", -1) == step
    assert factors.step("S", f"{(now + 2) % 1_000_000:06d}", -1) is None
    assert factors.step("S", f"{now % 1_000_000:06d}", now) is None
    assert factors.step("S", "12345", -1) is None


def test_recovery_codes_hash_the_same_whatever_the_case_and_dashes(clock: Clock) -> None:
    database = MemoryDatabase()
    factors = SecondFactor(
        FakeTotp(), FakeBox(), b"k" * 32, AuthTrail(database.audit, clock), clock
    )
    codes, hashes = factors.recovery_codes()
    assert len(codes) == len(set(hashes)) == 10
    assert factors.code_hash(codes[0].upper().replace("-", " ")) == hashes[0]


async def test_mfa_enrolment_then_a_sign_in_needs_a_code_once(
    auth: AuthService, clock: Clock
) -> None:
    ann = await _user(auth)
    enrolment = await auth.mfa.begin(ann)
    assert enrolment.secret == "FAKESECRET"
    assert enrolment.qr_png == b"png"
    codes, pair = await auth.mfa.confirm(ann, code_now(clock))
    assert len(codes) == 10
    assert pair.refresh_token is not None
    with pytest.raises(MfaRequiredError):
        await auth.sessions.login("ann", PASSWORD)
    assert await auth.sessions.login("ann", PASSWORD, code_now(clock))
    with pytest.raises(AuthenticationError, match="wrong MFA code"):
        await auth.sessions.login("ann", PASSWORD, code_now(clock))
    assert await auth.sessions.login("ann", PASSWORD, codes[0])


async def test_turning_mfa_off_needs_the_password_and_a_code(
    auth: AuthService, clock: Clock, database: MemoryDatabase
) -> None:
    ann = await _user(auth)
    await auth.mfa.begin(ann)
    await auth.mfa.confirm(ann, code_now(clock))
    clock.now += timedelta(seconds=TOTP_STEP_S)
    with pytest.raises(AuthenticationError):
        await auth.mfa.disable(ann, PASSWORD)
    await auth.mfa.disable(ann, PASSWORD, code_now(clock))
    assert not (await database.users.get(ann.id)).mfa_enabled


async def test_the_policy_can_require_mfa(auth: AuthService) -> None:
    await _user(auth)
    await auth.accounts.set_policy(SecurityPolicy(frozenset({"operator"})), ADMIN)
    pair = await auth.sessions.login("ann", PASSWORD)
    assert pair.restricted == "mfa_enrolment"
    assert pair.refresh_token is None


# --- accounts ------------------------------------------------------------------------------


async def test_a_user_change_is_audited_with_its_fields_and_ends_sessions(
    auth: AuthService, database: MemoryDatabase
) -> None:
    ann = await _user(auth)
    pair = await auth.sessions.login("ann", PASSWORD)
    changes = UserChanges(role="viewer", cameras=None, password="another long secret")
    updated = await auth.accounts.update_user(ann.id, changes, ADMIN)
    assert updated.role == "viewer"
    assert updated.cameras is None
    with pytest.raises(AuthenticationError):
        await auth.authenticate(pair.access_token)
    last = (await _records(database))[-1].entry
    assert (last.action, last.actor, last.target, last.ip) == (
        "user.update",
        "cli:root",
        f"user:{ann.id}",
        "203.0.113.9",
    )
    assert dict(last.details) == {"role": "viewer", "cameras": None, "password_reset": True}


async def test_a_weak_password_is_refused(auth: AuthService) -> None:
    ann = await _user(auth)
    with pytest.raises(ValidationError):
        await auth.accounts.update_user(ann.id, UserChanges(password="short"), ADMIN)


@pytest.mark.parametrize(
    "changes",
    [UserChanges(role="viewer"), UserChanges(disabled=True)],
    ids=["demote", "disable"],
)
async def test_an_admin_cannot_demote_or_disable_itself(
    auth: AuthService, changes: UserChanges
) -> None:
    boss = await _user(auth, "boss", "admin")
    itself = Actor(principal=boss, ip="198.51.100.7")
    with pytest.raises(PermissionDeniedError):
        await auth.accounts.update_user(boss.id, changes, itself)
    with pytest.raises(PermissionDeniedError):
        await auth.accounts.delete_user(boss.id, itself)
    assert await auth.accounts.update_user(boss.id, UserChanges(cameras=frozenset()), itself)


async def test_an_api_key_works_until_revoked(auth: AuthService, database: MemoryDatabase) -> None:
    issued = await auth.accounts.create_key(
        NewApiKey(name="edge", permissions=frozenset({"ingest"})), ADMIN
    )
    assert issued.api_key.created_by == "cli:root"
    assert (await auth.authenticate_key(issued.key)).permissions == frozenset({"ingest"})
    await auth.accounts.revoke_key(issued.api_key.id, ADMIN)
    with pytest.raises(AuthenticationError, match="revoked"):
        await auth.authenticate_key(issued.key)
    actions = [r.entry.action for r in await _records(database)]
    assert actions[-2:] == ["apikey.create", "apikey.revoke"]


async def test_a_password_reset_with_mfa_is_audited_twice(
    auth: AuthService, clock: Clock, database: MemoryDatabase
) -> None:
    ann = await _user(auth)
    await auth.mfa.begin(ann)
    await auth.mfa.confirm(ann, code_now(clock))
    user, password = await auth.accounts.reset_password(ann.id, ADMIN, reset_mfa=True)
    assert user.must_change_password
    assert not user.mfa_enabled
    actions = [r.entry.action for r in await _records(database)]
    assert actions[-2:] == ["user.password_reset", "mfa.reset"]
    pair = await auth.sessions.login("ann", password)
    assert pair.restricted == "password_change"


async def test_an_account_write_whose_audit_record_fails_is_undone(
    database: MemoryDatabase, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[tuple[str, str | None]] = []

    async def on_revoked(principal_id: str, session: str | None) -> None:
        told.append((principal_id, session))

    auth = AuthService(database, database.audit, fake_crypto(), clock=clock, on_revoked=on_revoked)
    ann = await _user(auth)
    pair = await auth.sessions.login("ann", PASSWORD)
    issued = await auth.accounts.create_key(
        NewApiKey(name="edge", permissions=frozenset({"ingest"})), ADMIN
    )
    before, records = await database.users.get(ann.id), await _records(database)

    async def broken(entry: AuditEntry) -> AuditRecord:
        raise StorageError("the audit trail is unavailable")

    monkeypatch.setattr(database.audit, "append", broken)
    writes: list[Callable[[], Awaitable[object]]] = [
        lambda: auth.accounts.create_user(NewUser("bob", PASSWORD, "viewer"), ADMIN),
        lambda: auth.accounts.update_user(ann.id, UserChanges(role="viewer"), ADMIN),
        lambda: auth.accounts.unlock_user(ann.id, ADMIN),
        lambda: auth.accounts.reset_password(ann.id, ADMIN, reset_mfa=True),
        lambda: auth.accounts.reset_mfa(ann.id, ADMIN),
        lambda: auth.accounts.delete_user(ann.id, ADMIN),
        lambda: auth.accounts.create_key(
            NewApiKey(name="x", permissions=frozenset({"view"})), ADMIN
        ),
        lambda: auth.accounts.revoke_key(issued.api_key.id, ADMIN),
        lambda: auth.accounts.set_policy(SecurityPolicy(frozenset({"operator"})), ADMIN),
    ]
    for write in writes:
        with pytest.raises(StorageError, match="audit trail"):
            await write()
    monkeypatch.undo()
    assert await database.users.get(ann.id) == before
    assert await database.users.find("bob") is None
    assert (await database.api_keys.list()).total == 1
    assert (await auth.accounts.policy()) == SecurityPolicy()
    assert await _records(database) == records
    assert told == []  # nothing ended, so nothing was announced
    assert (await auth.authenticate_key(issued.key)).permissions == frozenset({"ingest"})
    assert pair.refresh_token is not None
    await auth.sessions.refresh(pair.refresh_token)  # the session was not ended either
