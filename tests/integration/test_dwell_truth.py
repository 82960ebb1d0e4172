"""Dwell per visit against the ground-truth trajectories of the shared TUD sequences (issue 23).

Argus's tracker tracks the public detections; the tracks are recorded as a camera
pipeline records them (``tracks.minute``, 5 Hz) and read back, and the dwell per visit
(fragments joined, short gaps merged) must be within 20 % of the dwell of the
ground-truth trajectories in each of three zones per sequence. The per-exit dwell of a
live zone over the same tracks, what the dwell API reported before, is far off.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from argus.adapters.mot.format import load_ground_truth, load_sequence, read_frame_size
from argus.bootstrap.container import make_tracker
from argus.domain.tracking import TrackerConfig
from argus.services.dwell_eval import DwellCheck, evaluate_dwell, side_zones
from argus.services.mot import OURS, PortTracker

pytestmark = [pytest.mark.eval]

MOT = Path(__file__).resolve().parents[3] / "shared" / "eval" / "mot"
GOAL = 0.20


def _checks(name: str) -> list[DwellCheck]:
    path = MOT / name
    if not (path / "gt" / "gt.txt").is_file():
        pytest.skip(f"{path} is absent: ../shared/eval is only beside a project checkout")
    size = read_frame_size(path)
    tracker = PortTracker(OURS, lambda rate: make_tracker(TrackerConfig(frame_rate=rate)))
    return evaluate_dwell(
        load_sequence(path), load_ground_truth(path), side_zones(*size), tracker, size
    )


@pytest.mark.parametrize("name", ["TUD-Campus", "TUD-Stadtmitte"])
def test_dwell_means_per_visit_are_within_20_percent_of_the_ground_truth(name: str) -> None:
    checks = _checks(name)
    assert [c.zone for c in checks] == ["left", "middle", "right"]
    for check in checks:
        assert check.truth_visits >= 5, check  # enough people for a mean
        assert check.error <= GOAL, check
        # Fragments are joined: about one visit per person, not one per track piece.
        assert abs(check.visits - check.truth_visits) <= 2, check


def test_per_exit_dwell_of_a_live_zone_is_what_was_wrong() -> None:
    checks = _checks("TUD-Stadtmitte")
    # The old figure: one exit per track fragment, means far below the truth.
    assert all(c.exit_mean < 0.5 * c.truth_mean for c in checks), checks
