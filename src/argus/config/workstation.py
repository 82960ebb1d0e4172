"""Settings of workstation verification: pipelines, frame limits and decision thresholds."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["WorkstationSettings"]


class WorkstationSettings(BaseSettings):
    """Workstation verification (``/ws/verify``): capacity, frames and when to act."""

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

    workstation_max_pipelines: int = Field(
        default=2, ge=1, le=64, description="Verification pipelines that may run at once."
    )
    workstation_clients_per_pipeline: int = Field(
        default=5, ge=1, le=256, description="Workstation clients one pipeline serves."
    )
    workstation_max_queue: int = Field(
        default=16, ge=0, le=10_000, description="Clients that may wait for a pipeline."
    )
    workstation_idle_s: float = Field(
        default=60.0, ge=0, le=86_400, description="Seconds an empty pipeline lives on."
    )
    workstation_redis_url: str | None = Field(
        default=None,
        description="Redis URL for the shared capacity state of several servers "
        "(ARGUS_WORKSTATION_REDIS_URL, redis://host:6379/0); default: the database.",
    )
    workstation_max_frame_bytes: int = Field(
        default=2 << 20,
        ge=1024,
        le=15 << 20,
        description="Largest frame a client may send (bytes; the WebSocket layer itself "
        "closes connections over 16 MiB).",
    )
    workstation_max_frame_pixels: int = Field(
        default=1920 * 1080, ge=64 * 64, le=8192 * 8192, description="Largest frame in pixels."
    )
    workstation_frame_queue: int = Field(
        default=2,
        ge=1,
        le=100,
        description="Frames buffered per client; the oldest is dropped when a client sends "
        "faster than it is analysed.",
    )
    workstation_no_face_s: float = Field(
        default=3.0, ge=0, le=3600, description="Seconds without a face before locking."
    )
    workstation_wrong_user_frames: int = Field(
        default=3, ge=1, le=1000, description="Frames of another face in a row before locking."
    )
    workstation_spoof_windows: int = Field(
        default=2, ge=1, le=1000, description="Spoof verdicts in a row before signing out."
    )
    workstation_match_threshold: float = Field(
        default=0.6, gt=0, le=2, description="Largest face descriptor distance accepted."
    )
    workstation_violations_to_block: int = Field(
        default=3, ge=1, le=1000, description="Violations that block a client."
    )
    workstation_violation_window_s: float = Field(
        default=300.0, gt=0, le=86_400, description="Span over which violations are counted."
    )
    workstation_evidence_repeat_s: float = Field(
        default=30.0,
        gt=0,
        le=86_400,
        description="Seconds between evidence frames while a lock or sign-out persists.",
    )
    workstation_lease_s: float = Field(
        default=15.0,
        ge=1,
        le=3600,
        description="Seconds a client's place survives when its server stops renewing it.",
    )
