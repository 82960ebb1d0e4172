"""Rule suggestions from false-positive verdicts, each with its effect on the recorded history.

Groundwork stub (issue 21, part E); its owner replaces it.
"""

from __future__ import annotations

__all__ = ["RuleSuggestions"]


class RuleSuggestions:
    """Rule suggestions from false-positive verdicts, with their effect on history."""
