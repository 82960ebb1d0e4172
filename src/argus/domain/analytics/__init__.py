"""Analytics on tracked detections: pure objects with bounded state and one verb each.

``LineZone.trigger`` counts line crossings, ``PolygonZone.trigger`` watches a
zone (occupancy, enter/exit, dwell, loitering, crowding),
``SpeedEstimator.trigger`` / ``RunningDetector.trigger`` measure speed and flag
running, and ``Heatmap.add`` accumulates presence. None of them draws, logs or
changes its input; events are the frozen values of ``argus.domain.events``.
"""

from argus.domain.analytics.anchors import Anchor, anchor_points, parse_anchors
from argus.domain.analytics.behaviour import RunningDetector, SpeedEstimator, SpeedResult
from argus.domain.analytics.geometry import (
    GroundPlane,
    apply_homography,
    homography_from_quads,
    points_in_polygon,
)
from argus.domain.analytics.heatmap import Heatmap
from argus.domain.analytics.line import LineResult, LineZone
from argus.domain.analytics.polygon import PolygonZone, ZoneEvent, ZoneResult
from argus.domain.analytics.tracks import Retention

__all__ = [
    "Anchor",
    "GroundPlane",
    "Heatmap",
    "LineResult",
    "LineZone",
    "PolygonZone",
    "Retention",
    "RunningDetector",
    "SpeedEstimator",
    "SpeedResult",
    "ZoneEvent",
    "ZoneResult",
    "anchor_points",
    "apply_homography",
    "homography_from_quads",
    "parse_anchors",
    "points_in_polygon",
]
