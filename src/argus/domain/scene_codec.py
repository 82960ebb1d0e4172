"""JSON forms of cameras, lines and zones, as the control plane sends them to edge nodes.

The edge configuration (``EdgeCamera``) carries each camera of a node with
its credentials in clear (the node must open the stream; the link is HTTPS
and the node's cache encrypts them), and its lines and zones: every field of
the domain value by its name, tuples as lists, times as ISO 8601 with ``Z``.
The node reads them back with ``argus.services.edge_config`` (``camera_from_json``...).
"""

from __future__ import annotations

from argus.domain.cameras import Camera, Line, Zone
from argus.domain.codec import iso_z

__all__ = ["camera_to_dict", "line_to_dict", "zone_to_dict"]


def camera_to_dict(camera: Camera) -> dict[str, object]:
    """A camera with its credentials in clear (for an edge node's configuration)."""
    credentials = camera.credentials
    return {
        "id": camera.id,
        "name": camera.name,
        "stream_url": camera.stream_url,
        "location": camera.location,
        "credentials": None
        if credentials is None
        else {"username": credentials.username, "password": credentials.password},
        "enabled": camera.enabled,
        "detect_fps": camera.detect_fps,
        "model": camera.model,
        "edge_node_id": camera.edge_node_id,
        "detect_stream_url": camera.detect_stream_url,
        "record": camera.record,
        "created_at": iso_z(camera.created_at),
        "updated_at": iso_z(camera.updated_at),
    }


def line_to_dict(line: Line) -> dict[str, object]:
    """A counting line as JSON."""
    return {
        "id": line.id,
        "camera_id": line.camera_id,
        "name": line.name,
        "start": list(line.start),
        "end": list(line.end),
        "in_label": line.in_label,
        "out_label": line.out_label,
        "expected_direction": line.expected_direction,
        "anchors": list(line.anchors),
        "min_crossing_frames": line.min_crossing_frames,
        "classes": None if line.classes is None else list(line.classes),
        "counting": line.counting,
        "band_px": line.band_px,
        "stitch_seconds": line.stitch_seconds,
    }


def zone_to_dict(zone: Zone) -> dict[str, object]:
    """A zone as JSON."""
    return {
        "id": zone.id,
        "camera_id": zone.camera_id,
        "name": zone.name,
        "polygon": [list(p) for p in zone.polygon],
        "anchors": list(zone.anchors),
        "loiter_seconds": zone.loiter_seconds,
        "crowd_threshold": zone.crowd_threshold,
        "crowd_clear_seconds": zone.crowd_clear_seconds,
        "min_frames": zone.min_frames,
        "classes": None if zone.classes is None else list(zone.classes),
        "criticality": zone.criticality,
    }
