"""The model registry: every pack version, per-camera assignment, promote and roll back.

Groundwork stub (issue 21, part D1); its owner replaces it.
"""

from __future__ import annotations

__all__ = ["ModelRegistry"]


class ModelRegistry:
    """The model registry: every pack version, per-camera assignment, promote and roll back."""
