"""Settings of the process itself: data directory, inference threads, database and bus."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from argus.config.bus import BusUrl, parse_bus_url
from argus.domain.errors import ConfigError

__all__ = ["RuntimeSettings", "default_data_dir"]


def default_data_dir() -> Path:
    """Return the per-user data directory (``$XDG_DATA_HOME/argus`` on Linux)."""
    return Path(platformdirs.user_data_dir("argus", appauthor=False))


class RuntimeSettings(BaseSettings):
    """Where state lives, how inference runs, and which database and bus to open."""

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where model packs and other state live (ARGUS_DATA_DIR).",
    )
    default_model: str = Field(
        default="yolov7-tiny", description="Model pack used when none is named."
    )
    default_input_size: int = Field(
        default=416, ge=32, le=2048, description="Square network input in pixels."
    )
    intra_op_threads: int = Field(
        default=0,
        ge=0,
        le=256,
        description="ONNX Runtime intra-op threads (0 lets the runtime choose).",
    )
    inter_op_threads: int = Field(
        default=0, ge=0, le=256, description="ONNX Runtime inter-op threads (0 = runtime default)."
    )
    motion_gating: bool = Field(
        default=False,
        description="Motion-gated detection for every camera of this server or node "
        "(ARGUS_MOTION_GATING): the detector runs only where the picture changed and around "
        "what it already sees, with a full-frame pass every ARGUS_MOTION_FULL_FRAME_EVERY "
        "analysed frames; a still scene costs about a tenth, a busy one the same.",
    )
    motion_full_frame_every: int = Field(
        default=25,
        ge=1,
        le=10_000,
        description="Analysed frames between full-frame passes when motion gating is on.",
    )
    motion_sensitivity: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Motion gating's sensitivity: 0 sees only strong changes, 1 faint ones too.",
    )
    inference_scheduler: bool = Field(
        default=True,
        description="One batching inference scheduler per detector shared by every camera of "
        "this server or node (ARGUS_INFERENCE_SCHEDULER): fair across cameras, a camera where "
        "something is detected or tracked gets twice the share of a quiet one, and when the "
        "box is saturated each camera's analysed fps is lowered evenly and shown (health, "
        "/metrics, dashboard) instead of cameras silently falling behind their streams. "
        "false: every camera thread runs the detector itself.",
    )
    inference_max_batch: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Most images (frames or motion regions, of any cameras) per detector run "
        "of the inference scheduler (ARGUS_INFERENCE_MAX_BATCH).",
    )
    inference_threads: int = Field(
        default=0,
        ge=0,
        le=64,
        description="Threads of each inference scheduler running detector batches side by side "
        "(ARGUS_INFERENCE_THREADS); 0: one per usable core. Each runs ONNX Runtime on "
        "ARGUS_INTRA_OP_THREADS threads (0: one).",
    )
    tamper_checks_per_s: float = Field(
        default=2.0,
        ge=0,
        le=10,
        description="Tamper checks per second per camera (ARGUS_TAMPER_CHECKS_PER_S): covered, "
        "blurred, moved, frozen, black, white or noisy views raise camera.tamper; 0 turns "
        "them off. Off in demo mode: the demo clip is a montage whose every cut looks moved.",
    )
    database_url: str | None = Field(
        default=None,
        description="Database URL (ARGUS_DATABASE_URL): sqlite:///path or "
        "postgresql://user:password@host/db; default: the SQLite file argus.db in data_dir.",
    )
    bus_url: str = Field(
        default="memory://",
        description="Event bus (ARGUS_BUS_URL): memory:// (in-process, the default), "
        "nats://host:4222 (NATS JetStream) or redis://host:6379/0 (Redis Streams).",
    )
    bus_prefix: str = Field(
        default="argus",
        pattern=r"^[a-z][a-z0-9_-]{0,31}$",
        description="Namespace on the broker (ARGUS_BUS_PREFIX): NATS subjects prefix.> in "
        "the stream named PREFIX in upper case; Redis stream keys prefix:subject.",
    )
    bus_ack_wait_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds before a bus delivery that was not acknowledged (its consumer "
        "died) is delivered again.",
    )
    node_id: str = Field(
        default="argus",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="This server's id (ARGUS_NODE_ID): the edge_node_id of the events its "
        "embedded worker produces and of the envelopes it publishes.",
    )

    @field_validator("bus_url")
    @classmethod
    def _known_bus(cls, value: str) -> str:
        try:
            return parse_bus_url(value).url
        except ConfigError as exc:
            raise ValueError(str(exc)) from exc

    @property
    def bus(self) -> BusUrl:
        """``bus_url`` parsed."""
        return parse_bus_url(self.bus_url)

    @property
    def resolved_database_url(self) -> str:
        """``database_url``, or the default SQLite file under ``data_dir``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'argus.db'}"

    @property
    def models_dir(self) -> Path:
        """Directory holding one sub-directory per model pack."""
        return self.data_dir / "models"
