"""Attacks on sign-in and on request handling, and what the server answers to each.

* Forged access tokens (another key, ``alg: none``, expired, not yet valid,
  wrong audience or issuer, missing claims, an edited payload, an empty HMAC
  key, another algorithm, garbage, a refresh token) and forged API keys: 401.
* Stolen sessions: a reused refresh token revokes its whole family; logout
  and a password change end sessions.
* Guessing: an account locks after ``login_max_failures`` wrong passwords
  (audited; an admin unlocks it); unknown names and wrong passwords answer
  alike; sign-ins and requests are limited per address and per user (429
  with ``Retry-After``).
* Oversized bodies: 413 with a JSON detail whether the size is declared or
  the body is chunked, and the server keeps serving.
* Path traversal in every path parameter of every item read: a 4xx, never a
  2xx or a 5xx, and never a byte of a file outside the data directory.

Tokens are forged with PyJWT (or by hand where PyJWT refuses, e.g. an empty
HMAC key); the server's real key is derived from the control plane's secret
as ``argus.adapters.crypto.auth_crypto`` derives it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
from fastapi import FastAPI

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.api.app import MAX_BODY
from argus.api.routers.evidence import UPLOAD_LIMIT
from argus.api.routers.workstations import PHOTO_UPLOAD_LIMIT
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from argus.domain.keys import derive_key
from tests.auth_support import (
    ADMIN,
    ADMIN_PASSWORD,
    USER_PASSWORD,
    admin_token,
    bearer,
    make_user,
    settings_for,
    sign_in,
)
from tests.integration.api_support import Api, api
from tests.integration.live_support import WAIT, served

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

TOKEN_KEY_LABEL = "argus access tokens v1"
AUDIENCE = "argus-api"
ISSUER = "argus"
WRONG = "not-the-password-123"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Api]:
    async with api("memory", tmp_path, signed_in=False) as running:
        yield running


def _app(data_dir: Path) -> FastAPI:
    async def opener(_: Settings) -> Adapters:
        return Adapters(
            database=MemoryDatabase(), bus=MemoryEventBus(ack_wait=0.5), pipelines=MemoryPipelines()
        )

    return build_app(settings_for(data_dir), open_adapters=opener)


DOCUMENT: dict[str, Any] = _app(Path("/nonexistent")).openapi()


def assert_unauthorised(answer: httpx.Response, what: str) -> None:
    """401 with ``WWW-Authenticate: Bearer`` and a JSON detail."""
    assert answer.status_code == 401, f"{what}: {answer.status_code} {answer.text[:300]}"
    assert answer.headers.get("www-authenticate") == "Bearer", what
    assert isinstance(answer.json()["detail"], str), what


def assert_limited(answer: httpx.Response, what: str) -> None:
    """429 with a positive whole ``Retry-After`` and a JSON detail."""
    assert answer.status_code == 429, f"{what}: {answer.status_code} {answer.text[:300]}"
    assert int(answer.headers["retry-after"]) >= 1, what
    assert isinstance(answer.json()["detail"], str), what


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def _actions(app: Api) -> list[tuple[str, str, str]]:
    records = await app.plane.database.audit.records(limit=1000)
    return [(r.entry.action, r.entry.outcome, r.entry.target) for r in records]


# --- forged tokens ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Facts:
    """What a forger works from: the server's key (for the cases that need it), the claims
    and token of a real viewer session, the admin's id, a refresh token and API keys."""

    key: bytes
    claims: dict[str, Any]
    token: str
    admin_id: str
    refresh_token: str
    api_key: str
    revoked_key: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: Mapping[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _hmac_signed(claims: Mapping[str, Any], key: bytes, alg: str = "HS256") -> str:
    """A JWT signed by hand: PyJWT refuses an empty key and warns about a short one."""
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[alg]
    signing_input = f"{_segment({'alg': alg, 'typ': 'JWT'})}.{_segment(claims)}"
    signature = hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(signature)}"


def _unsigned(claims: Mapping[str, Any], alg: str = "none") -> str:
    return f"{_segment({'alg': alg, 'typ': 'JWT'})}.{_segment(claims)}."


