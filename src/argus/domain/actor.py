"""``Actor``: who performs a write and from where, as services receive it.

A handler turns the authenticated principal and the client address into an
``Actor`` and passes it, with a typed command, to a service. The service checks
the actor's camera scope, writes, and appends the audit record: the audit trail
never depends on a handler remembering to write it.
"""

from __future__ import annotations

from dataclasses import dataclass

from argus.domain.identity import Principal

__all__ = ["SYSTEM_ACTOR", "Actor"]


@dataclass(frozen=True, slots=True)
class Actor:
    """A principal acting from a client address.

    Attributes:
        principal: The user or API key; ``None`` for Argus itself (sweeps, CLI
            admin commands that name no user).
        ip: The client address, as the audit trail records it; ``None`` when
            there is none (CLI, background work).
        name: How the audit trail names an actor without a principal.
    """

    principal: Principal | None
    ip: str | None = None
    name: str = "system"

    @property
    def audit_name(self) -> str:
        """The audit trail's name for it: ``user:<name>``, ``apikey:<id>`` or ``name``."""
        return self.principal.actor if self.principal is not None else self.name

    def may_see(self, camera_id: str) -> bool:
        """Whether its camera scope includes ``camera_id`` (no principal: every camera)."""
        if self.principal is None or self.principal.cameras is None:
            return True
        return camera_id in self.principal.cameras


SYSTEM_ACTOR = Actor(principal=None)
"""Argus acting on its own (retention sweeps, resumption at start)."""
