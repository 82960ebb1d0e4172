"""The unit of work: several writes (and their audit record) committed as one.

``Database.unit_of_work()`` is an async context manager that yields a
``UnitOfWork``: repositories bound to one transaction. Leaving the block
normally commits every write made through them; leaving it with an exception
rolls every one of them back and re-raises. A repository error raised inside
the block (``ConflictError``, ``NotFoundError``, ``StorageError``) ends the
unit: let it propagate rather than catch it and write on.

Reads through the unit see its own writes. Writes made through the
``Database``'s own repositories are not part of the unit (each is its own
transaction, as ``argus.ports.repositories`` says). A unit is short: it holds
the store's write lock (SQLite, the memory store) or the locks of the rows it
wrote (PostgreSQL, read committed) until it ends, so nothing slow (a bus
publish, a pipeline restart) runs inside it. Units do not serialise read-then-
write on PostgreSQL: alerts and incidents carry optimistic versions for that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from argus.ports.alert_groups import AlertGroupRepository, SuppressionRepository
    from argus.ports.alerts import AlertRepository, IncidentRepository, RuleRepository
    from argus.ports.audit import AuditLog
    from argus.ports.identity import (
        ApiKeyRepository,
        RefreshTokenRepository,
        SettingsStore,
        UserRepository,
    )
    from argus.ports.notify import NotifyStore
    from argus.ports.repositories import CameraRepository, LineRepository, ZoneRepository
    from argus.ports.workstations import SubjectRepository, VerifyClientRepository

__all__ = ["UnitOfWork"]


@runtime_checkable
class UnitOfWork(Protocol):
    """The repositories of one transaction (see the module docstring)."""

    @property
    def cameras(self) -> CameraRepository:
        """Cameras."""
        ...

    @property
    def lines(self) -> LineRepository:
        """Lines."""
        ...

    @property
    def zones(self) -> ZoneRepository:
        """Zones."""
        ...

    @property
    def rules(self) -> RuleRepository:
        """Alert rules."""
        ...

    @property
    def alerts(self) -> AlertRepository:
        """Alerts."""
        ...

    @property
    def incidents(self) -> IncidentRepository:
        """Incidents."""
        ...

    @property
    def alert_groups(self) -> AlertGroupRepository:
        """Alert groups."""
        ...

    @property
    def suppressions(self) -> SuppressionRepository:
        """Snoozes and maintenance windows."""
        ...

    @property
    def audit(self) -> AuditLog:
        """The audit trail: a record appended here commits with the unit's writes."""
        ...

    @property
    def face_subjects(self) -> SubjectRepository:
        """Face subjects and their descriptors."""
        ...

    @property
    def verify_clients(self) -> VerifyClientRepository:
        """Workstation clients."""
        ...

    @property
    def users(self) -> UserRepository:
        """Users."""
        ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository:
        """Refresh tokens and the revocation set of sign-in sessions."""
        ...

    @property
    def api_keys(self) -> ApiKeyRepository:
        """API keys."""
        ...

    @property
    def settings(self) -> SettingsStore:
        """Installation-wide settings (the security policy)."""
        ...

    @property
    def notify(self) -> NotifyStore:
        """Notification channels, routes and the outbox."""
        ...
