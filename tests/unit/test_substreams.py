"""Sub-stream box mapping: pure tables of boxes and sizes, no image or model."""

from __future__ import annotations

import numpy as np
import pytest

from argus.domain.cameras import Camera, Credentials
from argus.domain.edge_config import EdgeCamera
from argus.domain.errors import ValidationError
from argus.domain.frames import Frame
from argus.domain.scene_codec import camera_to_dict
from argus.domain.substreams import BoxMapping, Size, aspect_mismatch
from argus.services.edge_config import camera_from_json
from tests.factories import make_detections

Box = tuple[float, float, float, float]


@pytest.mark.parametrize(
    ("detect", "main", "box", "expected"),
    [
        ((320, 180), (1280, 720), (10, 20, 30, 40), (40, 80, 120, 160)),
        ((320, 180), (1920, 1080), (0, 0, 320, 180), (0, 0, 1920, 1080)),
        # A 4:3 sub-stream of a 16:9 camera is squeezed: x and y scale apart.
        ((640, 480), (1920, 1080), (64, 48, 128, 96), (192, 108, 384, 216)),
        ((352, 288), (2560, 1440), (176, 144, 352, 288), (1280, 720, 2560, 1440)),
        ((480, 360), (480, 360), (1.5, 2.5, 3.5, 4.5), (1.5, 2.5, 3.5, 4.5)),
        # Detect larger than main (a misconfigured pair) still maps consistently.
        ((1280, 720), (640, 360), (100, 100, 200, 200), (50, 50, 100, 100)),
    ],
    ids=["16:9-x4", "full-frame", "4:3-of-16:9", "cif-of-qhd", "same-size", "detect-larger"],
)
def test_stretched_mapping(detect: Size, main: Size, box: Box, expected: Box) -> None:
    mapping = BoxMapping.between(detect, main)
    out = mapping.map_boxes([box])
    np.testing.assert_allclose(out, [expected], rtol=1e-6)
    assert out.dtype == np.float32


@pytest.mark.parametrize(
    ("detect", "main", "box", "expected"),
    [
        # 16:9 main fitted into a 4:3 frame: bars of 60 px above and below.
        ((640, 480), (1920, 1080), (0, 60, 640, 420), (0, 0, 1920, 1080)),
        ((640, 480), (1920, 1080), (320, 240, 352, 272), (960, 540, 1056, 636)),
        # 4:3 main fitted into a 16:9 frame: bars of 40 px left and right.
        ((320, 180), (1024, 768), (40, 0, 280, 180), (0, 0, 1024, 768)),
        # Boxes reaching onto a bar are clipped at the picture's edge.
        ((640, 480), (1920, 1080), (10, 30, 50, 100), (30, 0, 150, 120)),
    ],
    ids=["bars-top-bottom", "centre", "bars-left-right", "clipped-on-bar"],
)
def test_letterboxed_mapping(detect: Size, main: Size, box: Box, expected: Box) -> None:
    out = BoxMapping.between(detect, main, letterboxed=True).map_boxes([box])
    np.testing.assert_allclose(out, [expected], rtol=1e-6, atol=1e-4)


def test_letterboxed_with_the_same_aspect_is_stretched() -> None:
    boxed = BoxMapping.between((320, 180), (1280, 720), letterboxed=True)
    plain = BoxMapping.between((320, 180), (1280, 720))
    assert (boxed.scale_x, boxed.scale_y, boxed.offset_x, boxed.offset_y) == (
        plain.scale_x,
        plain.scale_y,
        0.0,
        0.0,
    )


def test_boxes_are_clipped_to_the_main_frame() -> None:
    out = BoxMapping.between((320, 180), (1280, 720)).map_boxes([(-5, -5, 330, 190)])
    np.testing.assert_allclose(out, [(0, 0, 1280, 720)])


