"""Settings: strict, validated, loaded once by the composition root and passed down."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_data_dir"]


def default_data_dir() -> Path:
    """Return the per-user data directory (``$XDG_DATA_HOME/argus`` on Linux)."""
    return Path(platformdirs.user_data_dir("argus", appauthor=False))


class Settings(BaseSettings):
    """Argus settings, read from ``ARGUS_*`` environment variables.

    Nothing reads these at import time: ``Settings()`` is built once by the
    entry point and handed to ``bootstrap``.
    """

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
    database_url: str | None = Field(
        default=None,
        description="Database URL (ARGUS_DATABASE_URL): sqlite:///path or "
        "postgresql://user:password@host/db; default: the SQLite file argus.db in data_dir.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Installation secret, at least 16 bytes (ARGUS_SECRET_KEY); camera "
        "credentials are encrypted under a key derived from it. When unset, a random key "
        "is generated into data_dir/secret.key on first use.",
    )

    @property
    def resolved_database_url(self) -> str:
        """``database_url``, or the default SQLite file under ``data_dir``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'argus.db'}"

    @property
    def models_dir(self) -> Path:
        """Directory holding one sub-directory per model pack."""
        return self.data_dir / "models"
