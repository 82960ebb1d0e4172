"""Box overlap and assignment between tracks and detections.

The assignment solver is injected (``Assign``): the domain ships a pure-numpy
greedy solver, and the composition root passes an optimal one (SciPy's
Jonker-Volgenant ``linear_sum_assignment``), so that the domain keeps to the
standard library and numpy. Most frames of real video have no conflict at all
(no track has two admissible detections and no detection two tracks);
``match`` answers those without calling the solver.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

__all__ = [
    "Assign",
    "Matches",
    "greedy_assign",
    "iou_matrix",
    "iou_signed",
    "match",
    "signed_corners",
]

Array = npt.NDArray[np.float64]
Index = npt.NDArray[np.intp]
Matches = tuple[Index, Index]
"""Row and column indices of the matched pairs, both shape ``(M,)``."""

Assign = Callable[[Array, float], Matches]
"""``assign(cost, max_cost)``: a minimum-cost matching of rows to columns.

``cost`` has shape ``(R, C)`` with finite values; only pairs with
``cost <= max_cost`` may be returned. Implementations must not modify ``cost``.
"""

_EMPTY = np.zeros(0, dtype=np.intp)
_SIGNS = np.array([[1.0], [1.0], [-1.0], [-1.0]])
# Columns: x1 = cx - w / 2, y1 = cy - h / 2, -x2 = -cx - w / 2, -y2 = -cy - h / 2.
_CORNERS = np.array(
    [[1.0, 0.0, -1.0, 0.0], [0.0, 1.0, 0.0, -1.0], [-0.5, 0.0, -0.5, 0.0], [0.0, -0.5, 0.0, -0.5]]
)
_ZERO = np.array(0.0)
_TINY = np.array(1e-12)


def iou_matrix(a: npt.NDArray[np.floating], b: npt.NDArray[np.floating]) -> Array:
    """Return the IoU of every box in ``a`` ``(R, 4)`` with every box in ``b`` ``(C, 4)``.

    Boxes are corners ``(x1, y1, x2, y2)``; pairs of empty boxes have IoU 0.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return iou_signed(a.T * _SIGNS, area_a, b.T * _SIGNS, area_b)


def signed_corners(xywh: Array) -> Array:
    """Return ``(cx, cy, w, h)`` boxes ``(R, 4)`` as signed corners ``(4, R)`` (see ``iou_signed``).

    Each corner is one rounding of ``c -/+ w / 2`` (every other product is an
    exact zero), as computed elementwise.
    """
    corners: Array = xywh.dot(_CORNERS)
    return corners.T


def iou_signed(corners_a: Array, area_a: Array, corners_b: Array, area_b: Array) -> Array:
    """IoU ``(R, C)`` of R boxes with C boxes, given as signed corners and areas.

    Signed corners are rows ``(x1, y1, -x2, -y2)``, shape ``(4, R)``: one
    elementwise maximum then gives both the largest top-left and (negated) the
    smallest bottom-right corner of every pair, and the overlap is their
    difference, bit for bit the same as with a maximum and a minimum.
    """
    inner = np.maximum(corners_a[:, :, None], corners_b[:, None, :])
    # Negated overlap width and height: x1 - x2 of the intersection.
    overlap = inner[:2] + inner[2:]
    np.minimum(overlap, _ZERO, out=overlap)
    inter: Array = overlap[0] * overlap[1]
    union = area_a[:, None] + area_b
    union -= inter
    np.maximum(union, _TINY, out=union)
    inter /= union
    return inter


def greedy_assign(cost: Array, max_cost: float) -> Matches:
    """Match the cheapest admissible pairs first (pure numpy; optimal only without conflicts)."""
    rows, cols = np.nonzero(cost <= max_cost)
    if not rows.size:
        return _EMPTY, _EMPTY
    order = np.argsort(cost[rows, cols], kind="stable")
    used_r: set[int] = set()
    used_c: set[int] = set()
    out_r: list[int] = []
    out_c: list[int] = []
    for r, c in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if r not in used_r and c not in used_c:
            used_r.add(r)
            used_c.add(c)
            out_r.append(r)
            out_c.append(c)
    return np.asarray(out_r, dtype=np.intp), np.asarray(out_c, dtype=np.intp)


def match(
    similarity: Array,
    admissible: npt.NDArray[np.bool_],
    assign: Assign,
    refine: Callable[[Array], Array] | None = None,
) -> Matches:
    """Match rows to columns among admissible pairs, maximising total similarity.

    When no row and no column has two admissible pairs the matching is forced
    and returned directly; otherwise ``assign`` solves it on ``1 - similarity``.

    Args:
        similarity: Scores in ``[0, 1]``, shape ``(R, C)``.
        admissible: Which pairs may match, shape ``(R, C)``.
        assign: The solver for matrices with conflicts.
        refine: Called with ``similarity`` only when there is a conflict; its
            result ranks the pairs instead (secondary cues, such as momentum
            or appearance, that are not worth computing for forced matches).

    Returns:
        Matched row and column indices (rows ascending).
    """
    rows, cols = admissible.nonzero()
    if rows.size > 1:
        row_list, col_list = rows.tolist(), cols.tolist()
        if len(set(row_list)) < len(row_list) or len(set(col_list)) < len(col_list):
            if refine is not None:
                similarity = refine(similarity)
            # ``assign`` returns admissible pairs only: cost <= 1 exactly where admissible.
            rows, cols = assign(np.where(admissible, 1.0 - similarity, 2.0), 1.0)
            order = rows.argsort(kind="stable")
            return rows.take(order), cols.take(order)
    return rows, cols
