"""Search in words over events, alerts and incidents.

Groundwork stub (issue 21, part F2); its owner replaces it.
"""

from __future__ import annotations

__all__ = ["EventSearch"]


class EventSearch:
    """Search in words over events, alerts and incidents."""
