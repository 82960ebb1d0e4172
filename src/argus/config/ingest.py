"""Settings of event ingest hygiene: how large one posted event's payload may be."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from argus.domain.payload_schema import DEFAULT_PAYLOAD_MAX_BYTES

__all__ = ["IngestSettings"]


class IngestSettings(BaseSettings):
    """What ``POST /api/v1/events`` and ``/api/v1/edge/sync`` accept of an event."""

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

    event_payload_max_bytes: int = Field(
        default=DEFAULT_PAYLOAD_MAX_BYTES,
        ge=256,
        le=1 << 20,
        description="Largest payload of one posted event, in bytes of compact UTF-8 JSON "
        "(ARGUS_EVENT_PAYLOAD_MAX_BYTES, default 16 KiB). A larger one is refused: the whole "
        "batch with 422 on POST /api/v1/events, the one item (rejected) on /api/v1/edge/sync.",
    )
