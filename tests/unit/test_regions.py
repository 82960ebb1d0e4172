"""Region planning for motion gating: pure tables of boxes, no image or model."""

from __future__ import annotations

import numpy as np
import pytest

from argus.domain.errors import ValidationError
from argus.domain.regions import (
    Region,
    RegionPlan,
    carry_mask,
    fit_region,
    map_from_region,
    merge_boxes,
    pad_boxes,
    plan_regions,
)
from tests.factories import make_detections

Box = tuple[float, float, float, float]
W, H = 1280, 720


@pytest.mark.parametrize(
    ("box", "fraction", "pixels", "expected"),
    [
        ((100, 100, 200, 150), 0.0, 0.0, (100, 100, 200, 150)),
        ((100, 100, 200, 150), 0.1, 0.0, (90, 90, 210, 160)),
        ((100, 100, 200, 150), 0.0, 5.0, (95, 95, 205, 155)),
        ((100, 100, 200, 150), 0.1, 5.0, (85, 85, 215, 165)),
        ((0, 0, 50, 50), 1.0, 0.0, (0, 0, 100, 100)),
        ((1250, 700, 1280, 720), 0.5, 0.0, (1235, 685, 1280, 720)),
    ],
    ids=["none", "fraction", "pixels", "both", "clipped-top-left", "clipped-bottom-right"],
)
def test_pad_boxes(box: Box, fraction: float, pixels: float, expected: Box) -> None:
    out = pad_boxes([box], W, H, fraction=fraction, pixels=pixels)
    np.testing.assert_allclose(out, [expected])
    assert out.dtype == np.float32


def test_pad_rejects_negative_padding_and_bad_shapes() -> None:
    with pytest.raises(ValidationError, match="padding"):
        pad_boxes([(0, 0, 1, 1)], W, H, fraction=-0.1)
    with pytest.raises(ValidationError, match="shape"):
        pad_boxes([(0, 0, 1)], W, H)
    assert pad_boxes(np.zeros((0, 4)), W, H).shape == (0, 4)


@pytest.mark.parametrize(
    ("boxes", "gap", "expected"),
    [
        ([], 0.0, []),
        ([(0, 0, 10, 10)], 0.0, [(0, 0, 10, 10)]),
        ([(0, 0, 10, 10), (5, 5, 20, 20)], 0.0, [(0, 0, 20, 20)]),
        ([(0, 0, 10, 10), (10, 0, 20, 10)], 0.0, [(0, 0, 20, 10)]),
        ([(0, 0, 10, 10), (15, 0, 20, 10)], 0.0, [(0, 0, 10, 10), (15, 0, 20, 10)]),
        ([(0, 0, 10, 10), (15, 0, 20, 10)], 5.0, [(0, 0, 20, 10)]),
        # The union of the first and last reaches the middle one: all three become one.
        ([(0, 0, 10, 10), (25, 0, 35, 4), (5, 5, 30, 12)], 0.0, [(0, 0, 35, 12)]),
        ([(0, 0, 10, 30), (20, 0, 30, 10), (5, 5, 25, 8)], 0.0, [(0, 0, 30, 30)]),
    ],
    ids=["empty", "one", "overlap", "touch", "apart", "within-gap", "chain", "bridge"],
)
def test_merge_boxes(boxes: list[Box], gap: float, expected: list[Box]) -> None:
    out = merge_boxes(np.asarray(boxes, dtype=np.float32).reshape(-1, 4), gap)
    np.testing.assert_allclose(out, np.asarray(expected, dtype=np.float32).reshape(-1, 4))


@pytest.mark.parametrize(
    ("box", "min_side", "expected"),
    [
        ((600, 300, 640, 380), 320, Region(460, 180, 780, 500)),
        ((0, 0, 40, 40), 320, Region(0, 0, 320, 320)),
        ((1260, 700, 1280, 720), 320, Region(960, 400, 1280, 720)),
        ((100, 100, 600, 200), 320, Region(100, 0, 600, 500)),
        ((0, 100, 1280, 200), 320, Region(0, 0, 1280, 720)),
        ((10, 10, 11, 11), 8, Region(6, 6, 14, 14)),
    ],
    ids=["centred", "top-left", "bottom-right", "wide-made-square", "wider-than-tall", "tiny"],
)
def test_fit_region(box: Box, min_side: int, expected: Region) -> None:
    region = fit_region(box, W, H, min_side)
    assert region == expected
    assert region.x1 <= box[0]
    assert region.y1 <= box[1]
    assert region.x2 >= box[2]
    assert region.y2 >= box[3]