def _edited(token: str, **changes: Any) -> str:
    """``token`` with its payload changed and its original signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{header}.{_segment({**claims, **changes})}.{signature}"


def _signed(f: Facts, *, drop: str = "", **changes: Any) -> str:
    """The viewer's claims with ``changes`` (and without ``drop``), signed with the real key."""
    claims = {k: v for k, v in {**f.claims, **changes}.items() if k != drop}
    return jwt.encode(claims, f.key, algorithm="HS256")


def _now() -> int:
    return int(time.time())


def _none_header_kept_signature(f: Facts) -> str:
    _, payload, signature = f.token.split(".")
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{payload}.{signature}"


Forge = Callable[[Facts], dict[str, str]]


def _bearer(make: Callable[[Facts], str]) -> Forge:
    return lambda f: {"Authorization": f"Bearer {make(f)}"}


def _api_key(make: Callable[[Facts], str]) -> Forge:
    return lambda f: {"X-API-Key": make(f)}


def _wrong_last(key: str) -> str:
    """``key`` with its last character changed (a random key may end in any character)."""
    return key[:-1] + ("B" if key.endswith("A") else "A")


FORGERIES = [
    pytest.param(
        _bearer(
            lambda f: jwt.encode(
                f.claims, derive_key(b"another installation", TOKEN_KEY_LABEL), algorithm="HS256"
            )
        ),
        id="signed with another key",
    ),
    pytest.param(_bearer(lambda f: _unsigned(f.claims)), id="alg none"),
    pytest.param(_bearer(lambda f: _unsigned(f.claims, "None")), id="alg None"),
    pytest.param(_bearer(_none_header_kept_signature), id="alg none with the old signature"),
    pytest.param(_bearer(lambda f: _hmac_signed(f.claims, b"")), id="HS256 with an empty key"),
    pytest.param(
        _bearer(lambda f: _hmac_signed(f.claims, f.key, "HS512")),
        id="HS512 with the server key",
    ),
    pytest.param(
        _bearer(lambda f: _signed(f, iat=_now() - 7200, nbf=_now() - 7200, exp=_now() - 3600)),
        id="expired",
    ),
    pytest.param(
        _bearer(lambda f: _signed(f, nbf=_now() + 3600, exp=_now() + 7200)), id="not yet valid"
    ),
    pytest.param(
        _bearer(lambda f: _signed(f, iat=_now() + 3600, exp=_now() + 7200)),
        id="issued in the future",
    ),
    pytest.param(_bearer(lambda f: _signed(f, aud="another-api")), id="wrong audience"),
    pytest.param(_bearer(lambda f: _signed(f, drop="aud")), id="no audience"),
    pytest.param(_bearer(lambda f: _signed(f, iss="someone-else")), id="wrong issuer"),
    pytest.param(_bearer(lambda f: _signed(f, drop="exp")), id="no expiry"),
    pytest.param(_bearer(lambda f: _signed(f, drop="sub")), id="no subject"),
    pytest.param(_bearer(lambda f: _signed(f, sub="01NOSUCHUSER00000000000000")), id="no user"),
    pytest.param(_bearer(lambda f: _signed(f, tv=f.claims["tv"] + 1)), id="stale token version"),
    pytest.param(_bearer(lambda f: _signed(f, rst="superuser")), id="unknown restriction"),
    pytest.param(_bearer(lambda f: _edited(f.token, sub=f.admin_id)), id="subject swapped"),
    pytest.param(_bearer(lambda f: _edited(f.token, exp=_now() + 10**7)), id="expiry extended"),
    pytest.param(_bearer(lambda f: f.refresh_token), id="refresh token as access token"),
    pytest.param(_bearer(lambda f: f.api_key + "x"), id="API key with a wrong secret as bearer"),
    pytest.param(_bearer(lambda _: ""), id="empty bearer"),
    pytest.param(_bearer(lambda _: "garbage"), id="garbage"),
    pytest.param(_bearer(lambda _: "a.b.c"), id="three garbage segments"),
    pytest.param(_bearer(lambda _: "eyJhbGciOiJIUzI1NiJ9.."), id="header only"),
    pytest.param(_bearer(lambda _: "x" * 8000), id="8000 characters"),
    pytest.param(lambda _: {"Authorization": "Basic YWRtaW46YWRtaW4="}, id="basic auth"),
    pytest.param(_api_key(lambda f: _wrong_last(f.api_key)), id="API key with a wrong secret"),
    pytest.param(_api_key(lambda f: f.api_key.split(".")[0]), id="API key without a secret"),
    pytest.param(_api_key(lambda _: "ak_unknown.secret"), id="unknown API key"),
    pytest.param(_api_key(lambda _: "ak_" + "x" * 100 + ".s"), id="overlong API key id"),
    pytest.param(_api_key(lambda f: f.revoked_key), id="revoked API key"),
]


