"""Settings of continuous recording: whether the server records, where, and how long it keeps it.

Recording remuxes each recorded camera's main stream into MP4 segments
without re-encoding (``argus.adapters.recording``); a background sweep
deletes what is older than ``recording_retain_days`` and, past a disk budget,
the oldest segments, never those around alerts of an incident under legal hold.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["RecordingSettings"]

_GIB = 1024**3


class RecordingSettings(BaseSettings):
    """Continuous recording of this server's cameras."""

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

    recording: bool = Field(
        default=False,
        description="Continuous recording (ARGUS_RECORDING): every enabled camera of this "
        "server whose record flag is on (the default) is recorded from its main stream into "
        "MP4 segments, remuxed without re-encoding. Off by default: it takes disk space.",
    )
    recording_dir: Path | None = Field(
        default=None,
        description="Where the segments go (ARGUS_RECORDING_DIR); default: data_dir/recordings.",
    )
    recording_segment_s: float = Field(
        default=60.0,
        ge=1,
        le=3600,
        allow_inf_nan=False,
        description="Target length of one segment in seconds (ARGUS_RECORDING_SEGMENT_S); "
        "a cut waits for the next keyframe, so segments run a little longer.",
    )
    recording_retain_days: float = Field(
        default=7.0,
        gt=0,
        le=3650,
        allow_inf_nan=False,
        description="Days a segment is kept (ARGUS_RECORDING_RETAIN_DAYS); segments around "
        "alerts of an incident under legal hold are kept past it.",
    )
    recording_max_gb: float = Field(
        default=0.0,
        ge=0,
        le=1_000_000,
        allow_inf_nan=False,
        description="Disk budget of all recordings in GiB (ARGUS_RECORDING_MAX_GB): past it "
        "the oldest segments are deleted first; 0 (the default): no budget, days alone.",
    )
    recording_sweep_s: float = Field(
        default=300.0,
        ge=5,
        le=86_400,
        allow_inf_nan=False,
        description="Seconds between two recording retention sweeps (ARGUS_RECORDING_SWEEP_S); "
        "one also runs at start.",
    )

    @field_validator("recording_dir")
    @classmethod
    def _usable_dir(cls, value: Path | None) -> Path | None:
        if value is not None and (not str(value).strip() or value.is_file()):
            raise ValueError(f"recording_dir {str(value)!r} must name a directory")
        return value

    @property
    def recording_max_bytes(self) -> int | None:
        """The disk budget in bytes; ``None`` when there is none."""
        return int(self.recording_max_gb * _GIB) if self.recording_max_gb > 0 else None
