"""Who may do what: users, roles, camera scopes, API keys and the principal of a request.

Three roles, each a superset of the one before:

* **viewer** sees cameras, events, analytics, alerts, incidents and evidence;
* **operator** also acts on alerts and incidents (acknowledge, confirm,
  dismiss, notes, status, evidence lock and export);
* **admin** also configures cameras, lines, zones and rules, and manages
  users, API keys, the security policy and the audit trail.

A user may be scoped to a set of cameras: it then sees and acts on those
cameras only. API keys carry an explicit subset of permissions (never
``admin``) and optionally a camera set; edge nodes get ``ingest``.

Everything here is pure: password hashing, tokens and codes are computed by
the services layer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, Self, get_args

from argus.domain.checks import aware_utc, text
from argus.domain.errors import PermissionDeniedError, ValidationError

__all__ = [
    "API_KEY_PERMISSIONS",
    "PERMISSIONS",
    "ROLES",
    "ROLE_PERMISSIONS",
    "ApiKey",
    "Permission",
    "Principal",
    "Role",
    "SecurityPolicy",
    "User",
    "printable",
]

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)

Permission = Literal["view", "operate", "configure", "ingest", "admin"]
"""``view``: read; ``operate``: act on alerts, incidents, evidence; ``configure``: cameras,
lines, zones, rules; ``ingest``: post events as an edge node; ``admin``: users, keys, policy,
audit."""
PERMISSIONS: tuple[Permission, ...] = get_args(Permission)

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    "viewer": frozenset({"view"}),
    "operator": frozenset({"view", "operate"}),
    "admin": frozenset(PERMISSIONS),
}

API_KEY_PERMISSIONS: frozenset[Permission] = frozenset({"view", "operate", "configure", "ingest"})
"""What an API key may be granted: everything but ``admin``."""

_UNPRINTABLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
"""Unicode categories shown escaped: controls (newline, escape), format characters
(right-to-left overrides), line and paragraph separators, surrogates, unassigned."""


def printable(value: str) -> str:
    """``value`` safe to print on one line of a terminal.

    Control, format and separator characters are written as Python escapes
    (``\\n``, ``\\x1b``, ``\\u202e``) and backslashes are doubled, so a name
    holding a newline or a terminal escape cannot forge a line of a listing,
    and an escape shown cannot be confused with one typed.
    """
    out: list[str] = []
    for char in value:
        if char == "\\":
            out.append("\\\\")
        elif unicodedata.category(char) in _UNPRINTABLE:
            out.append(char.encode("unicode_escape", "backslashreplace").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


_USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@-")


def _role(value: object) -> Role:
    if value not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}, got {value!r}")
    return value


def _cameras(value: object, where: str) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError(f"{where} must be a list of camera ids or null")
    ids = frozenset(text(v, where, 64) for v in value)
    if len(ids) > 1000:
        raise ValidationError(f"{where} names more than 1000 cameras")
    return ids


def _permissions(value: object, allowed: frozenset[Permission]) -> frozenset[Permission]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("permissions must be a list")
    chosen = frozenset(value)
    unknown = chosen - allowed
    if unknown or not chosen:
        raise ValidationError(
            f"permissions must be a non-empty subset of {sorted(allowed)}, got {sorted(chosen)}"
        )
    return chosen


def _optional_time(value: object, where: str) -> datetime | None:
    return None if value is None else aware_utc(value, where)


def _time(value: object) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError(f"bad timestamp {value!r}") from exc
    if isinstance(value, datetime):
        return value
    raise ValidationError(f"bad timestamp {value!r}")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class User:
    """A person who signs in.

    Attributes:
        id: Stable id.
        username: Unique sign-in name (letters, digits, ``_.@-``).
        role: ``viewer``, ``operator`` or ``admin``.
        password_hash: The argon2id hash (never the password).
        created_at: When the account was made.
        updated_at: When it last changed.
        cameras: The cameras the user is limited to; ``None`` = all.
        disabled: A disabled user cannot sign in; its tokens stop working.
        must_change_password: Set for a one-time password; until changed, the
            user may only change it (and enrol MFA).
        mfa_secret: The TOTP secret, encrypted by the service (``None`` = no MFA).
        mfa_pending: A secret being enrolled, not yet confirmed by a code.
        recovery_codes: Hashes of unused one-time recovery codes.
        failed_logins: Failed sign-ins in a row.
        locked_until: Sign-in refused until then after too many failures.
        token_version: Bumped to invalidate every access token issued before.
        version: Optimistic concurrency version.
    """

    id: str
    username: str
    role: Role
    password_hash: str
    created_at: datetime
    updated_at: datetime
    cameras: frozenset[str] | None = None
    disabled: bool = False
    must_change_password: bool = False
    mfa_secret: str | None = None
    mfa_pending: str | None = None
    recovery_codes: tuple[str, ...] = ()
    last_totp_step: int = 0
    failed_logins: int = 0
    locked_until: datetime | None = None
    token_version: int = 0
    version: int = 1

    def __post_init__(self) -> None:
        text(self.id, "user id", 64)
        name = text(self.username, "username", 100)
        if not set(name) <= _USERNAME_CHARS:
            raise ValidationError("username may hold letters, digits and _ . @ - only")
        _role(self.role)
        text(self.password_hash, "password_hash", 500)
        object.__setattr__(self, "created_at", aware_utc(self.created_at, "created_at"))
        object.__setattr__(self, "updated_at", aware_utc(self.updated_at, "updated_at"))
        object.__setattr__(self, "cameras", _cameras(self.cameras, "cameras"))
        object.__setattr__(self, "locked_until", _optional_time(self.locked_until, "locked_until"))
        if self.failed_logins < 0 or self.token_version < 0 or self.version < 1:
            raise ValidationError("counters must not be negative")

    @property
    def mfa_enabled(self) -> bool:
        """True once a TOTP secret was confirmed."""
        return self.mfa_secret is not None

    def locked(self, now: datetime) -> bool:
        """True while sign-in is refused after too many failures."""
        return self.locked_until is not None and now < self.locked_until

    def evolve(self, now: datetime, **changes: Any) -> User:
        """A copy with ``changes``, ``updated_at = now`` and the next version."""
        return replace(self, updated_at=now, version=self.version + 1, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the stored body; holds hashes and the encrypted secret)."""
        return {
            "id": self.id,
            "username": self.username,
            "role": self.role,
            "password_hash": self.password_hash,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "cameras": None if self.cameras is None else sorted(self.cameras),
            "disabled": self.disabled,
            "must_change_password": self.must_change_password,
            "mfa_secret": self.mfa_secret,
            "mfa_pending": self.mfa_pending,
            "recovery_codes": list(self.recovery_codes),
            "last_totp_step": self.last_totp_step,
            "failed_logins": self.failed_logins,
            "locked_until": _iso(self.locked_until),
            "token_version": self.token_version,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of ``to_dict``.

        Raises:
            ValidationError: A field is missing or invalid.
        """
        try:
            locked = data.get("locked_until")
            return cls(
                id=data["id"],
                username=data["username"],
                role=_role(data["role"]),
                password_hash=data["password_hash"],
                created_at=_time(data["created_at"]),
                updated_at=_time(data["updated_at"]),
                cameras=data.get("cameras"),
                disabled=bool(data.get("disabled", False)),
                must_change_password=bool(data.get("must_change_password", False)),
                mfa_secret=data.get("mfa_secret"),
                mfa_pending=data.get("mfa_pending"),
                recovery_codes=tuple(data.get("recovery_codes", ())),
                last_totp_step=int(data.get("last_totp_step", 0)),
                failed_logins=int(data.get("failed_logins", 0)),
                locked_until=None if locked is None else _time(locked),
                token_version=int(data.get("token_version", 0)),
                version=int(data.get("version", 1)),
            )
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"not a stored user: {exc}") from exc


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key for an edge node or an integration; only its hash is stored.

    Attributes:
        id: Public id (the first part of the key).
        name: What it is for.
        key_hash: SHA-256 of the secret part (the key is 256 random bits, so a
            fast hash is enough).
        permissions: What it may do (never ``admin``).
        created_at: When it was made.
        created_by: The admin who made it.
        cameras: Cameras it is limited to; ``None`` = all.
        revoked_at: When it was revoked (it no longer works).
    """

    id: str
    name: str
    key_hash: str
    permissions: frozenset[Permission]
    created_at: datetime
    created_by: str
    cameras: frozenset[str] | None = None
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        text(self.id, "key id", 64)
        text(self.name, "name", 200)
        text(self.key_hash, "key_hash", 64)
        object.__setattr__(self, "permissions", _permissions(self.permissions, API_KEY_PERMISSIONS))
        object.__setattr__(self, "created_at", aware_utc(self.created_at, "created_at"))
        object.__setattr__(self, "cameras", _cameras(self.cameras, "cameras"))
        object.__setattr__(self, "revoked_at", _optional_time(self.revoked_at, "revoked_at"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the stored body)."""
        return {
            "id": self.id,
            "name": self.name,
            "key_hash": self.key_hash,
            "permissions": sorted(self.permissions),
            "created_at": _iso(self.created_at),
            "created_by": self.created_by,
            "cameras": None if self.cameras is None else sorted(self.cameras),
            "revoked_at": _iso(self.revoked_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of ``to_dict``."""
        try:
            revoked = data.get("revoked_at")
            return cls(
                id=data["id"],
                name=data["name"],
                key_hash=data["key_hash"],
                permissions=frozenset(data["permissions"]),
                created_at=_time(data["created_at"]),
                created_by=data["created_by"],
                cameras=data.get("cameras"),
                revoked_at=None if revoked is None else _time(revoked),
            )
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"not a stored API key: {exc}") from exc


@dataclass(frozen=True, slots=True)
class SecurityPolicy:
    """Installation-wide rules an admin sets.

    Attributes:
        mfa_required_roles: Roles that must use TOTP; their users without MFA
            may only enrol until they do.
    """

    mfa_required_roles: frozenset[Role] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "mfa_required_roles", frozenset(_role(r) for r in self.mfa_required_roles)
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"mfa_required_roles": sorted(self.mfa_required_roles)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of ``to_dict``."""
        return cls(mfa_required_roles=frozenset(data.get("mfa_required_roles", ())))


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as, and what that allows.

    Attributes:
        kind: ``user`` or ``apikey``.
        id: The user or key id.
        name: Username or key name (for messages and the audit trail).
        permissions: What it may do.
        cameras: The cameras it is limited to; ``None`` = all.
        role: The user's role (``None`` for a key).
        restricted: A user who must first change the password or enrol MFA;
            only those endpoints accept it.
    """

    kind: Literal["user", "apikey"]
    id: str
    name: str
    permissions: frozenset[Permission]
    cameras: frozenset[str] | None = None
    role: Role | None = None
    restricted: str | None = None

    @classmethod
    def of_user(cls, user: User, *, restricted: str | None = None) -> Principal:
        """The principal of a signed-in user."""
        return cls(
            kind="user",
            id=user.id,
            name=user.username,
            permissions=ROLE_PERMISSIONS[user.role],
            cameras=user.cameras,
            role=user.role,
            restricted=restricted,
        )

    @classmethod
    def of_key(cls, key: ApiKey) -> Principal:
        """The principal of an API key."""
        return cls(
            kind="apikey",
            id=key.id,
            name=key.name,
            permissions=key.permissions,
            cameras=key.cameras,
        )

    @property
    def actor(self) -> str:
        """How the audit trail and alert history name it: ``user:<name>`` or ``apikey:<id>``."""
        return f"user:{self.name}" if self.kind == "user" else f"apikey:{self.id}"

    def can(self, permission: Permission) -> bool:
        """True when ``permission`` is granted."""
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        """Raise unless ``permission`` is granted.

        A camera-scoped admin configures its cameras but may not manage users,
        keys or the policy: it could otherwise widen its own scope.

        Raises:
            PermissionDeniedError: It is not.
        """
        if permission not in self.permissions:
            raise PermissionDeniedError(f"{self.actor} may not {permission}")
        if permission == "admin" and self.cameras is not None:
            raise PermissionDeniedError(
                f"{self.actor} is limited to some cameras and may not manage users or keys"
            )

    def sees_camera(self, camera_id: str | None) -> bool:
        """True when the principal's camera scope includes ``camera_id``.

        Things without a camera (``None``: an installation-wide rule or an
        incident of no camera) are seen by unscoped principals only.
        """
        if self.cameras is None:
            return True
        return camera_id is not None and camera_id in self.cameras

    def require_camera(self, camera_id: str | None) -> None:
        """Raise unless the camera is in scope.

        Raises:
            PermissionDeniedError: It is not.
        """
        if not self.sees_camera(camera_id):
            raise PermissionDeniedError(f"camera {camera_id} is outside {self.actor}'s scope")

    def camera_filter(self, camera_id: str | None) -> tuple[str, ...] | None:
        """The camera set a list query must be limited to.

        Returns ``None`` (no limit) for an unscoped principal without a
        filter, the one camera asked for when it is in scope, or the whole
        scope (sorted).

        Raises:
            PermissionDeniedError: ``camera_id`` is outside the scope.
        """
        if camera_id is not None:
            self.require_camera(camera_id)
            return (camera_id,)
        return None if self.cameras is None else tuple(sorted(self.cameras))
