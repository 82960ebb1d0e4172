"""Retention: the editable policy, and the sweep that deletes what is past it.

``RetentionPolicies`` keeps the policy (``argus.domain.retention``) in the
settings document ``"retention"``; what the document lacks comes from the
defaults the service is built with (``evidence`` from the installation's
``evidence_retention_days``). Every change is audited (``retention.update``).

``RetentionSweeper`` runs at start and every ``interval`` seconds, and on
demand (``POST /api/v1/retention/sweep``). Each kind is deleted in batches of
``batch`` rows, each batch its own short transaction, with a pause of
``pause_s`` (at least a yield to the event loop) between two batches, so the
event ingest, which writes to the same store, keeps flowing: on SQLite a batch
holds the write lock for milliseconds, and the ingest's inserts get it between
batches. Legal holds (``argus.services.legal_hold``) are read first: their
incidents, alerts and events are passed as ``keep``, their evidence locked
before evidence is purged. Audit records are pruned behind a signed
checkpoint, so the chain still verifies. A failing kind does not stop the
others; every sweep is audited as ``retention.sweep`` with its counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.alerts import Incident
from argus.domain.audit import AuditCheckpoint, AuditOutcome
from argus.domain.errors import ArgusError, ValidationError
from argus.domain.retention import (
    HEATMAP_EVENT_TYPE,
    RETENTION_KEY,
    RetentionKind,
    RetentionPolicy,
    SweepReport,
)
from argus.ports.audit import AuditLog
from argus.ports.repositories import Database
from argus.ports.search_items import SearchErasure
from argus.services.background import TaskGroup, periodic
from argus.services.legal_hold import HoldSet, LegalHoldService, held_incidents
from argus.services.writes import record

__all__ = [
    "RETENTION_INTERVAL",
    "PolicySource",
    "RetentionPolicies",
    "RetentionService",
    "RetentionSweeper",
]

log = logging.getLogger(__name__)

RETENTION_INTERVAL = 3600.0
"""Seconds between two scheduled sweeps."""

PolicySource = Callable[[], Awaitable[RetentionPolicy]]
"""Reads the current policy (``RetentionPolicies.get``)."""

Purge = Callable[[float], Awaitable[int]]

_SEARCHED: tuple[RetentionKind, ...] = ("events", "alerts", "incidents")
"""The kinds search in words indexes (told the cutoffs of those swept without error)."""
"""Deletes unlocked evidence older than the given days (``EvidenceService.purge_expired``)."""

Delete = Callable[[datetime, int], Awaitable[int]]
"""Deletes at most the given number of rows older than the cutoff; how many it deleted."""


class RetentionPolicies:
    """The retention policy in the settings document ``"retention"``.

    Args:
        database: The store.
        clock: The current time (UTC).
        defaults: The policy of kinds the document does not name.
    """

    def __init__(
        self,
        database: Database,
        clock: Callable[[], datetime],
        defaults: RetentionPolicy | None = None,
    ) -> None:
        self._db = database
        self._clock = clock
        self._defaults = defaults if defaults is not None else RetentionPolicy()

    @property
    def defaults(self) -> RetentionPolicy:
        """The policy of an installation that never changed it."""
        return self._defaults

    async def get(self) -> RetentionPolicy:
        """The current policy.

        Raises:
            ValidationError: The stored document is malformed.
        """
        stored = await self._db.settings.get(RETENTION_KEY)
        return RetentionPolicy.from_dict(stored, defaults=self._defaults)

    async def update(self, actor: Actor, changes: Mapping[str, object]) -> RetentionPolicy:
        """Change the days of the kinds ``changes`` names; audited as ``retention.update``.

        Raises:
            ValidationError: An unknown kind or days out of bounds.
        """
        if not changes:
            raise ValidationError("name at least one kind of data to change")
        async with self._db.unit_of_work() as unit:
            stored = await unit.settings.get(RETENTION_KEY)
            current = RetentionPolicy.from_dict(stored, defaults=self._defaults)
            policy = current.merged(changes)
            await unit.settings.put(RETENTION_KEY, policy.to_dict(), self._clock())
            changed = {
                kind: {"from": current.to_dict()[kind], "to": days}
                for kind, days in policy.to_dict().items()
                if days != current.to_dict()[kind]
            }
            await record(unit.audit, actor, "retention.update", "retention", changed=changed)
        return policy


class RetentionSweeper:
    """Deletes every kind of data past its retention, in batches, respecting legal holds.

    Args:
        database: The store.
        purge_evidence: The evidence sweep (``EvidenceService.purge_expired``).
        clock: The current time (UTC).
        policy_source: Reads the current policy.
        holds: Legal holds: what they keep, and their evidence locks.
        batch: Rows per delete transaction (1 to 100 000).
        pause_s: Seconds between two batches (0: only yield to the event loop).
        interval: Seconds between two scheduled sweeps.
        search: Search in words, told what a sweep deleted.
    """

    def __init__(
        self,
        database: Database,
        purge_evidence: Purge,
        clock: Callable[[], datetime],
        policy_source: PolicySource,
        *,
        holds: LegalHoldService,
        batch: int = 1000,
        pause_s: float = 0.0,
        interval: float = RETENTION_INTERVAL,
        search: SearchErasure | None = None,
    ) -> None:
        if not 1 <= batch <= 100_000:
            raise ValidationError(f"batch must be in [1, 100000], got {batch}")
        if pause_s < 0 or interval <= 0:
            raise ValidationError("pause_s must be >= 0 and interval > 0")
        self._db = database
        self._purge_evidence = purge_evidence
        self._clock = clock
        self._policy = policy_source
        self._holds = holds
        self._batch = batch
        self._pause_s = pause_s
        self._interval = interval
        self._search = search
        self._lock = asyncio.Lock()
        self._tasks = TaskGroup()
        self.last: SweepReport | None = None
        """The report of the latest sweep, if one ran."""

    def start(self) -> None:
        """Sweep at once and then every ``interval`` seconds, in the background (once)."""
        self._tasks.start(
            ("argus-retention", periodic(self.sweep, self._interval, log, "the retention sweep"))
        )

    async def stop(self) -> None:
        """Stop sweeping (a sweep under way is cancelled between two batches)."""
        await self._tasks.stop()

    async def sweep(self, *, actor: Actor = SYSTEM_ACTOR) -> SweepReport:
        """Delete everything past its retention now; audited as ``retention.sweep``.

        A sweep already under way finishes first (sweeps never overlap). A
        kind that fails is reported in ``SweepReport.errors``; the others run.

        Raises:
            ValidationError: The stored policy is malformed.
        """
        async with self._lock:
            policy = await self._policy()
            now = self._clock()
            held = await held_incidents(self._db)
            keep = await self._holds.keep_set(held)
            deleted: dict[str, int] = {}
            errors: dict[str, str] = {}
            for kind, delete in self._deletes(keep, now).items():
                cutoff = now - timedelta(days=policy.days(kind))
                try:
                    deleted[kind] = await self._batched(delete, cutoff)
                except ArgusError as exc:
                    log.warning("retention: sweeping %s failed: %s", kind, exc)
                    errors[kind] = str(exc)
            if self._search is not None:  # search in words forgets what went
                try:
                    swept = [k for k in _SEARCHED if k not in errors]
                    cutoffs: dict[str, datetime] = {
                        k: now - timedelta(days=policy.days(k)) for k in swept
                    }
                    await self._search.sweep(cutoffs, keep.events)
                except ArgusError as exc:
                    log.warning("retention: sweeping search items failed: %s", exc)
                    errors["search"] = str(exc)
            locked = 0
            try:
                for incident in held:
                    locked += await self._holds.protect(incident)
                deleted["evidence"] = await self._purge_evidence(policy.evidence)
            except ArgusError as exc:
                log.warning("retention: sweeping evidence failed: %s", exc)
                errors["evidence"] = str(exc)
            try:
                health_cutoff = now - timedelta(days=policy.health)
                deleted["health"] = await self._db.nodes.purge_reports(health_cutoff)
            except ArgusError as exc:
                errors["health"] = str(exc)
            report = SweepReport(
                deleted=deleted,
                held_incidents=len(held),
                kept={"alerts": len(keep.alerts), "events": len(keep.events), "evidence": locked},
                errors=errors,
            )
            outcome: AuditOutcome = "failure" if errors else "success"
            await record(
                self._db.audit,
                actor,
                "retention.sweep",
                "retention",
                outcome=outcome,
                at=self._clock(),
                **report.to_dict(),
            )
        self.last = report
        if report.total or errors:
            log.info("retention: deleted %s", {k: v for k, v in report.deleted.items() if v})
        return report

    def _deletes(self, keep: HoldSet, now: datetime) -> dict[RetentionKind, Delete]:
        """The batched deletes of each kind swept here, in order (dependents first)."""
        store, batch_audit = self._db.retention, self._db.audit
        heatmap = (HEATMAP_EVENT_TYPE,)

        def events(cutoff: datetime, limit: int) -> Awaitable[int]:
            return store.delete_events(cutoff, limit=limit, exclude_types=heatmap, keep=keep.events)

        def heatmaps(cutoff: datetime, limit: int) -> Awaitable[int]:
            return store.delete_events(cutoff, limit=limit, types=heatmap, keep=keep.events)

        async def alerts(cutoff: datetime, limit: int) -> int:
            removed = await store.delete_alerts(cutoff, limit=limit, keep=keep.alerts)
            if removed < limit:  # groups go once their alerts are gone
                removed += await self._batched(
                    lambda c, n: store.delete_alert_groups(c, limit=n), cutoff
                )
            return removed

        def incidents(cutoff: datetime, limit: int) -> Awaitable[int]:
            return store.delete_incidents(cutoff, limit=limit, keep=keep.incidents)

        def decisions(cutoff: datetime, limit: int) -> Awaitable[int]:
            return store.delete_decisions(cutoff, limit=limit)

        def audit(cutoff: datetime, limit: int) -> Awaitable[int]:
            return batch_audit.prune_before(cutoff, limit=limit, at=now)

        def notifications(cutoff: datetime, limit: int) -> Awaitable[int]:
            return self._db.notify.outbox.prune_before(cutoff, limit=limit)

        return {
            "incidents": incidents,
            "alerts": alerts,
            "events": events,
            "heatmap": heatmaps,
            "face_decisions": decisions,
            "notifications": notifications,
            "audit": audit,
        }

    async def _batched(self, delete: Delete, cutoff: datetime) -> int:
        """Run ``delete`` batch after batch until a batch comes back short; the total."""
        total = 0
        while True:
            removed = await delete(cutoff, self._batch)
            total += removed
            if removed < self._batch:
                return total
            # Between two batches the store's write lock is free: let the ingest write.
            await asyncio.sleep(self._pause_s)


class RetentionService:
    """What the retention API calls: the policy, the sweep, legal holds, audit checkpoints.

    Args:
        policies: The stored policy.
        sweeper: The sweep (also scheduled).
        holds: Legal holds on incidents.
        audit: The audit trail (its checkpoints).
    """

    def __init__(
        self,
        policies: RetentionPolicies,
        sweeper: RetentionSweeper,
        holds: LegalHoldService,
        audit: AuditLog,
    ) -> None:
        self.policies = policies
        self.sweeper = sweeper
        self.holds = holds
        self._audit = audit

    async def policy(self) -> RetentionPolicy:
        """The current policy."""
        return await self.policies.get()

    async def update_policy(self, actor: Actor, changes: Mapping[str, object]) -> RetentionPolicy:
        """Change some kinds' days (audited)."""
        return await self.policies.update(actor, changes)

    async def sweep(self, actor: Actor) -> SweepReport:
        """Sweep now on behalf of ``actor`` (audited)."""
        return await self.sweeper.sweep(actor=actor)

    async def hold(self, actor: Actor, incident_id: str, reason: str) -> Incident:
        """Put an incident under legal hold (audited)."""
        return await self.holds.hold(actor, incident_id, reason)

    async def release(self, actor: Actor, incident_id: str) -> Incident:
        """Release an incident's legal hold (audited)."""
        return await self.holds.release(actor, incident_id)

    async def checkpoints(self, limit: int = 100) -> list[AuditCheckpoint]:
        """The audit checkpoints of past prunes, newest first."""
        return await self._audit.checkpoints(limit=limit)
