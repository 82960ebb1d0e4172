"""Roles and permissions: what each role and API key may do, and camera scopes.

Three roles, each a superset of the one before (``viewer`` < ``operator`` <
``admin``); API keys carry an explicit subset of permissions, never ``admin``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, get_args

from argus.domain.checks import text
from argus.domain.errors import ValidationError

__all__ = [
    "API_KEY_PERMISSIONS",
    "PERMISSIONS",
    "ROLES",
    "ROLE_PERMISSIONS",
    "Permission",
    "Role",
    "check_cameras",
    "check_permissions",
    "check_role",
]


Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)

Permission = Literal["view", "operate", "configure", "ingest", "edge", "admin"]
"""``view``: read; ``operate``: act on alerts, incidents, evidence; ``configure``: cameras,
lines, zones, rules; ``ingest``: post events as an edge node; ``edge``: register as an
``argus edge`` node, read its configuration and sync its outbox; ``admin``: users, keys,
policy, audit."""
PERMISSIONS: tuple[Permission, ...] = get_args(Permission)

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    "viewer": frozenset({"view"}),
    "operator": frozenset({"view", "operate"}),
    "admin": frozenset(PERMISSIONS),
}

API_KEY_PERMISSIONS: frozenset[Permission] = frozenset(
    {"view", "operate", "configure", "ingest", "edge"}
)
"""What an API key may be granted: everything but ``admin``."""


def check_role(value: object) -> Role:
    """``value`` as a role (``ValidationError`` otherwise)."""
    if value not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}, got {value!r}")
    return value


def check_cameras(value: object, where: str) -> frozenset[str] | None:
    """A camera scope: ``None`` (all cameras) or a set of at most 1000 camera ids."""
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError(f"{where} must be a list of camera ids or null")
    ids = frozenset(text(v, where, 64) for v in value)
    if len(ids) > 1000:
        raise ValidationError(f"{where} names more than 1000 cameras")
    return ids


def check_permissions(value: object, allowed: frozenset[Permission]) -> frozenset[Permission]:
    """A non-empty subset of ``allowed``."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("permissions must be a list")
    chosen = frozenset(value)
    unknown = chosen - allowed
    if unknown or not chosen:
        raise ValidationError(
            f"permissions must be a non-empty subset of {sorted(allowed)}, got {sorted(chosen)}"
        )
    return chosen
