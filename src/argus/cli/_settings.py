"""Settings for a CLI command: the ``ARGUS_*`` environment plus the command's options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic

from argus.config import Settings
from argus.domain.errors import ConfigError

__all__ = ["load_settings"]


def load_settings(data_dir: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment with ``overrides``; invalid ones become one ``ConfigError``.

    Args:
        data_dir: The ``--data-dir`` option (None: the environment's or the default).
        **overrides: Further settings the command's options set.

    Raises:
        ConfigError: A setting is invalid; the message names each one and why.
    """
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    try:
        return Settings(**overrides)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"invalid settings (ARGUS_* environment): {problems}") from exc