def test_region_rejects_empty_crops() -> None:
    with pytest.raises(ValidationError, match="non-empty"):
        Region(10, 10, 10, 20)
    with pytest.raises(ValidationError, match="min_side"):
        fit_region((0, 0, 1, 1), W, H, 0)


@pytest.mark.parametrize(
    ("boxes", "max_regions", "expected"),
    [
        ([], 1, RegionPlan()),
        ([(600, 300, 640, 380)], 1, RegionPlan(regions=(Region(460, 180, 780, 500),))),
        # Two crops far apart: allowed with two regions, full frame with one.
        (
            [(10, 10, 50, 50), (1200, 600, 1270, 710)],
            2,
            RegionPlan(regions=(Region(0, 0, 320, 320), Region(960, 400, 1280, 720))),
        ),
        ([(10, 10, 50, 50), (1200, 600, 1270, 710)], 1, RegionPlan(full_frame=True)),
        # Fitted crops overlap: merged into one crop around both.
        (
            [(100, 100, 140, 140), (400, 100, 440, 140)],
            1,
            RegionPlan(regions=(Region(100, 0, 440, 340),)),
        ),
        # The crop would cover most of the frame: the full frame instead.
        ([(0, 0, 1000, 700)], 1, RegionPlan(full_frame=True)),
    ],
    ids=["nothing", "one", "two-apart", "two-apart-one-allowed", "overlapping-crops", "too-big"],
)
def test_plan_regions(boxes: list[Box], max_regions: int, expected: RegionPlan) -> None:
    plan = plan_regions(
        np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
        W,
        H,
        min_side=320,
        max_regions=max_regions,
        max_share=0.6,
    )
    assert plan == expected


def test_plan_rejects_bad_limits() -> None:
    with pytest.raises(ValidationError, match="plan limits"):
        plan_regions([(0, 0, 1, 1)], W, H, min_side=32, max_regions=0)


def test_map_from_region_shifts_and_drops_cut_boxes() -> None:
    region = Region(100, 50, 420, 370)
    found = make_detections(
        [(10, 10, 50, 90), (0, 100, 40, 180), (280, 100, 320, 200), (100, 300, 140, 320)],
        confidence=[0.9, 0.8, 0.7, 0.6],
    )
    kept = map_from_region(found, region, W, H, edge=2.0)
    np.testing.assert_allclose(kept.xyxy, [(110, 60, 150, 140)])
    assert kept.confidence.tolist() == pytest.approx([0.9])
    every = map_from_region(found, region, W, H, edge=-1.0)
    assert len(every) == 4
    assert found.xyxy[0, 0] == 10  # the input is untouched


def test_map_keeps_boxes_on_frame_sides() -> None:
    # A crop against the frame's left and top: a box touching those sides is not cut.
    region = Region(0, 0, 320, 320)
    found = make_detections([(0, 0, 40, 80)])
    np.testing.assert_allclose(
        map_from_region(found, region, W, H, edge=2.0).xyxy, [(0, 0, 40, 80)]
    )


@pytest.mark.parametrize(
    ("box", "carried"),
    [
        ((150, 100, 200, 200), False),
        ((90, 100, 200, 200), True),
        ((600, 100, 700, 200), True),
        ((100, 50, 420, 370), False),
    ],
    ids=["inside", "straddling", "outside", "exactly-the-crop"],
)
def test_carry_mask(box: Box, carried: bool) -> None:
    regions = (Region(100, 50, 420, 370), Region(900, 0, 1220, 320))
    assert carry_mask([box], regions).tolist() == [carried]


def test_carry_everything_without_regions() -> None:
    assert carry_mask([(0, 0, 1, 1), (5, 5, 9, 9)], ()).tolist() == [True, True]
