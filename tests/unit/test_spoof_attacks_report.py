"""The liveness report's arithmetic on fixed numbers: Wilson intervals, error rates, ablation."""

from __future__ import annotations

import math

import pytest

from argus.domain.liveness import LivenessCues, LivenessModel
from benchmarks import liveness


def _cues() -> LivenessCues:
    return LivenessCues(
        frames=8,
        moving_pairs=0,
        coupling=None,
        residual=None,
        peak_prominence=None,
        deformation=None,
    )


@pytest.mark.parametrize(
    ("errors", "n", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (1, 100, 0.0018, 0.0545),
    ],
    ids=["none", "half", "all", "one-in-100"],
)
def test_wilson_interval(errors: int, n: int, low: float, high: float) -> None:
    lo, hi = liveness.wilson(errors, n)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


def test_wilson_of_nothing_is_undefined() -> None:
    assert all(math.isnan(v) for v in liveness.wilson(0, 0))


def test_error_rates_count_accepted_attacks_and_refused_people() -> None:
    cues = _cues()
    verdicts = [
        (liveness.Window("bona_fide", "a", cues), True),
        (liveness.Window("bona_fide", "a", cues), False),
        (liveness.Window("print", "b", cues), True),
        (liveness.Window("print", "b", cues), False),
        (liveness.Window("replay", "c", cues), False),
    ]
    assert liveness.error_rates(verdicts) == {
        "bona_fide": (2, 1),
        "print": (2, 1),
        "replay": (1, 0),
    }


def test_unmeasurable_windows_are_live_in_every_ablation_row() -> None:
    windows = [liveness.Window("bona_fide", "a", _cues()), liveness.Window("print", "b", _cues())]
    table = liveness._ablation(windows, LivenessModel(bias=1.0, terms=()), ["print"])
    lines = table.splitlines()[2:]
    assert lines
    assert lines[0].split("|")[1].strip() == "all cues"
    for line in lines:  # BPCER 0 %, APCER 100 %: no cue measured says nothing
        cells = [c.strip() for c in line.split("|")[1:-1]]
        assert cells[1] == "0.0%"
        assert cells[2] == "100.0%"
