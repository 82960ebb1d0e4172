"""Optimal assignment for the tracker, with SciPy's Jonker-Volgenant solver.

The domain tracker takes the solver as an injected ``Assign`` callable so that
``argus.domain`` depends on numpy only; the composition root passes this one.
"""

from __future__ import annotations

import numpy as np

# SciPy ships no type stubs (scipy-stubs is a separate, unpinned project).
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

from argus.domain.tracking.matching import Array, Matches

__all__ = ["linear_assign"]

_PENALTY = 1e6


def linear_assign(cost: Array, max_cost: float) -> Matches:
    """Return the minimum-cost matching among pairs with ``cost <= max_cost``.

    Inadmissible pairs get a large finite price (so SciPy always finds a full
    matching), which first maximises the number of admissible pairs and then
    minimises their cost; pairs above the bar are dropped afterwards.
    """
    if not cost.size:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    admissible = cost <= max_cost
    rows, cols = linear_sum_assignment(np.where(admissible, cost, _PENALTY + abs(max_cost)))
    keep = admissible[rows, cols]
    if np.count_nonzero(keep) < keep.size:
        rows, cols = rows[keep], cols[keep]
    return rows.astype(np.intp, copy=False), cols.astype(np.intp, copy=False)
