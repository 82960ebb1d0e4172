"""Plane geometry on image points: line sides, point in polygon, homographies.

All functions are vectorised over points, take and return float64 arrays and
never modify their inputs. Coordinates are image pixels, x to the right, y down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ConfigError

__all__ = [
    "GroundPlane",
    "apply_homography",
    "as_points",
    "homography_from_quads",
    "points_in_polygon",
]

Points = npt.NDArray[np.float64]

# Distance in pixels under which a point counts as lying on a polygon edge.
_EDGE_TOLERANCE = 1e-6


def as_points(values: object, name: str, minimum: int = 0) -> Points:
    """Return ``values`` as a finite ``(N, 2)`` float64 array (a copy).

    Raises:
        ConfigError: the shape is not ``(N, 2)``, ``N < minimum``, or a value is not finite.
    """
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be a list of (x, y) points") from exc
    if array.ndim != 2 or array.shape[1] != 2:
        raise ConfigError(f"{name} must have shape (N, 2), got {array.shape}")
    if array.shape[0] < minimum:
        raise ConfigError(f"{name} needs at least {minimum} points, got {array.shape[0]}")
    if not np.all(np.isfinite(array)):
        raise ConfigError(f"{name} contains NaN or infinite values")
    return array


def points_in_polygon(points: Points, polygon: Points) -> npt.NDArray[np.bool_]:
    """Return which points lie inside or on the boundary of a simple polygon.

    Even-odd ray casting over all edges at once, plus an explicit on-edge test
    so that points exactly on an edge or vertex count as inside (as rasterising
    the polygon with its outline would).

    Args:
        points: Points, shape ``(N, 2)``.
        polygon: Vertices in order, shape ``(M, 2)``, ``M >= 3``; closed implicitly.

    Returns:
        Mask, shape ``(N,)``.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if pts.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    a = np.asarray(polygon, dtype=np.float64)
    b = np.roll(a, -1, axis=0)
    px, py = pts[:, 0:1], pts[:, 1:2]  # (N, 1) against edges (1, M)
    ax, ay, bx, by = a[None, :, 0], a[None, :, 1], b[None, :, 0], b[None, :, 1]

    straddles = (ay > py) != (by > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = ax + (py - ay) * (bx - ax) / (by - ay)
    inside = np.logical_xor.reduce(straddles & (px < x_cross), axis=1)

    ex, ey = bx - ax, by - ay
    length = np.hypot(ex, ey)
    cross = ex * (py - ay) - ey * (px - ax)
    dot = ex * (px - ax) + ey * (py - ay)
    near_line = np.abs(cross) <= _EDGE_TOLERANCE * np.maximum(length, 1.0)
    within = (dot >= -_EDGE_TOLERANCE) & (dot <= length * length + _EDGE_TOLERANCE)
    on_edge = np.any(near_line & within, axis=1)
    return np.asarray(inside | on_edge, dtype=bool)


def homography_from_quads(source: object, target: object) -> Points:
    """Return the 3x3 projective map that takes 4 source points onto 4 target points.

    Solves the standard 8x8 linear system with ``h33 = 1`` (the direct linear
    transform for exactly four correspondences).

    Args:
        source: Four points, e.g. a quad on the image, shape ``(4, 2)``.
        target: The four matching points, e.g. the same quad in metres on the ground.

    Returns:
        The matrix ``H``, shape ``(3, 3)``, with ``H[2, 2] == 1``.

    Raises:
        ConfigError: the points are not 4 finite pairs, or three of them are collinear
            (the map is then not defined).
    """
    src = as_points(source, "source quad")
    dst = as_points(target, "target quad")
    if src.shape[0] != 4 or dst.shape[0] != 4:
        raise ConfigError("a homography needs exactly 4 source and 4 target points")
    for quad, name in ((src, "source quad"), (dst, "target quad")):
        if _has_collinear_triple(quad):
            raise ConfigError(f"{name} has three collinear points")
    system = np.zeros((8, 8), dtype=np.float64)
    rhs = np.zeros(8, dtype=np.float64)
    for i, ((x, y), (u, v)) in enumerate(zip(src, dst, strict=True)):
        system[2 * i] = (x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y)
        system[2 * i + 1] = (0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y)
        rhs[2 * i], rhs[2 * i + 1] = u, v
    try:
        solution = np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError as exc:
        raise ConfigError("the quads do not define a homography") from exc
    return np.append(solution, 1.0).reshape(3, 3)


def _has_collinear_triple(quad: Points) -> bool:
    scale = max(float(np.ptp(quad[:, 0])), float(np.ptp(quad[:, 1])), 1e-12)
    for skip in range(4):
        p, q, r = np.delete(quad, skip, axis=0)
        area = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
        if abs(area) <= 1e-9 * scale * scale:
            return True
    return False


def apply_homography(matrix: Points, points: Points) -> Points:
    """Map points through a homography.

    Args:
        matrix: ``(3, 3)`` projective map.
        points: Points, shape ``(N, 2)``.

    Returns:
        Mapped points, shape ``(N, 2)``; points that map to infinity (on the
        horizon line) come back as ``inf``.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    homogeneous = pts @ matrix[:, :2].T + matrix[:, 2]
    w = homogeneous[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        mapped = homogeneous[:, :2] / w
    mapped[~np.isfinite(mapped)] = np.inf
    return mapped


@dataclass(frozen=True, eq=False)
class GroundPlane:
    """A map from image pixels to metres on a flat ground, from 4 point pairs.

    Attributes:
        image_points: Four image points (pixels), shape ``(4, 2)``, e.g. the
            corners of a marked rectangle on the floor.
        ground_points: The same four points in metres on the ground, e.g.
            ``[(0, 0), (5, 0), (5, 10), (0, 10)]``.
        matrix: The derived ``(3, 3)`` homography (read-only).
    """

    image_points: Points
    ground_points: Points
    matrix: Points = field(init=False)

    def __post_init__(self) -> None:
        image = as_points(self.image_points, "image_points")
        ground = as_points(self.ground_points, "ground_points")
        matrix = homography_from_quads(image, ground)
        for array in (image, ground, matrix):
            array.setflags(write=False)
        object.__setattr__(self, "image_points", image)
        object.__setattr__(self, "ground_points", ground)
        object.__setattr__(self, "matrix", matrix)

    @classmethod
    def from_quads(
        cls, image_quad: Sequence[Sequence[float]], ground_quad: Sequence[Sequence[float]]
    ) -> GroundPlane:
        """Build a plane from two lists of four ``(x, y)`` points (image pixels, metres).

        Raises:
            ConfigError: the quads are not 4 finite points each, or are degenerate.
        """
        return cls(as_points(image_quad, "image_points"), as_points(ground_quad, "ground_points"))

    def to_ground(self, points: Points) -> Points:
        """Map image points ``(N, 2)`` to ground metres ``(N, 2)``."""
        return apply_homography(self.matrix, points)
