"""Liveness fusion: the logistic model, unmeasured cues, ablation, the calibrated constants."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from argus.domain.errors import ValidationError
from argus.domain.liveness import (
    CALIBRATED,
    CALIBRATED_BIAS,
    CUE_NAMES,
    CueTerm,
    LivenessCues,
    LivenessModel,
    cue_values,
    liveness_score,
)

MODEL = LivenessModel(
    bias=1.0,
    terms=(
        CueTerm("coupling", 0.5, 0.1, -1.0),
        CueTerm("residual", 0.2, 0.05, 1.0),
        CueTerm("texture", 2.0, 0.2, -0.5),
        CueTerm("device", 0.0, 0.25, -2.0),
        CueTerm("bezel", 0.25, 0.25, -1.0),
    ),
)


def _cues(**values: float | None) -> LivenessCues:
    base: dict[str, float | None] = {
        "coupling": None,
        "residual": None,
        "peak_prominence": None,
        "deformation": None,
    }
    base.update(values)
    return LivenessCues(frames=8, moving_pairs=0, **base)


def test_cue_names_cover_the_cues() -> None:
    values = cue_values(_cues(peak_prominence=1.5, device=0.0, parallax=0.1))
    assert tuple(values) == CUE_NAMES
    assert values["texture"] == 1.5
    assert values["parallax"] == 0.1
    assert values["bezel"] is None


def test_nothing_measured_scores_the_bias() -> None:
    result = liveness_score(_cues(), MODEL)
    assert result.score == pytest.approx(1 / (1 + math.exp(-1.0)))
    assert result.live
    assert result.terms == {}
    assert result.motion is None
    assert result.texture is None


def test_terms_are_weighted_standardised_values() -> None:
    result = liveness_score(_cues(device=0.5, peak_prominence=2.2), MODEL)
    assert result.terms["device"] == pytest.approx(-2.0 * 2.0)
    assert result.terms["texture"] == pytest.approx(-0.5 * 1.0)
    assert result.score == pytest.approx(1 / (1 + math.exp(-(1.0 - 4.0 - 0.5))))
    assert not result.live
    assert result.texture == pytest.approx(1 / (1 + math.exp(-(1.0 - 0.5))))


def test_one_cue_is_clipped() -> None:
    far = liveness_score(_cues(device=100.0), MODEL)
    assert far.terms["device"] == pytest.approx(-2.0 * 4.0)


def test_motion_needs_both_motion_cues() -> None:
    assert liveness_score(_cues(coupling=0.9), MODEL).motion is None
    both = liveness_score(_cues(coupling=0.9, residual=0.05), MODEL)
    assert both.motion is not None
    assert both.motion < 0.5


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_cues_count_as_unmeasured(bad: float) -> None:
    assert "device" not in liveness_score(_cues(device=bad), MODEL).terms


def test_without_removes_named_cues() -> None:
    spoof = _cues(device=1.0, bezel=1.0)
    assert not liveness_score(spoof, MODEL).live
    assert not liveness_score(spoof, MODEL, without=frozenset({"bezel"})).live
    lifted = liveness_score(spoof, MODEL, without=frozenset({"device", "bezel"}))
    assert lifted.live
    assert lifted.terms == {}
    with pytest.raises(ValidationError):
        liveness_score(spoof, MODEL, without=frozenset({"nose"}))


def test_cue_without_a_term_is_ignored() -> None:
    assert liveness_score(_cues(glare=50.0), MODEL).terms == {}


def test_calibrated_defaults() -> None:
    model = LivenessModel()
    assert model.bias == CALIBRATED_BIAS
    assert model.terms == CALIBRATED
    assert CALIBRATED_BIAS > 0  # an unmeasurable window is not evidence of an attack
    assert liveness_score(_cues()).live
    for term in CALIBRATED:
        assert term.name in CUE_NAMES


def test_calibration_fit_separates_and_respects_the_signs() -> None:
    from benchmarks.liveness_calibrate import fit

    rows: list[dict[str, Any]] = [
        {"kind": "bona_fide", "device": 0.0, "bezel": 0.1 * (i % 2), "saturation": 150.0 + i}
        for i in range(10)
    ] + [
        {"kind": "replay", "device": 1.0 * (i % 2), "bezel": 0.5, "saturation": 150.0 - i}
        for i in range(10)
    ]
    bias, terms = fit(rows, ["device", "bezel", "saturation"], margin=0.5)
    model = LivenessModel(bias=bias, terms=tuple(CueTerm(*t) for t in terms))
    weights = {t.name: t.weight for t in model.terms}
    assert weights["bezel"] < 0
    assert weights.get("device", -1.0) <= 0
    assert weights.get("saturation", 1.0) >= 0
    for row in rows:
        cues = _cues(device=row["device"], bezel=row["bezel"], saturation=row["saturation"])
        score = liveness_score(cues, model)
        if row["kind"] == "bona_fide":
            assert score.live
    replays = [
        liveness_score(
            _cues(device=r["device"], bezel=r["bezel"], saturation=r["saturation"]), model
        )
        for r in rows
        if r["kind"] == "replay"
    ]
    assert sum(not s.live for s in replays) >= 8


def test_cap_bounds_a_cue_before_standardising() -> None:
    term = CueTerm("residual", 0.3, 0.1, 1.0, cap=0.3)
    assert term.logit(5.0) == pytest.approx(0.0)
    assert term.logit(0.1) == pytest.approx(-2.0)
    assert CueTerm("residual", 0.3, 0.1, 1.0).logit(0.5) == pytest.approx(2.0)


def test_calibration_script_refits_from_a_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks.liveness_calibrate import SIGNS, main

    def row(kind: str, i: int) -> dict[str, Any]:
        live = kind == "bona_fide"
        return {"kind": kind, "name": f"{kind}-{i % 2}", "start": i} | {
            n: (0.1 * i if live else 0.5 + 0.1 * i) * (1 if SIGNS[n] < 0 else -1) for n in SIGNS
        }

    rows = [row("bona_fide", i) for i in range(6)] + [row("print", i) for i in range(6)]
    cache = tmp_path / "cues.json"
    cache.write_text(json.dumps({"rows": rows, "cost": {"cues_ms": 1.0, "still_ms": 0.5}}))
    assert main(["--refit", "--cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "CALIBRATED_BIAS = " in out
    assert "all cues               errors: bona_fide 0/6" in out
    assert "fitted without bona_fide-0" in out


def test_one_sided_term_counts_only_evidence_of_an_attack() -> None:
    term = CueTerm("bezel", 0.4, 0.1, -1.5, one_sided=True)
    assert term.logit(0.0) == 0.0  # well inside the live range: no bonus
    assert term.logit(0.4) == 0.0
    assert term.logit(0.6) == pytest.approx(-3.0)
    assert term.logit(5.0) == pytest.approx(-6.0)  # clipped at 4 scales
    positive = CueTerm("saturation", 65.0, 37.0, 1.0, one_sided=True)
    assert positive.logit(250.0) == 0.0
    assert positive.logit(28.0) == pytest.approx(-1.0)


def test_calibrated_terms_are_one_sided_and_bounded() -> None:
    for term in CALIBRATED:
        assert term.one_sided
        assert abs(term.weight) <= 2.0
    # A window whose every cue looks live scores the bias, with a margin.
    live = _cues(
        coupling=0.0,
        residual=0.6,
        peak_prominence=1.4,
        device=0.0,
        bezel=0.0,
        banding=0.9,
        saturation=140.0,
    )
    result = liveness_score(live)
    assert result.score == pytest.approx(1 / (1 + math.exp(-CALIBRATED_BIAS)))
    assert result.score > 0.7
    # A planar face with a bezel and dull colours is a spoof.
    spoof = _cues(
        coupling=0.9,
        residual=0.05,
        peak_prominence=1.4,
        device=0.0,
        bezel=0.6,
        banding=0.9,
        saturation=60.0,
    )
    assert not liveness_score(spoof).live


def test_calibration_fit_is_one_sided_and_keeps_the_live_margin() -> None:
    from benchmarks.liveness_calibrate import fit

    rows: list[dict[str, Any]] = [
        {"kind": "bona_fide", "video": f"v{i % 2}", "bezel": 0.05 * (i % 4)} for i in range(20)
    ] + [{"kind": "print", "bezel": 0.5 + 0.02 * i} for i in range(20)]
    bias, terms = fit(rows, ["bezel"], margin=1.0)
    (term,) = (CueTerm(*t) for t in terms)
    assert term.one_sided
    assert term.weight < 0
    assert term.centre > 0.15  # starts beyond the live range
    for row in rows:
        logit = bias + term.logit(row["bezel"])
        if row["kind"] == "bona_fide":
            assert logit >= 1.0 - 1e-9
