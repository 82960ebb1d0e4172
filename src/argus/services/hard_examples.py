"""Hard examples from verdicts, uncertain detections and tracker trouble.

Groundwork stub (issue 21, part A); its owner replaces it.
"""

from __future__ import annotations

__all__ = ["HardExampleService"]


class HardExampleService:
    """Hard examples from verdicts, uncertain detections and tracker trouble."""