def test_map_detections_keeps_scores_classes_and_tracks() -> None:
    found = make_detections(
        [(10, 10, 20, 30), (100, 50, 160, 170)],
        confidence=[0.8, 0.4],
        class_id=[1, 0],
        tracker_id=[7, -1],
    )
    mapped = BoxMapping.between((320, 180), (1280, 720)).map(found)
    np.testing.assert_allclose(mapped.xyxy, [(40, 40, 80, 120), (400, 200, 640, 680)])
    np.testing.assert_array_equal(mapped.confidence, found.confidence)
    np.testing.assert_array_equal(mapped.class_id, [1, 0])
    np.testing.assert_array_equal(mapped.tracker_id, [7, -1])
    assert (mapped.class_names, mapped.model) == (found.class_names, found.model)
    np.testing.assert_allclose(found.xyxy[0], (10, 10, 20, 30))  # the input is untouched


def test_map_drops_boxes_wholly_on_a_bar() -> None:
    found = make_detections([(0, 0, 640, 50), (100, 100, 200, 200)])
    mapped = BoxMapping.between((640, 480), (1920, 1080), letterboxed=True).map(found)
    assert len(mapped) == 1
    np.testing.assert_allclose(mapped.xyxy, [(300, 120, 600, 420)])


def test_identity_and_empty_sets_come_back_as_they_are() -> None:
    found = make_detections([(1, 2, 3, 4)])
    assert BoxMapping.between((480, 360), (480, 360)).map(found) is found
    empty = make_detections([])
    assert BoxMapping.between((320, 180), (1280, 720)).map(empty) is empty
    assert BoxMapping.between((320, 180), (1280, 720)).map_boxes(np.zeros((0, 4))).shape == (0, 4)


@pytest.mark.parametrize(
    ("detect", "main"),
    [((0, 180), (1280, 720)), ((320, 180), (1280, -1)), ((320.0, 180), (1280, 720))],
    ids=["zero-width", "negative-height", "float"],
)
def test_bad_sizes_are_refused(detect: Size, main: Size) -> None:
    with pytest.raises(ValidationError, match="size"):
        BoxMapping.between(detect, main)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValidationError, match="shape"):
        BoxMapping.between((320, 180), (1280, 720)).map_boxes([(0, 0, 1)])


@pytest.mark.parametrize(
    ("detect", "main", "expected"),
    [((320, 180), (1920, 1080), 0.0), ((640, 480), (1920, 1080), 0.2877)],
    ids=["same-aspect", "4:3-vs-16:9"],
)
def test_aspect_mismatch(detect: Size, main: Size, expected: float) -> None:
    assert aspect_mismatch(detect, main) == pytest.approx(expected, abs=1e-4)


def test_frame_carries_a_detect_image() -> None:
    main = np.zeros((720, 1280, 3), np.uint8)
    small = np.zeros((180, 320, 3), np.uint8)
    frame = Frame(image=main, index=3, timestamp=0.6, detect_image=small)
    assert (frame.width, frame.height) == (1280, 720)
    assert frame.detect_size == (320, 180)
    assert Frame(image=main, index=0, timestamp=0.0).detect_size is None
    with pytest.raises(ValidationError, match="detect image"):
        Frame(image=main, index=0, timestamp=0.0, detect_image=np.zeros((180, 320), np.uint8))


def test_an_edge_node_configuration_carries_the_sub_stream() -> None:
    camera = Camera(
        id="gate",
        name="Gate",
        stream_url="rtsp://10.0.0.5:554/main",
        detect_stream_url="rtsp://10.0.0.5:554/sub",
        credentials=Credentials(username="viewer", password="s3cret"),
        edge_node_id="edge-1",
    )
    sent = EdgeCamera(camera=camera_to_dict(camera), lines=(), zones=(), evidence_types=())
    received = camera_from_json(EdgeCamera.from_dict(sent.to_dict()).camera)
    assert received.detect_stream_url == "rtsp://10.0.0.5:554/sub"
    assert received.detect_source_url() == "rtsp://viewer:s3cret@10.0.0.5:554/sub"
    assert received.source_url() == "rtsp://viewer:s3cret@10.0.0.5:554/main"
