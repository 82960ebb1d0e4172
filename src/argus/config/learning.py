"""Settings of the learning loop (issue 21): hard examples, models, search.

Each part keeps its fields in its own section below.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["LearningSettings"]


class LearningSettings(BaseSettings):
    """The learning loop's settings (``ARGUS_*``)."""

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

    # --- hard examples (part A) ---

    # --- labelling (part B) ---

    # --- dataset export (part C) ---

    # --- model registry (part D1) ---

    # --- shadow runs and evaluations (part D2) ---

    # --- rule suggestions (part E) ---

    # --- search (parts F1, F2) ---
