"""Trials of model versions: shadow runs beside production and evaluation on the annotated set.

Groundwork stub (issue 21, part D2); its owner replaces it.
"""

from __future__ import annotations

__all__ = ["ModelTrials"]


class ModelTrials:
    """Shadow runs beside production and evaluation on the annotated set."""
