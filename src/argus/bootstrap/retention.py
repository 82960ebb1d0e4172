"""The retention side of the control plane: policy, sweep, legal holds.

The policy's defaults come from settings where the installation already had
one (``evidence_retention_days``, ``node_health_retention_days``); the rest
are ``RetentionPolicy``'s. An admin's changes live in the database and win.
The sweep's pacing (``ARGUS_RETENTION_BATCH``, 1 000 rows a transaction, and
``ARGUS_RETENTION_PAUSE_S``, 10 ms between two) lets the event ingest keep about
four fifths of its throughput during a sweep on SQLite, against about half with
no pause (docs/benchmarks.md, "Retention sweep").
"""

from __future__ import annotations

from argus.bootstrap.search_items import search_erasure
from argus.config import Settings
from argus.domain.cameras import utc_now
from argus.domain.retention import RetentionPolicy
from argus.ports.repositories import Database
from argus.services.evidence import EvidenceService
from argus.services.legal_hold import LegalHoldService
from argus.services.retention import RetentionPolicies, RetentionService, RetentionSweeper

__all__ = ["build_retention"]


def build_retention(
    settings: Settings, database: Database, evidence: EvidenceService
) -> RetentionService:
    """The retention service over an open store and evidence service; nothing starts yet."""
    defaults = RetentionPolicy(
        evidence=settings.evidence_retention_days,
        health=settings.node_health_retention_days,
    )
    policies = RetentionPolicies(database, utc_now, defaults)
    holds = LegalHoldService(database, evidence, utc_now)
    sweeper = RetentionSweeper(
        database,
        evidence.purge_expired,
        utc_now,
        policies.get,
        holds=holds,
        batch=settings.retention_batch,
        pause_s=settings.retention_pause_s,
        interval=settings.retention_interval_s,
        search=search_erasure(database),
    )
    return RetentionService(policies, sweeper, holds, database.audit)
