"""In-memory repositories: the fake for service tests and the contract's reference.

State lives in dicts on one ``MemoryDatabase``; values are frozen, so nothing
handed out can change what is stored. Ordering, paging, filtering, conflicts
and idempotency follow the same contract as the SQL store. The repositories
live in modules of their own (``scene_memory``, ``events_memory``,
``alerts_memory``, ...); this one assembles them.
"""

from __future__ import annotations

import asyncio
import copy
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from argus.adapters.db.alerts_memory import (
    MemoryAlertRepository,
    MemoryIncidentRepository,
    MemoryRuleRepository,
)
from argus.adapters.db.audit_memory import MemoryAuditLog
from argus.adapters.db.events_memory import MemoryEventRepository
from argus.adapters.db.evidence_memory import MemoryEvidenceRepository
from argus.adapters.db.examples_memory import MemoryHardExampleStore
from argus.adapters.db.groups_memory import MemoryAlertGroupRepository, MemorySuppressionRepository
from argus.adapters.db.identity_memory import (
    MemoryApiKeyRepository,
    MemoryRefreshTokenRepository,
    MemorySettingsStore,
    MemoryUserRepository,
)
from argus.adapters.db.models_memory import MemoryModelRegistryStore
from argus.adapters.db.nodes_memory import MemoryNodeRepository
from argus.adapters.db.notify_memory import MemoryNotifyStore
from argus.adapters.db.privacy_memory import MemoryErasureStore
from argus.adapters.db.recounts_memory import MemoryRecountJobStore
from argus.adapters.db.retention_memory import MemoryRetentionStore
from argus.adapters.db.scene_memory import (
    MemoryCameraRepository,
    MemoryLineRepository,
    MemoryState,
    MemoryZoneRepository,
)
from argus.adapters.db.trials_memory import MemoryTrialStore
from argus.adapters.db.workstations_memory import (
    MemoryCapacityStore,
    MemoryDecisionRepository,
    MemorySubjectRepository,
    MemoryVerifyClientRepository,
)

__all__ = [
    "MemoryCameraRepository",
    "MemoryDatabase",
    "MemoryEventRepository",
    "MemoryLineRepository",
    "MemoryZoneRepository",
]


Table = dict[str, Any] | list[Any] | set[Any]
"""A container of a memory repository's state."""


class MemoryUnitOfWork:
    """The repositories of a memory unit of work: the store's own (see ``UnitOfWork``).

    Args:
        database: The store.
    """

    def __init__(self, database: MemoryDatabase) -> None:
        self.cameras = database.cameras
        self.lines = database.lines
        self.zones = database.zones
        self.rules = database.rules
        self.alerts = database.alerts
        self.incidents = database.incidents
        self.alert_groups = database.alert_groups
        self.suppressions = database.suppressions
        self.audit = database.audit
        self.face_subjects = database.face_subjects
        self.verify_clients = database.verify_clients
        self.users = database.users
        self.refresh_tokens = database.refresh_tokens
        self.api_keys = database.api_keys
        self.settings = database.settings
        self.notify = database.notify

    def tables(self) -> tuple[Table, ...]:
        """Every container a unit may change."""
        state = self.cameras.state
        return (
            state.cameras,
            state.lines,
            state.zones,
            *self.rules.tables(),
            *self.alerts.tables(),
            *self.incidents.tables(),
            *self.alert_groups.tables(),
            *self.suppressions.tables(),
            *self.audit.tables(),
            *self.face_subjects.tables(),
            *self.verify_clients.tables(),
            *self.users.tables(),
            *self.refresh_tokens.tables(),
            *self.api_keys.tables(),
            *self.settings.tables(),
            *self.notify.tables(),
        )


def _restore(table: Table, saved: Table) -> None:
    if isinstance(table, dict) and isinstance(saved, dict):
        table.clear()
        table.update(saved)
    elif isinstance(table, list) and isinstance(saved, list):
        table[:] = saved
    elif isinstance(table, set) and isinstance(saved, set):
        table.clear()
        table.update(saved)


