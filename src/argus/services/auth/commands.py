"""Typed commands of account administration, as handlers and the CLI pass them."""

from __future__ import annotations

from dataclasses import dataclass

from argus.domain.identity import Permission, Role
from argus.services.writes import UNSET, Unset

__all__ = ["NewApiKey", "NewUser", "UserChanges"]


@dataclass(frozen=True, slots=True)
class NewUser:
    """A user to create.

    Attributes:
        username: Unique name.
        password: Its password (checked for strength).
        role: ``viewer``, ``operator`` or ``admin``.
        cameras: The cameras it is limited to; ``None``: every camera.
        must_change_password: Whether the first sign-in must change the password.
    """

    username: str
    password: str
    role: Role
    cameras: frozenset[str] | None = None
    must_change_password: bool = False


@dataclass(frozen=True, slots=True)
class UserChanges:
    """Changes to a user; a field left ``UNSET`` keeps its value.

    Attributes:
        role: A new role.
        cameras: A new camera scope (``None``: every camera).
        disabled: Disable or enable the account.
        password: A new password (checked for strength).
        must_change_password: Whether the next sign-in must change the password.
    """

    role: Role | Unset = UNSET
    cameras: frozenset[str] | Unset | None = UNSET
    disabled: bool | Unset = UNSET
    password: str | Unset = UNSET
    must_change_password: bool | Unset = UNSET


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """An API key to make.

    Attributes:
        name: What it is for.
        permissions: What it may do (never admin).
        cameras: The cameras it is limited to; ``None``: every camera.
    """

    name: str
    permissions: frozenset[Permission]
    cameras: frozenset[str] | None = None
