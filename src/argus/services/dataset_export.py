"""Dataset export of labelled examples: COCO JSON and YOLO layouts with a manifest.

Groundwork stub (issue 21, part C); its owner replaces it.
"""

from __future__ import annotations

__all__ = ["DatasetExporter"]


class DatasetExporter:
    """Dataset export of labelled examples: COCO JSON and YOLO layouts with a manifest."""
