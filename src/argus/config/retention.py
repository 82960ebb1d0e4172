"""Settings of the retention sweep: how often it runs and how it paces its deletes.

How long each kind of data is kept is not here: that policy lives in the
database (``GET/PUT /api/v1/retention``), so an admin changes it without a
restart. Only the evidence and node health defaults come from their older
settings (``evidence_retention_days``, ``node_health_retention_days``).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["RetentionSettings"]


class RetentionSettings(BaseSettings):
    """How the control plane's retention sweep runs."""

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

    retention_sweep: bool = Field(
        default=True,
        description="Whether this server sweeps on its own, at start and every "
        "retention_interval_s (ARGUS_RETENTION_SWEEP). With several servers over one database "
        "one sweeper is enough; false leaves it to another server or to "
        "POST /api/v1/retention/sweep.",
    )
    retention_interval_s: float = Field(
        default=3600.0,
        ge=60,
        le=86_400,
        description="Seconds between two retention sweeps (one also runs at start).",
    )
    retention_batch: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Rows deleted per transaction: SQLite's write lock is held for one batch.",
    )
    retention_pause_s: float = Field(
        default=0.01,
        ge=0,
        le=10,
        description="Seconds between two delete batches, in which the event ingest writes.",
    )
