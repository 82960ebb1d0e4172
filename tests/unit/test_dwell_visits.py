"""Dwell per visit: fragments joined, short absences merged, paths as they are for the truth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from argus.domain.analytics.dwell import Path, joined_paths, visits, zone_visits
from argus.domain.analytics.recount import Trajectory
from argus.domain.errors import ValidationError
from argus.domain.events import Envelope, EventSource
from argus.domain.frames import Frame
from argus.services.track_log import MinuteTracks, TrackAssembler
from tests.factories import make_detections, solid_image

ZONE = [(100.0, 0.0), (300.0, 0.0), (300.0, 400.0), (100.0, 400.0)]
"""A full-height band from x 100 to x 300."""
RATE = 5.0  # samples per second, as tracks.minute records them


def _walk(
    x0: float, speed: float, t0: float, t1: float, y: float = 200.0
) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(t0, t1, 1.0 / RATE)
    xy = np.stack([x0 + speed * (t - t0), np.full_like(t, y)], axis=1)
    return t, xy


def _trajectory(track_id: int, t: np.ndarray, xy: np.ndarray) -> Trajectory:
    return Trajectory(track_id, 0, t, xy, np.full(len(t), 100.0))


@pytest.mark.parametrize(
    ("xs", "expected"),
    [
        ([150.0] * 10, [2.0]),  # stands inside 2 s: 10 samples of 0.2 s
        ([150.0] * 5 + [350.0] * 5 + [150.0] * 5, [1.0, 1.0]),  # out 1 s, but the gap is 1.2 s
        ([150.0] * 5 + [350.0] * 4 + [150.0] * 5, [2.8]),  # out 0.8 s: one visit, gap included
        ([50.0] * 10, []),  # never inside
    ],
    ids=["stay", "two-visits", "short-step-out", "outside"],
)
def test_zone_visits_of_one_path(xs: list[float], expected: list[float]) -> None:
    t = np.arange(len(xs)) / RATE
    path = Path(0, t, np.stack([np.asarray(xs), np.full(len(xs), 200.0)], axis=1))
    found = zone_visits([path], ZONE, gap_seconds=1.0)
    assert [round(v.seconds, 3) for v in found] == expected


def test_a_walker_cut_into_two_tracks_is_one_visit() -> None:
    # 50 px/s across the 200 px band: 4 s inside. The tracker loses them for 0.6 s in the middle.
    t, xy = _walk(60.0, 50.0, 0.0, 6.0)
    first, second = t < 2.6, t >= 3.2
    tracks = [_trajectory(1, t[first], xy[first]), _trajectory(2, t[second], xy[second])]
    raw = zone_visits([Path(0, tr.t, tr.xy) for tr in tracks], ZONE)
    assert len(raw) == 2  # per fragment: two short stays, as the live zone's exits
    joined = visits(tracks, ZONE)
    assert len(joined) == 1
    assert joined[0].seconds == pytest.approx(4.0, abs=0.25)


def test_two_people_in_the_zone_at_once_stay_two_visits() -> None:
    a_t, a_xy = _walk(60.0, 50.0, 0.0, 6.0, y=100.0)
    b_t, b_xy = _walk(340.0, -50.0, 0.5, 6.5, y=300.0)
    tracks = [_trajectory(1, a_t, a_xy), _trajectory(2, b_t, b_xy)]
    found = visits(tracks, ZONE)
    assert len(found) == 2
    assert [round(v.seconds) for v in found] == [4, 4]


def test_a_new_person_far_away_is_not_joined_to_one_who_left() -> None:
    a_t, a_xy = _walk(60.0, 50.0, 0.0, 3.0)  # ends at x 210
    b_t, b_xy = _walk(290.0, -50.0, 3.4, 6.0)  # starts at x 290 walking left
    paths = joined_paths([_trajectory(1, a_t, a_xy), _trajectory(2, b_t, b_xy)])
    assert len(paths) == 2


@pytest.mark.parametrize(
    ("kwargs", "polygon"),
    [
        ({"gap_seconds": -1.0}, ZONE),
        ({"stitch_seconds": float("nan")}, ZONE),
        ({}, [(0.0, 0.0), (1.0, 1.0)]),
    ],
    ids=["negative-gap", "nan-stitch", "two-vertices"],
)
def test_bad_bounds_and_polygons_are_validation_errors(
    kwargs: dict[str, float], polygon: object
) -> None:
    t, xy = _walk(60.0, 50.0, 0.0, 2.0)
    with pytest.raises(ValidationError):
        visits([_trajectory(1, t, xy)], polygon, **kwargs)


def test_nothing_recorded_is_no_visit() -> None:
    assert visits([], ZONE) == []


def test_a_window_skips_only_the_tracks_that_started_in_the_window_before() -> None:
    # DwellVisits reads a window plus a tail; the tail's tracks belong to the next window.
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    log = MinuteTracks(EventSource("edge-1", "cam-1"), ("person",), run=1)
    frame = Frame(solid_image(400, 640), 0, 0.0, "test")
    envelopes: list[Envelope] = []
    for i in range(20):  # track 1 from 10 s, track 2 from 70 s
        for track, t0 in ((1, 10.0), (2, 70.0)):
            boxes = make_detections([[100.0, 100.0, 140.0, 200.0]], tracker_id=[track])
            envelopes += log.add(start + timedelta(seconds=t0 + i * 0.2), frame, boxes)
    envelopes += log.flush()
    assembler = TrackAssembler(start)
    for envelope in envelopes:
        assembler.add(envelope.timestamp, envelope.payload)
    assert assembler.keys() == {(1, 1), (1, 2)}
    assert assembler.keys(started=(0.0, 60.0)) == {(1, 1)}
    assert assembler.keys(started=(60.0, 120.0)) == {(1, 2)}
