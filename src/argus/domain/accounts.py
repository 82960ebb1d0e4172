"""Accounts: users who sign in, API keys of edge nodes and integrations, the security policy.

Only hashes of passwords and keys are kept; hashing, tokens and codes are
computed by the services layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Self

from argus.domain.checks import aware_utc, text
from argus.domain.codec import iso_or_none
from argus.domain.errors import ValidationError
from argus.domain.permissions import (
    API_KEY_PERMISSIONS,
    Permission,
    Role,
    check_cameras,
    check_permissions,
    check_role,
)

__all__ = ["ApiKey", "SecurityPolicy", "User"]

_USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@-")


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
        check_role(self.role)
        text(self.password_hash, "password_hash", 500)
        object.__setattr__(self, "created_at", aware_utc(self.created_at, "created_at"))
        object.__setattr__(self, "updated_at", aware_utc(self.updated_at, "updated_at"))
        object.__setattr__(self, "cameras", check_cameras(self.cameras, "cameras"))
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
            "created_at": iso_or_none(self.created_at),
            "updated_at": iso_or_none(self.updated_at),
            "cameras": None if self.cameras is None else sorted(self.cameras),
            "disabled": self.disabled,
            "must_change_password": self.must_change_password,
            "mfa_secret": self.mfa_secret,
            "mfa_pending": self.mfa_pending,
            "recovery_codes": list(self.recovery_codes),
            "last_totp_step": self.last_totp_step,
            "failed_logins": self.failed_logins,
            "locked_until": iso_or_none(self.locked_until),
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
                role=check_role(data["role"]),
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
        object.__setattr__(
            self, "permissions", check_permissions(self.permissions, API_KEY_PERMISSIONS)
        )
        object.__setattr__(self, "created_at", aware_utc(self.created_at, "created_at"))
        object.__setattr__(self, "cameras", check_cameras(self.cameras, "cameras"))
        object.__setattr__(self, "revoked_at", _optional_time(self.revoked_at, "revoked_at"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the stored body)."""
        return {
            "id": self.id,
            "name": self.name,
            "key_hash": self.key_hash,
            "permissions": sorted(self.permissions),
            "created_at": iso_or_none(self.created_at),
            "created_by": self.created_by,
            "cameras": None if self.cameras is None else sorted(self.cameras),
            "revoked_at": iso_or_none(self.revoked_at),
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
            self, "mfa_required_roles", frozenset(check_role(r) for r in self.mfa_required_roles)
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"mfa_required_roles": sorted(self.mfa_required_roles)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Inverse of ``to_dict``."""
        return cls(mfa_required_roles=frozenset(data.get("mfa_required_roles", ())))