@pytest.fixture(scope="module")
async def forging(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Api, Facts]]:
    async with api("memory", tmp_path_factory.mktemp("forge"), signed_in=False) as app:
        tokens = await sign_in(app.client)
        admin = bearer(tokens["access_token"])
        viewer = await make_user(app.client, tokens["access_token"], "viewer", "viewer")
        me = await app.client.get("/api/v1/auth/me", headers=admin)
        keys = []
        for name in ("edge", "retired"):
            made = await app.client.post(
                "/api/v1/api-keys", json={"name": name, "permissions": ["view"]}, headers=admin
            )
            assert made.status_code == 201, made.text
            keys.append(made.json())
        revoked = await app.client.delete(f"/api/v1/api-keys/{keys[1]['id']}", headers=admin)
        assert revoked.status_code == 200, revoked.text
        facts = Facts(
            key=derive_key(app.plane.secret, TOKEN_KEY_LABEL),
            claims=jwt.decode(viewer, options={"verify_signature": False}),
            token=viewer,
            admin_id=me.json()["id"],
            refresh_token=tokens["refresh_token"],
            api_key=keys[0]["key"],
            revoked_key=keys[1]["key"],
        )
        yield app, facts


async def test_the_forger_knows_the_server_key(forging: tuple[Api, Facts]) -> None:
    """The control case: the viewer's claims re-signed with the derived key are accepted,
    so each forgery below is refused for what it changes, not for a wrong key."""
    app, facts = forging
    token = _signed(facts, jti=secrets.token_hex(8))
    me = await app.client.get("/api/v1/auth/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    assert me.json()["username"] == "viewer"
    key = await app.client.get("/api/v1/cameras", headers={"X-API-Key": facts.api_key})
    assert key.status_code == 200, key.text


@pytest.mark.parametrize("forge", FORGERIES)
async def test_forged_credentials_are_refused(forging: tuple[Api, Facts], forge: Forge) -> None:
    app, facts = forging
    headers = forge(facts)
    for path in ("/api/v1/auth/me", "/api/v1/cameras", "/metrics"):
        assert_unauthorised(await app.client.get(path, headers=headers), path)


# --- stolen sessions ----------------------------------------------------------------------


async def test_a_reused_refresh_token_revokes_its_whole_session(app: Api) -> None:
    first = await sign_in(app.client)
    other_session = await sign_in(app.client)
    second = await _refresh(app.client, first["refresh_token"])
    assert second.status_code == 200, second.text
    reused = await _refresh(app.client, first["refresh_token"])
    assert_unauthorised(reused, "the spent refresh token")
    assert "already used" in reused.json()["detail"]
    # The holder of the rotated token (thief or owner) is signed out too.
    assert_unauthorised(await _refresh(app.client, second.json()["refresh_token"]), "rotated")
    # Another sign-in of the same user is another family, untouched.
    assert (await _refresh(app.client, other_session["refresh_token"])).status_code == 200
    assert any(a[:2] == ("auth.refresh_reuse", "denied") for a in await _actions(app))


async def test_logout_revokes_the_session(app: Api) -> None:
    first = await sign_in(app.client)
    rotated = (await _refresh(app.client, first["refresh_token"])).json()
    out = await app.client.post(
        "/api/v1/auth/logout", json={"refresh_token": rotated["refresh_token"]}
    )
    assert out.status_code == 204, out.text
    assert_unauthorised(await _refresh(app.client, rotated["refresh_token"]), "after logout")
    assert_unauthorised(await _refresh(app.client, first["refresh_token"]), "its ancestor")


async def test_a_password_change_ends_every_session(app: Api) -> None:
    admin = await admin_token(app.client)
    await make_user(app.client, admin, "pat", "operator")
    sessions = [await sign_in(app.client, "pat", USER_PASSWORD) for _ in range(2)]
    new_password = "a-brand-new-password-99"
    changed = await app.client.post(
        "/api/v1/auth/password",
        json={"current_password": USER_PASSWORD, "new_password": new_password},
        headers=bearer(sessions[0]["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    for number, old in enumerate(sessions):
        me = await app.client.get("/api/v1/auth/me", headers=bearer(old["access_token"]))
        assert_unauthorised(me, f"access token of session {number}")
        refreshed = await _refresh(app.client, old["refresh_token"])
        assert_unauthorised(refreshed, f"refresh token of session {number}")
    fresh = bearer(changed.json()["access_token"])
    assert (await app.client.get("/api/v1/auth/me", headers=fresh)).status_code == 200
    assert (await _refresh(app.client, changed.json()["refresh_token"])).status_code == 200
    old_password = await app.client.post(
        "/api/v1/auth/token", data={"username": "pat", "password": USER_PASSWORD}
    )
    assert_unauthorised(old_password, "the old password")
    assert (await sign_in(app.client, "pat", new_password))["access_token"]


# --- guessing -----------------------------------------------------------------------------


async def _attempt(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )


async def test_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path, login_max_failures=3)
    async with api("memory", tmp_path, settings=settings, signed_in=False) as app:
        admin = bearer(await admin_token(app.client))
        made = await app.client.post(
            "/api/v1/users",
            json={"username": "target", "password": USER_PASSWORD, "role": "operator"},
            headers=admin,
        )
        user_id = made.json()["id"]
        for attempt in range(3):
            wrong = await _attempt(app.client, "target", WRONG)
            assert_unauthorised(wrong, f"wrong password {attempt}")
        for password in (USER_PASSWORD, WRONG):
            locked = await _attempt(app.client, "target", password)
            assert_limited(locked, "sign-in to a locked account")
            assert "locked" in locked.json()["detail"]
        shown = await app.client.get(f"/api/v1/users/{user_id}", headers=admin)
        assert shown.json()["locked_until"] is not None
        actions = await _actions(app)
        assert ("auth.lockout", "success", f"user:{user_id}") in actions
        denied = [a for a in actions if a[:2] == ("auth.login", "denied")]
        assert len(denied) == 2, denied

        unlocked = await app.client.post(f"/api/v1/users/{user_id}/unlock", headers=admin)
        assert unlocked.status_code == 200, unlocked.text
        assert unlocked.json()["locked_until"] is None
        assert (await sign_in(app.client, "target", USER_PASSWORD))["access_token"]
        assert ("user.unlock", "success", f"user:{user_id}") in await _actions(app)


async def test_unknown_names_and_wrong_passwords_get_the_same_answer(app: Api) -> None:
    wrong = await _attempt(app.client, ADMIN, WRONG)
    unknown = await _attempt(app.client, "nobody-of-that-name", WRONG)
    assert_unauthorised(wrong, "wrong password")
    assert_unauthorised(unknown, "unknown user")
    assert wrong.json() == unknown.json()
    assert wrong.headers.get("www-authenticate") == unknown.headers.get("www-authenticate")


async def test_sign_ins_are_limited_per_address(app: Api) -> None:
    burst = Settings(data_dir=Path("/nonexistent")).login_ip_burst
    # Right passwords, so the account never locks: the limit is on the address alone.
    # The bucket refills slowly while argon2 runs; allow that many extra attempts.
    signed_in = 0
    answer = await _attempt(app.client, ADMIN, ADMIN_PASSWORD)
    while answer.status_code == 200 and signed_in < 3 * burst:
        signed_in += 1
        answer = await _attempt(app.client, ADMIN, ADMIN_PASSWORD)
    assert_limited(answer, "sign-in over the address's budget")
    assert signed_in >= burst
    assert "sign-in attempts" in answer.json()["detail"]
    assert ("auth.login", "denied", "") in await _actions(app)


async def test_requests_are_limited_per_address(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, rate_limit_ip_burst=5, rate_limit_ip_per_s=0.01)
    async with api("memory", tmp_path, settings=settings, signed_in=False) as app:
        for _ in range(5):
            assert (await app.client.get("/api/v1/cameras")).status_code == 401
        assert_limited(await app.client.get("/api/v1/cameras"), "request over the budget")
        assert_limited(await _attempt(app.client, ADMIN, ADMIN_PASSWORD), "sign-in too")
        # Probes are exempt, so an orchestrator never restarts a server under a flood.
        assert (await app.client.get("/health/live")).status_code == 200


async def test_requests_are_limited_per_user(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, rate_limit_user_burst=3, rate_limit_user_per_s=0.01)
    async with api("memory", tmp_path, settings=settings, signed_in=False) as app:
        admin = await admin_token(app.client)
        viewer = await make_user(app.client, admin, "viewer", "viewer")  # the admin's 1st
        for _ in range(2):
            assert (await app.client.get("/api/v1/cameras", headers=bearer(admin))).is_success
        limited = await app.client.get("/api/v1/cameras", headers=bearer(admin))
        assert_limited(limited, "the admin's 4th request")
        assert "this user" in limited.json()["detail"]
        other = await app.client.get("/api/v1/cameras", headers=bearer(viewer))
        assert other.status_code == 200, "another user has its own budget"


# --- oversized bodies ---------------------------------------------------------------------

OVERSIZED = 2 << 20
"""Bytes sent to every route that takes a body (twice the default limit)."""
LIMITS = {
    ("POST", "/api/v1/incidents/{incident_id}/evidence"): UPLOAD_LIMIT + 65536,
    ("POST", "/api/v1/workstations/subjects/{subject_id}/photos"): PHOTO_UPLOAD_LIMIT,
    ("POST", "/api/v1/edge/sync"): Settings.model_fields["edge_sync_max_bytes"].default,
}
"""Routes with a limit other than ``MAX_BODY`` (the uploads)."""


def _bodies(document: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media_type in content:
                yield method.upper(), path, media_type


BODY_CASES = [
    pytest.param(method, path, media_type, mode, id=f"{method} {path} {mode}")
    for method, path, media_type in _bodies(DOCUMENT)
    for mode in ("declared", "chunked")
]


_MULTIPART_HEAD = (
    b"--argus\r\n"
    b'Content-Disposition: form-data; name="file"; filename="big.bin"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n"
)


async def _chunks(head: bytes, size: int) -> AsyncIterator[bytes]:
    """``head``, then filler up to ``size`` bytes in all, 64 KiB at a time."""
    yield head
    piece = b"x" * 65536
    sent = len(head)
    while sent < size:
        chunk = piece[: size - sent]
        sent += len(chunk)
        yield chunk


@pytest.fixture(scope="module")
async def signed(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    async with api("memory", tmp_path_factory.mktemp("bodies")) as running:
        yield running


def test_there_are_routes_with_bodies() -> None:
    assert len(BODY_CASES) >= 40, "the document lists fewer bodies than expected"


@pytest.mark.parametrize(("method", "path", "media_type", "mode"), BODY_CASES)
async def test_an_oversized_body_is_refused(
    signed: Api, method: str, path: str, media_type: str, mode: str
) -> None:
    limit = LIMITS.get((method, path), MAX_BODY)
    size = max(OVERSIZED, limit + 1)
    content_type, head = media_type, b""
    if media_type == "multipart/form-data":
        # A well-formed start, so the parser streams the file rather than failing at once.
        content_type, head = f"{media_type}; boundary=argus", _MULTIPART_HEAD
    url = path.replace("{", "").replace("}", "")  # any id: the limit comes before routing
    content: bytes | AsyncIterator[bytes] = _chunks(head, size)
    if mode == "declared":
        content = head + b"x" * (size - len(head))
    answer = await signed.client.request(
        method, url, content=content, headers={"Content-Type": content_type}
    )
    sent = answer.request.headers
    if mode == "chunked":
        assert "content-length" not in sent
        assert sent["transfer-encoding"] == "chunked"
    else:
        assert sent["content-length"] == str(size)
    assert answer.status_code == 413, f"{answer.status_code} {answer.text[:300]}"
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"detail": f"the body is over {limit} bytes"}
    assert (await signed.client.get("/health/live")).status_code == 200
    assert (await signed.client.get("/api/v1/auth/me")).status_code == 200


async def test_a_real_server_refuses_oversized_bodies_and_keeps_serving(tmp_path: Path) -> None:
    async with (
        served(_app(tmp_path)) as address,
        httpx.AsyncClient(base_url=f"http://{address}", timeout=WAIT) as http,
    ):
        admin = bearer(await admin_token(http))
        headers = {**admin, "Content-Type": "application/json"}
        for content in (b"x" * OVERSIZED, _chunks(b"", OVERSIZED)):
            answer = await http.post("/api/v1/cameras", content=content, headers=headers)
            assert answer.status_code == 413, answer.text[:300]
            assert answer.json() == {"detail": f"the body is over {MAX_BODY} bytes"}
            assert (await http.get("/health/live")).status_code == 200
            assert (await http.get("/api/v1/cameras", headers=admin)).status_code == 200


# --- path traversal -----------------------------------------------------------------------

TRAVERSALS = (
    "../../etc/passwd",
    "..%2F..%2Fsecret.key",
    "%2e%2e%2f%2e%2e%2fsecret.key",
    "..",
    "%2e%2e",
    "....//....//secret.key",
    "..%5C..%5Csecret.key",
    "%252e%252e%252fsecret.key",
    "%00",
    "secret.key%00.json",
    "%2Fetc%2Fpasswd",
)
"""Path parameter values as they go on the wire (a real server decodes them)."""

GET_ITEMS = [path for path, item in DOCUMENT["paths"].items() if "get" in item and "{" in path]


def _secret_strings(value: object) -> Iterator[str]:
    """Every long string in a JSON document (key material)."""
    if isinstance(value, str) and len(value) >= 16:
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secret_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _secret_strings(item)


async def _raw_get(address: str, target: str, token: str) -> tuple[int, bytes]:
    """GET ``target`` byte for byte (an HTTP client would normalise ``..`` away)."""
    host, port = address.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {address}\r\n"
            f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n"
        )
        writer.write(request.encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), WAIT)
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def test_there_are_item_reads() -> None:
    assert len(GET_ITEMS) >= 15, GET_ITEMS


async def test_path_traversal_in_ids_reads_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    outside = tmp_path / "secret.key"
    outside.write_text(secrets.token_hex(32))
    async with (
        served(_app(data_dir)) as address,
        httpx.AsyncClient(base_url=f"http://{address}", timeout=WAIT) as http,
    ):
        token = await admin_token(http)

        async def make(path: str, body: dict[str, Any]) -> str:
            answer = await http.post(path, json=body, headers=bearer(token))
            assert answer.status_code == 201, answer.text
            return str(answer.json()["id"])

        camera = await make("/api/v1/cameras", {"name": "a", "stream_url": "rtsp://127.0.0.1/a"})
        real = {
            "camera_id": camera,
            "line_id": await make(
                f"/api/v1/cameras/{camera}/lines", {"name": "l", "start": [0, 0], "end": [1, 1]}
            ),
            "zone_id": await make(
                f"/api/v1/cameras/{camera}/zones",
                {"name": "z", "polygon": [[0, 0], [1, 0], [1, 1]]},
            ),
        }
        markers = [outside.read_text(), "root:x:0:0"]
        for stored in sorted(data_dir.glob("*.json")):
            markers += list(_secret_strings(json.loads(stored.read_text())))
        assert len(markers) > 2, "the data directory holds no key file to look for"

        problems: list[str] = []
        for template in GET_ITEMS:
            names = [part[1:-1] for part in template.split("/") if part.startswith("{")]
            for name in names:
                for payload in TRAVERSALS:
                    target = template
                    for other in names:
                        value = payload if other == name else quote(real.get(other, "x"))
                        target = target.replace(f"{{{other}}}", value)
                    status, body = await _raw_get(address, target, token)
                    if not 400 <= status < 500:
                        problems.append(f"{target}: {status} {body[:200]!r}")
                    if any(marker.encode() in body for marker in markers):
                        problems.append(f"{target}: the answer holds a secret: {body[:200]!r}")
        assert not problems, "\n".join(problems)
        assert (await http.get("/api/v1/cameras", headers=bearer(token))).status_code == 200
