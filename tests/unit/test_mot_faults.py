"""The MOT fault generator: each fault does what it says, deterministically, within bounds."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from argus.domain.errors import ValidationError
from argus.services.mot_faults import LEVELS, FaultedSequence, FaultLevel, corrupt, level_named

Rows = npt.NDArray[np.float64]
W, H, FRAMES = 640, 480, 300


def lanes(people: int = 6, frames: int = FRAMES) -> Rows:
    """People walking left to right in separate lanes: no box ever overlaps another."""
    rows = []
    for pid in range(1, people + 1):
        y = 10.0 + (pid - 1) * (H - 20) / people
        h = (H - 20) / people - 4.0
        for f in range(1, frames + 1):
            x = 20.0 + (pid * 37 + 1.5 * f) % (W - 80)
            rows.append((f, pid, x, y, h * 0.4, h))
    return np.asarray(rows)


def pairs(frames: int = FRAMES) -> Rows:
    """Three pairs of people walking side by side, overlapping by half a box."""
    rows = []
    for pair in range(3):
        for member in range(2):
            pid = 2 * pair + member + 1
            for f in range(1, frames + 1):
                x = 40.0 + pair * 200 + member * 20 + 0.2 * f
                rows.append((f, pid, x, 100.0 + 30 * pair, 40.0, 120.0))
    return np.asarray(rows)


def mixed() -> Rows:
    """Lanes plus overlapping pairs (ids 101..106)."""
    shifted = pairs()
    shifted[:, 1] += 100
    return np.concatenate((lanes(), shifted))


def only(name: str, **strength: float) -> FaultLevel:
    return FaultLevel(name, **strength)  # type: ignore[arg-type]


def run(level: FaultLevel, truth: Rows | None = None, seed: int = 0) -> FaultedSequence:
    return corrupt(
        lanes() if truth is None else truth,
        name="SYN",
        frame_rate=25.0,
        width=W,
        height=H,
        level=level,
        seed=seed,
    )


def gap(boxes: Rows, box: tuple[float, ...]) -> float:
    """Largest coordinate difference to the closest of ``boxes`` (inf when there are none)."""
    if len(boxes) == 0:
        return float("inf")
    return float(np.abs(boxes - np.asarray(box)).max(axis=1).min())


def matches(seq: FaultedSequence, truth: Rows) -> npt.NDArray[np.bool_]:
    """Which detections equal a truth box of the same frame (to 0.01 px)."""
    return np.asarray(
        [
            gap(truth[truth[:, 0] == f][:, 2:6], (x, y, w, h)) < 0.01
            for f, x, y, w, h, _ in seq.detections
        ],
        dtype=bool,
    )


def test_levels_cover_combined_and_single_faults() -> None:
    names = [level.name for level in LEVELS]
    assert names[:3] == ["light", "medium", "heavy"]
    assert set(names) >= {"misses", "jitter", "false-positives", "fragments", "merges"}
    assert {"camera-motion", "frame-drop"} <= set(names)
    assert level_named("heavy").frame_step > 1
    with pytest.raises(ValidationError, match="unknown fault level"):
        level_named("nope")
    with pytest.raises(ValidationError):
        FaultLevel("bad", miss_rate=1.0)
    with pytest.raises(ValidationError):
        FaultLevel("bad", frame_step=0)


@pytest.mark.parametrize("level", LEVELS, ids=lambda lv: lv.name)
def test_same_seed_same_output_other_seed_other_output(level: FaultLevel) -> None:
    a, b, c = run(level, seed=3), run(level, seed=3), run(level, seed=4)
    assert a.name == "SYN~" + level.name + "~s3"
    assert np.array_equal(a.detections, b.detections)
    assert np.array_equal(a.truth, b.truth)
    assert np.array_equal(a.warps, b.warps)
    assert not np.array_equal(a.detections[:, 1:], c.detections[:, 1:])


@pytest.mark.parametrize("level", LEVELS, ids=lambda lv: lv.name)
def test_boxes_stay_inside_the_frame_with_sane_sizes_and_scores(level: FaultLevel) -> None:
    seq = run(level, mixed())
    f, x, y, w, h, s = seq.detections.T
    assert seq.detections.shape[1] == 6
    assert seq.truth.shape[1] == 6
    assert f.min() >= 1
    assert f.max() <= seq.length
    assert (x >= 0).all()
    assert (y >= 0).all()
    assert (x + w <= W + 1e-6).all()
    assert (y + h <= H + 1e-6).all()
    assert (w >= 2).all()
    assert (h >= 2).all()
    assert (s > 0).all()
    assert (s <= 1).all()
    assert np.all(np.diff(f) >= 0)
    assert seq.warps.shape == (seq.length, 2, 3)


def test_misses_come_in_runs_at_the_asked_rate() -> None:
    truth = lanes(people=8, frames=600)
    level = only("m", miss_rate=0.2, miss_run=10.0)
    seq = run(level, truth)
    hit = np.zeros(len(truth), dtype=bool)
    for f, x, y, *_ in seq.detections:
        hit |= (
            (truth[:, 0] == f) & (np.abs(truth[:, 2] - x) < 1e-6) & (np.abs(truth[:, 3] - y) < 1e-6)
        )
    assert len(seq.detections) == int(hit.sum())  # no other fault: detections are truth boxes
    missed = ~hit
    assert 0.12 < missed.mean() < 0.28
    runs = [
        len(r)
        for pid in range(1, 9)
        for r in "".join("x" if m else "." for m in missed[truth[:, 1] == pid]).split(".")
        if r
    ]
    assert 5.0 < float(np.mean(runs)) < 16.0  # runs, not isolated frames


def test_jitter_is_proportional_to_box_size() -> None:
    truth = lanes()
    seq = run(only("j", jitter=0.05), truth)
    assert len(seq.detections) == len(truth)
    order = np.lexsort((seq.detections[:, 2], seq.detections[:, 0]))  # by frame, then lane
    t_order = np.lexsort((truth[:, 3], truth[:, 0]))
    det, tru = seq.detections[order], truth[t_order]
    centre_err = (det[:, 2] + det[:, 4] / 2 - tru[:, 3] - tru[:, 5] / 2) / tru[:, 5]
    assert 0.035 < float(np.std(centre_err)) < 0.09
    assert not np.allclose(det[:, 1:5], tru[:, 2:6])


def test_false_positives_at_the_asked_rate_some_persisting_and_scoring_lower() -> None:
    truth = lanes()
    seq = run(only("f", false_positives=2.0), truth)
    real = matches(seq, truth)
    assert real.sum() == len(truth)
    fp = seq.detections[~real]
    assert 1.4 * FRAMES < len(fp) < 2.6 * FRAMES
    assert fp[:, 5].mean() < seq.detections[real, 5].mean() - 0.2
    # Persisting ones: a near-identical box in the next frame.
    nxt = [gap(fp[fp[:, 0] == f + 1][:, 1:3], (x, y)) < 0.1 * w + 3 for f, x, y, w, *_ in fp]
    assert 0.1 < float(np.mean(nxt)) < 0.9


def test_fragments_split_a_box_into_two_parts_inside_it() -> None:
    truth = lanes()
    seq = run(only("fr", fragment_rate=0.1), truth)
    real = matches(seq, truth)
    parts = seq.detections[~real]
    assert len(parts) % 2 == 0
    assert 0.05 < (len(parts) / 2) / len(truth) < 0.15
    for f, x, y, w, h, s in parts:
        boxes = truth[truth[:, 0] == f][:, 2:6]
        inside = (x >= boxes[:, 0] - 1e-6) & (y >= boxes[:, 1] - 1e-6)
        inside &= (x + w <= boxes[:, 0] + boxes[:, 2] + 1e-6) & (
            y + h <= boxes[:, 1] + boxes[:, 3] + 1e-6
        )
        assert inside.any()
        assert w * h < 0.8 * (boxes[:, 2] * boxes[:, 3]).max()
        assert s < 0.7


def test_merges_join_overlapping_people_into_their_union() -> None:
    truth = pairs()
    seq = run(only("mg", merge_rate=0.3), truth)
    real = matches(seq, truth)
    merged = seq.detections[~real]
    assert len(merged) > 0.1 * FRAMES * 3
    for f, x, y, w, h, _ in merged:
        frame = truth[truth[:, 0] == f]
        a, b = frame[:, 2:6].reshape(3, 2, 4).transpose(1, 0, 2)
        union = np.column_stack(
            (
                np.minimum(a[:, 0], b[:, 0]),
                a[:, 1],
                np.maximum(a[:, 0] + a[:, 2], b[:, 0] + b[:, 2]) - np.minimum(a[:, 0], b[:, 0]),
                a[:, 3],
            )
        )
        assert (np.abs(union - (x, y, w, h)).max(axis=1) < 1e-6).any()
    assert len(seq.detections) + len(merged) == len(truth)  # each merge replaces two boxes


def test_camera_motion_moves_truth_and_detections_identically() -> None:
    still = lanes()
    seq = run(only("c", camera_motion=4.0), still)
    assert not np.allclose(seq.truth[:, 2:4], still[: len(seq.truth), 2:4])
    det = seq.detections
    truth = seq.truth
    # Detections are the moved truth boxes clipped to the frame, row for row.
    x1 = np.clip(truth[:, 2], 0, W)
    y1 = np.clip(truth[:, 3], 0, H)
    x2 = np.clip(truth[:, 2] + truth[:, 4], 0, W)
    y2 = np.clip(truth[:, 3] + truth[:, 5], 0, H)
    clipped = np.column_stack((truth[:, 0], x1, y1, x2 - x1, y2 - y1))
    visible = (clipped[:, 3] * clipped[:, 4]) >= 0.3 * truth[:, 4] * truth[:, 5]
    expected = clipped[visible]
    got = det[np.lexsort((det[:, 1], det[:, 0]))][:, :5]
    expected = expected[np.lexsort((expected[:, 1], expected[:, 0]))]
    assert got.shape == expected.shape
    assert np.allclose(got, expected, atol=0.01)
    # The warps carry the previous frame's pixels to this frame's.
    fixed = np.column_stack(
        (
            np.arange(1, FRAMES + 1),
            np.ones(FRAMES),
            np.full((FRAMES, 2), 300.0),
            np.full((FRAMES, 2), 50.0),
        )
    )
    cam = run(only("c", camera_motion=4.0), fixed)
    boxes = cam.truth[:, 2:4]
    moved = np.einsum(
        "tij,tj->ti", cam.warps[1:], np.column_stack((boxes[:-1], np.ones(len(boxes) - 1)))
    )
    assert np.allclose(moved, boxes[1:], atol=1e-6)
    assert np.abs(cam.warps[1:, :, 2]).max() > 1.0
    assert np.allclose(cam.warps[0], np.eye(2, 3))


def test_frame_drop_renumbers_frames_and_divides_the_frame_rate() -> None:
    truth = lanes(frames=301)
    seq = run(only("d", frame_step=3), truth)
    assert seq.frame_rate == pytest.approx(25.0 / 3)
    assert seq.length == 101
    assert set(np.unique(seq.truth[:, 0]).astype(int)) == set(range(1, 102))
    kept = truth[(truth[:, 0] - 1) % 3 == 0]
    renumbered = np.column_stack(((kept[:, 0] - 1) // 3 + 1, kept[:, 1:]))
    assert np.allclose(seq.truth, renumbered[np.lexsort((renumbered[:, 1], renumbered[:, 0]))])
    assert seq.detections[:, 0].max() <= 101


def test_scores_leave_work_for_a_low_score_stage() -> None:
    seq = run(level_named("medium"), mixed())
    scores = seq.detections[:, 5]
    assert 0.1 < float(np.mean(scores < 0.5)) < 0.5
    assert float(np.mean(scores > 0.7)) > 0.3


def test_mot17_distractors_are_kept_aside_and_detected_when_person_like() -> None:
    base = lanes(people=3, frames=50)
    flags = np.ones((len(base), 3))
    flags[base[:, 1] == 2] = (0, 7, 1)  # a static person: detected, not scored
    flags[base[:, 1] == 3] = (0, 3, 1)  # a car: neither detected nor scored
    seq = run(only("none"), np.column_stack((base, flags)))
    assert set(seq.truth[:, 1].astype(int)) == {1}
    assert set(seq.ignored[:, 1].astype(int)) == {2, 3}
    assert seq.ignored.shape[1] == 8
    assert set(seq.ignored[:, 7].astype(int)) == {3, 7}
    assert len(seq.detections) == 100  # pedestrian and static person, 50 frames each


def test_malformed_input_is_rejected() -> None:
    with pytest.raises(ValidationError):
        run(only("x"), np.zeros((3, 4)))
    with pytest.raises(ValidationError):
        run(only("x"), seed=-1)
    with pytest.raises(ValidationError):
        corrupt(lanes(), name="S", frame_rate=25.0, width=0, height=H, level=only("x"), seed=0)
    empty = run(level_named("heavy"), np.zeros((0, 6)))
    assert empty.truth.shape == (0, 6)
