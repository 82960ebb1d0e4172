"""What every write boundary shares: partial changes, camera scope, the audit record.

A service method that writes takes an ``Actor`` and a typed command. It checks
the actor's camera scope (``require_camera``, ``require_visible``), writes
inside a unit of work, and appends the audit record there (``record``), so
the record commits with the write. Partial updates are frozen dataclasses
whose fields default to ``UNSET`` (absent: keep the value); ``set_fields``
turns one into the fields to replace.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import UTC, datetime
from typing import Any, Final, Literal

from argus.domain.actor import Actor
from argus.domain.audit import AuditEntry, AuditOutcome
from argus.domain.errors import NotFoundError
from argus.ports.audit import AuditLog

__all__ = [
    "UNSET",
    "Unset",
    "audit_entry",
    "record",
    "require_camera",
    "require_visible",
    "set_fields",
]


class Unset(enum.Enum):
    """The type of ``UNSET``: a field of a change that was not given."""

    UNSET = "unset"

    def __bool__(self) -> Literal[False]:
        return False


UNSET: Final = Unset.UNSET
"""A field of a partial change that keeps its value."""


def set_fields(changes: object) -> dict[str, Any]:
    """The fields of a change dataclass that were given (not ``UNSET``), by name."""
    if not dataclasses.is_dataclass(changes):
        raise TypeError(f"a change is a dataclass, not {type(changes).__name__}")
    values = {f.name: getattr(changes, f.name) for f in dataclasses.fields(changes)}
    return {name: value for name, value in values.items() if value is not UNSET}


def require_camera(actor: Actor, camera_id: str | None) -> None:
    """Refuse a camera outside the actor's scope (``None``: things of no or every camera).

    Raises:
        PermissionDeniedError: The actor is camera-scoped and the camera is not in its scope.
    """
    if actor.principal is not None:
        actor.principal.require_camera(camera_id)


def require_visible(actor: Actor, camera_id: str | None, what: str) -> None:
    """Refuse a thing of a camera outside the actor's scope as if it did not exist.

    Raises:
        NotFoundError: ``no {what}`` when the actor may not see the camera.
    """
    if actor.principal is not None and not actor.principal.sees_camera(camera_id):
        raise NotFoundError(f"no {what}")


def audit_entry(
    actor: Actor,
    action: str,
    target: str,
    *,
    outcome: AuditOutcome = "success",
    at: datetime | None = None,
    **details: Any,
) -> AuditEntry:
    """The audit entry of an actor's action (who, from where, on what) at ``at`` or now."""
    return AuditEntry(
        action=action,
        actor=actor.audit_name,
        at=at if at is not None else datetime.now(UTC),
        target=target,
        outcome=outcome,
        details=details,
        ip=actor.ip,
    )


async def record(
    audit: AuditLog,
    actor: Actor,
    action: str,
    target: str,
    *,
    outcome: AuditOutcome = "success",
    at: datetime | None = None,
    **details: Any,
) -> None:
    """Append an actor's action to ``audit`` (a unit's log: it commits with the unit)."""
    await audit.append(audit_entry(actor, action, target, outcome=outcome, at=at, **details))
