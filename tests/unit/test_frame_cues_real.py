"""Frame cues on the real ``vtest.avi`` (``../shared/eval/media``, skipped when absent).

A known shift of real frames is recovered within a pixel, a still camera
reads as still while people walk, the same person's appearance vectors are
closer than two people's, and a synthetic pan over the clip (its public
detections shifted with the window, so no model runs) fragments tracks
without motion compensation and not with it. The benchmark's helpers are
checked on fixed numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.tracking.appearance import ColourHistogramAppearance
from argus.adapters.tracking.camera_motion import SparseFlowMotion
from argus.bootstrap.container import make_cued_tracker, make_tracker
from argus.domain.detections import Detections
from argus.domain.tracking import TrackerConfig
from benchmarks import frame_cues

Image = npt.NDArray[np.uint8]
MEDIA = Path(__file__).resolve().parents[3] / "shared" / "eval" / "media"
FRAMES = 250  # of vtest.avi's 795: enough people and reversals of the pan


@pytest.fixture(scope="module")
def vtest() -> tuple[list[Image], npt.NDArray[np.float64]]:
    loaded = frame_cues.load_vtest(FRAMES)
    if loaded is None:
        pytest.skip(f"{MEDIA} is absent: ../shared/eval is only beside a project checkout")
    return loaded


@pytest.mark.eval
def test_a_known_shift_of_real_frames_is_recovered_within_a_pixel(
    vtest: tuple[list[Image], npt.NDArray[np.float64]],
) -> None:
    frames, rows = vtest
    pan = frame_cues.synthetic_pan(frames, rows, seed=7)
    motion = SparseFlowMotion()
    errors = []
    for i in range(120):
        warp = motion.estimate(pan.crops[i], pan.panned[i])
        if i == 0:
            assert warp is None
            continue
        assert warp is not None
        # The window moved by +d, so the content moved by -d.
        truth = pan.offsets[i - 1] - pan.offsets[i]
        errors.append(float(np.abs(warp[:, 2] - truth).max()))
    assert max(errors) < 1.0
    assert float(np.mean(errors)) < 0.2


@pytest.mark.eval
def test_a_still_camera_reads_as_still_while_people_walk(
    vtest: tuple[list[Image], npt.NDArray[np.float64]],
) -> None:
    frames, rows = vtest
    still = frame_cues.synthetic_pan(frames, rows).still
    motion = SparseFlowMotion()
    warps = [motion.estimate(image, dets) for image, dets in zip(frames, still, strict=True)]
    assert all(w is not None for w in warps[1:])
    shifts = [float(np.abs(w[:, 2]).max()) for w in warps[1:] if w is not None]
    assert max(shifts) < 0.3  # measured 0.10 over the whole clip


@pytest.mark.eval
def test_the_same_person_looks_closer_than_another(
    vtest: tuple[list[Image], npt.NDArray[np.float64]],
) -> None:
    frames, rows = vtest
    still = frame_cues.synthetic_pan(frames, rows).still
    # Identities from the box tracker on the still view (people apart from each other).
    tracker = make_tracker(TrackerConfig(frame_rate=10.0))
    ids = frame_cues.track(lambda d, _image: tracker.update(d), frames, still)
    model = ColourHistogramAppearance()
    same: list[float] = []
    other: list[float] = []
    ranked: list[bool] = []
    for t in range(0, FRAMES - 5, 3):
        now, later = model.embed(frames[t], still[t]), model.embed(frames[t + 5], still[t + 5])
        for i, track in enumerate(ids[t].tolist()):
            match = np.flatnonzero(ids[t + 5] == track)
            if track <= 0 or not match.size:
                continue
            s = float(now[i] @ later[match[0]])
            rest = [
                float(now[i] @ later[k]) for k in np.flatnonzero(ids[t + 5] > 0) if k != match[0]
            ]
            same.append(s)
            other += rest
            if rest:
                ranked.append(s > max(rest))
    assert len(ranked) > 100
    assert np.mean(same) > np.mean(other) + 0.1
    assert np.mean(ranked) > 0.8  # measured 0.91 over the first 300 frames


@pytest.mark.eval
def test_a_synthetic_pan_fragments_tracks_only_without_motion_compensation(
    vtest: tuple[list[Image], npt.NDArray[np.float64]],
) -> None:
    frames, rows = vtest
    pan = frame_cues.synthetic_pan(frames, rows, seed=0)
    config = TrackerConfig(frame_rate=10.0, box_motion=False)

    def ids(
        motion: bool, images: list[Image], dets: list[Detections]
    ) -> list[npt.NDArray[np.int64]]:
        tracker = make_cued_tracker(config, camera_motion=motion, appearance=False)
        return frame_cues.track(lambda d, image: tracker.update(d, image=image), images, dets)

    errors = {
        name: frame_cues.identity_errors(
            ids(motion, frames, pan.still), ids(motion, pan.crops, pan.panned)
        )
        for name, motion in (("without", False), ("with", True))
    }
    fragments_without, switches_without = errors["without"]
    fragments_with, switches_with = errors["with"]
    assert fragments_without >= 20  # the pan is hard for boxes alone (measured 42)
    assert fragments_with * 10 <= fragments_without
    assert switches_with * 10 <= switches_without


def test_identity_errors_count_extra_ids_and_changes() -> None:
    ref = [np.array([1, 2]), np.array([1, 2]), np.array([1, 2]), np.array([1, -1])]
    run = [np.array([5, 6]), np.array([7, 6]), np.array([5, 6]), np.array([-1, 9])]
    # Track 1 got ids 5, 7, 5 (one extra id, two changes); track 2 kept 6.
    assert frame_cues.identity_errors(ref, run) == (1, 2)


def test_the_benchmark_renders_its_tables() -> None:
    costs = {
        "camera motion (SparseFlowMotion.estimate)": [0.002, 0.002],
        "appearance (ColourHistogramAppearance.embed)": [0.0004],
        "box tracker update alone": [0.0001],
        "CuedTracker update (all three)": [0.0025],
        "boxes per frame": [6.0],
    }
    runs = [
        frame_cues.PanRun(name, 0, fragments, fragments, 30)
        for name, fragments in zip(frame_cues.VARIANTS, (100, 90, 0, 1), strict=True)
    ]
    section = frame_cues.render(costs, runs, 300)
    assert "20.0x" in section.body  # 2 ms against 0.1 ms
    assert "100 fragments / 100 id switches without compensation, 0 / 0" in section.headline[0]
