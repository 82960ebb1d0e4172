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
from dataclasses import dataclass
from typing import Literal

from argus.domain.accounts import ApiKey, SecurityPolicy, User
from argus.domain.errors import PermissionDeniedError
from argus.domain.permissions import (
    API_KEY_PERMISSIONS,
    PERMISSIONS,
    ROLE_PERMISSIONS,
    ROLES,
    Permission,
    Role,
)

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