class MemoryDatabase:
    """All repositories over one in-memory state (see ``Database``)."""

    def __init__(self, audit_key: bytes | None = None) -> None:
        self._state = MemoryState()
        self._audit = MemoryAuditLog(audit_key if audit_key is not None else os.urandom(32))
        self._evidence = MemoryEvidenceRepository()
        self._cameras = MemoryCameraRepository(self._state)
        self._lines = MemoryLineRepository(self._state)
        self._zones = MemoryZoneRepository(self._state)
        self._events = MemoryEventRepository(self._state)
        self._rules = MemoryRuleRepository(self._state.check)
        self._alerts = MemoryAlertRepository(self._state.check)
        self._incidents = MemoryIncidentRepository(self._state.check)
        self._alert_groups = MemoryAlertGroupRepository(self._state.check, self._alerts.of_group)
        self._suppressions = MemorySuppressionRepository(self._state.check)
        self._users = MemoryUserRepository(self._state.check)
        self._refresh_tokens = MemoryRefreshTokenRepository(self._state.check)
        self._api_keys = MemoryApiKeyRepository(self._state.check)
        self._settings = MemorySettingsStore(self._state.check)
        self._face_subjects = MemorySubjectRepository(self._state.check)
        self._verify_clients = MemoryVerifyClientRepository(self._state.check)
        self._verify_decisions = MemoryDecisionRepository(self._state.check)
        self._capacity = MemoryCapacityStore(self._state.check)
        self._nodes = MemoryNodeRepository(self._state.check)
        self._privacy = MemoryErasureStore(self._state, self._verify_decisions)
        self._notify = MemoryNotifyStore(self._state.check)
        self._retention = MemoryRetentionStore(
            self._state,
            self._alerts,
            self._incidents,
            self._verify_decisions,
            self._alert_groups,
        )
        self._recounts = MemoryRecountJobStore(self._state.check)
        self._hard_examples = MemoryHardExampleStore(self._state.check)
        self._model_registry = MemoryModelRegistryStore(self._state.check)
        self._model_trials = MemoryTrialStore(self._state.check)
        self._unit_lock = asyncio.Lock()
        self._unit = MemoryUnitOfWork(self)

    @property
    def cameras(self) -> MemoryCameraRepository:
        """Cameras."""
        return self._cameras

    @property
    def lines(self) -> MemoryLineRepository:
        """Lines."""
        return self._lines

    @property
    def zones(self) -> MemoryZoneRepository:
        """Zones."""
        return self._zones

    @property
    def events(self) -> MemoryEventRepository:
        """Events."""
        return self._events

    @property
    def rules(self) -> MemoryRuleRepository:
        """Alert rules."""
        return self._rules

    @property
    def alerts(self) -> MemoryAlertRepository:
        """Alerts."""
        return self._alerts

    @property
    def incidents(self) -> MemoryIncidentRepository:
        """Incidents."""
        return self._incidents

    @property
    def alert_groups(self) -> MemoryAlertGroupRepository:
        """Alert groups."""
        return self._alert_groups

    @property
    def suppressions(self) -> MemorySuppressionRepository:
        """Snoozes and maintenance windows."""
        return self._suppressions

    @property
    def audit(self) -> MemoryAuditLog:
        """The audit trail."""
        return self._audit

    @property
    def evidence(self) -> MemoryEvidenceRepository:
        """Evidence metadata."""
        return self._evidence

    @property
    def users(self) -> MemoryUserRepository:
        """Users."""
        return self._users

    @property
    def refresh_tokens(self) -> MemoryRefreshTokenRepository:
        """Refresh tokens."""
        return self._refresh_tokens

    @property
    def api_keys(self) -> MemoryApiKeyRepository:
        """API keys."""
        return self._api_keys

    @property
    def settings(self) -> MemorySettingsStore:
        """Installation-wide settings."""
        return self._settings

    @property
    def face_subjects(self) -> MemorySubjectRepository:
        """Face subjects and their descriptors."""
        return self._face_subjects

    @property
    def verify_clients(self) -> MemoryVerifyClientRepository:
        """Workstation clients."""
        return self._verify_clients

    @property
    def verify_decisions(self) -> MemoryDecisionRepository:
        """The workstation decision history."""
        return self._verify_decisions

    @property
    def capacity(self) -> MemoryCapacityStore:
        """The capacity document (one process)."""
        return self._capacity

    @property
    def nodes(self) -> MemoryNodeRepository:
        """Edge nodes."""
        return self._nodes

    @property
    def privacy(self) -> MemoryErasureStore:
        """Deletions of events and decisions for privacy requests."""
        return self._privacy

    @property
    def notify(self) -> MemoryNotifyStore:
        """Notification channels, routes and the outbox."""
        return self._notify

    @property
    def retention(self) -> MemoryRetentionStore:
        """Batched deletes of data past its retention."""
        return self._retention

    @property
    def recounts(self) -> MemoryRecountJobStore:
        """Re-count jobs."""
        return self._recounts

    @property
    def hard_examples(self) -> MemoryHardExampleStore:
        """The hard-example labelling queue."""
        return self._hard_examples

    @property
    def model_registry(self) -> MemoryModelRegistryStore:
        """Model pack versions and per-camera assignments."""
        return self._model_registry

    @property
    def model_trials(self) -> MemoryTrialStore:
        """Shadow plans, shadow reports and evaluations."""
        return self._model_trials

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[MemoryUnitOfWork]:
        """The store's repositories as one unit: rolled back if the block raises.

        Units run one at a time (a lock, as SQLite's write lock). The unit
        copies the containers it may change when it begins and puts the copies
        back on rollback; values are frozen, so shallow copies suffice. A write
        made outside the unit while it is open would be undone with it, but the
        memory repositories never suspend, so on one event loop none can be made
        unless the unit's own code awaits something else (services do not).
        """
        async with self._unit_lock:
            self._state.check()
            tables = self._unit.tables()
            saved = [copy.copy(table) for table in tables]
            try:
                yield self._unit
            except BaseException:
                for table, before in zip(tables, saved, strict=True):
                    _restore(table, before)
                raise

    async def ping(self) -> None:
        """Raise ``StorageError`` once closed."""
        self._state.check()

    async def close(self) -> None:
        """Refuse further use (as a closed SQL store would)."""
        self._state.closed = True
