"""Labelling hard examples: claim, label, release, review (audited).

Groundwork stub (issue 21, part B); its owner replaces it.
"""

from __future__ import annotations

__all__ = ["LabellingService"]


class LabellingService:
    """Labelling hard examples: claim, label, release, review (audited)."""
