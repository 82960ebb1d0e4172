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
        default=12,
        ge=1,
        le=256,
        description="Workstation clients one pipeline serves (one pipeline per core; "
        "docs/benchmarks.md §8.2 measures about 12 per core at 1 frame/s each).",
    )
    workstation_model_threads: int = Field(
        default=1,
        ge=0,
        le=64,
        description="ONNX Runtime threads per model of a verification pipeline (0: one per "
        "core; 1 runs each pipeline on one core without spinning threads).",
    )
    workstation_face_small_side: int = Field(
        default=320,
        ge=0,
        le=640,
        description="Longest side the face detector tries first (640 only when no face "
        "is found there); 0 always detects at 640.",
    )
    workstation_objects_every: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Frames between runs of the phone and screen detector (it also runs "
        "when the face appears, leaves or moves); 1 runs it on every frame.",
    )
    workstation_reverify_s: float = Field(
        default=5.0,
        ge=0,
        le=600,
        description="Longest time a face descriptor is reused while the face holds still "
        "(a changed face is re-verified at once); 0 computes one on every frame.",
    )
    workstation_liveness_every: int = Field(
        default=2,
        ge=1,
        le=10,
        description="Frames between liveness scores while the face is clearly live (every "
        "frame once a score is low); 1 scores every frame. A spoof is seen up to this many "
        "frames minus one later.",
    )
    workstation_batch: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Most clients' frames a pipeline analyses in one batch.",
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
