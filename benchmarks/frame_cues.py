"""Frame cues for the tracker: what camera motion and appearance cost, and what a pan costs.

**Cost** (``vtest.avi``, 480x360, its public detections ``vtest.det.txt``):
the median time per frame of ``SparseFlowMotion.estimate`` (downscaled to 320
pixels wide), of ``ColourHistogramAppearance.embed`` over the frame's boxes,
of the box tracker's ``update`` alone, and of ``CuedTracker.update`` (all
three), measured in the same run on the same frames.

**Synthetic pan** (no model, no ground truth needed): a 384x288 window moves
over the real frames at 3-6 px per frame, reversing at random (about every
ten frames) and at the edges, with a slower vertical drift; the detections
are shifted by the same offset (boxes less than half inside the window are
dropped). Every tracker also runs on the same boxes and pixels without the
pan (the still view), and its own still-view tracks serve as its reference: a
*fragment* is an extra id a reference track got under the pan, a *switch* a
change of id along it. Only the pan differs between the two runs, so every
fragment and switch is the pan's doing. Rows: the box tracker without any
motion compensation, with its estimate of motion from the boxes, and
``CuedTracker`` with motion from the frames (without and with appearance).

    python -m benchmarks.frame_cues [--quick]
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from benchmarks._common import (
    REPO_ROOT,
    Section,
    markdown_table,
    median,
    progress,
    run_main,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from argus.domain.detections import Detections

    Image = npt.NDArray[np.uint8]

__all__ = [
    "DETECTIONS",
    "VARIANTS",
    "PanRun",
    "SyntheticPan",
    "identity_errors",
    "load_vtest",
    "main",
    "run",
    "synthetic_pan",
    "track",
]

MEDIA = REPO_ROOT.parent / "shared" / "eval" / "media"
VIDEO = MEDIA / "vtest.avi"
DETECTIONS = MEDIA / "vtest.det.txt"
WINDOW = (384, 288)
SPEED = (3.0, 6.0)
SEEDS, QUICK_SEEDS = 3, 1
FRAME_RATE = 10.0

Update = Callable[["Detections", "Image"], "Detections"]
"""One tracker step: a frame's detections and pixels to the tracked detections."""


@dataclass(frozen=True)
class SyntheticPan:
    """A pan over real frames: per frame the window's pixels and boxes, and the still view's.

    Attributes:
        offsets: Window corner per frame, ``(F, 2)`` integer pixels (x, y).
        crops: The window's pixels per frame.
        panned: Detections in window coordinates per frame.
        still: The same detections in full-frame coordinates per frame.
    """

    offsets: npt.NDArray[np.int64]
    crops: list[Image]
    panned: list[Detections]
    still: list[Detections]


def load_vtest(limit: int | None = None) -> tuple[list[Image], npt.NDArray[np.float64]] | None:
    """Decode ``vtest.avi`` and read its detections; ``None`` when the files are absent.

    Args:
        limit: Decode only the first frames.

    Returns:
        The BGR frames and the detection rows ``(M, 7+)`` (frame, id, x, y, w, h, score).
    """
    import cv2
    import numpy as np

    if not (VIDEO.is_file() and DETECTIONS.is_file()):
        return None
    capture = cv2.VideoCapture(str(VIDEO))
    frames: list[Image] = []
    while limit is None or len(frames) < limit:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(np.asarray(frame, dtype=np.uint8))
    capture.release()
    rows = np.loadtxt(DETECTIONS, delimiter=",", ndmin=2)
    return frames, rows


def _offsets(count: int, frame: tuple[int, int], seed: int) -> npt.NDArray[np.int64]:
    import numpy as np

    rng = np.random.default_rng(seed)
    span_x, span_y = frame[0] - WINDOW[0], frame[1] - WINDOW[1]
    x, y = span_x / 2, span_y / 2
    vx, vy = SPEED[1], 1.0
    out = np.zeros((count, 2))
    for i in range(count):
        out[i] = x, y
        if rng.random() < 0.1 or not 0 <= x + vx <= span_x:
            vx = -np.sign(vx) * rng.uniform(*SPEED)
        if rng.random() < 0.1 or not 0 <= y + vy <= span_y:
            vy = -np.sign(vy) * rng.uniform(0.0, 2.0)
        x, y = x + vx, y + vy
    return np.rint(np.clip(out, 0, [span_x, span_y])).astype(np.int64)


def synthetic_pan(
    frames: Sequence[Image], rows: npt.NDArray[np.float64], *, seed: int = 0
) -> SyntheticPan:
    """Pan a window over ``frames`` and shift their detections with it.

    Args:
        frames: Full frames, all of one size larger than the window.
        rows: Detection rows (frame 1-based, id, x, y, w, h, score, ...).
        seed: Seed of the pan's random reversals.

    Returns:
        The pan.
    """
    import numpy as np

    from argus.domain.detections import Detections

    height, width = frames[0].shape[:2]
    offsets = _offsets(len(frames), (width, height), seed)
    limit = np.array([WINDOW[0], WINDOW[1], WINDOW[0], WINDOW[1]], dtype=np.float64)
    crops: list[Image] = []
    panned: list[Detections] = []
    still: list[Detections] = []
    for i, image in enumerate(frames):
        x0, y0 = (int(v) for v in offsets[i])
        crops.append(np.ascontiguousarray(image[y0 : y0 + WINDOW[1], x0 : x0 + WINDOW[0]]))
        mine = rows[rows[:, 0] == i + 1]
        shift = np.array([x0, y0, x0, y0], dtype=np.float64)
        xyxy = np.c_[mine[:, 2:4], mine[:, 2:4] + mine[:, 4:6]] - shift
        inside = np.clip(xyxy, 0, limit)
        area = np.prod(xyxy[:, 2:] - xyxy[:, :2], axis=1)
        keep = np.prod(inside[:, 2:] - inside[:, :2], axis=1) >= 0.5 * area
        boxes, scores = inside[keep], np.clip(mine[keep, 6], 0.0, 1.0)
        classes = np.zeros(len(boxes), dtype=np.int64)
        panned.append(Detections(xyxy=boxes, confidence=scores, class_id=classes))
        still.append(Detections(xyxy=boxes + shift, confidence=scores, class_id=classes))
    return SyntheticPan(offsets, crops, panned, still)


def track(
    update: Update, images: Sequence[Image], detections: Sequence[Detections]
) -> list[npt.NDArray[np.int64]]:
    """Run a tracker; return per frame the id of each input detection (``-1`` untracked)."""
    import numpy as np

    out: list[npt.NDArray[np.int64]] = []
    for image, dets in zip(images, detections, strict=True):
        tracked = update(dets, image)
        ids = np.full(len(dets.xyxy), -1, dtype=np.int64)
        if len(tracked.xyxy):
            # The tracker returns a subset of its input rows: find each by its corners.
            gap = np.abs(dets.xyxy[None, :, :] - tracked.xyxy[:, None, :]).sum(axis=2)
            ids[gap.argmin(axis=1)] = tracked.tracker_id
        out.append(ids)
    return out


def identity_errors(
    reference: Sequence[npt.NDArray[np.int64]], run: Sequence[npt.NDArray[np.int64]]
) -> tuple[int, int]:
    """Fragments and id switches of ``run`` along each reference track.

    Args:
        reference: Per frame, the reference id of each detection (``-1`` none).
        run: Per frame, the id under test of the same detections.

    Returns:
        Extra ids per reference track, summed, and changes of id along them.
    """
    import numpy as np

    along: dict[int, list[int]] = {}
    for ref, got in zip(reference, run, strict=True):
        both = (ref > 0) & (got > 0)
        for r, g in zip(ref[both].tolist(), got[both].tolist(), strict=True):
            along.setdefault(r, []).append(g)
    fragments = sum(len(set(ids)) - 1 for ids in along.values())
    switches = sum(int(np.count_nonzero(np.diff(ids))) for ids in along.values())
    return fragments, switches


def _variants() -> dict[str, Callable[[], Update]]:
    from argus.bootstrap.container import make_cued_tracker, make_tracker
    from argus.domain.tracking import TrackerConfig

    config = TrackerConfig(frame_rate=FRAME_RATE)
    still = dataclasses.replace(config, box_motion=False)

    def boxes_only(cfg: TrackerConfig) -> Callable[[], Update]:
        def build() -> Update:
            tracker = make_tracker(cfg)
            return lambda dets, _image: tracker.update(dets)

        return build

    def cued(appearance: bool) -> Callable[[], Update]:
        def build() -> Update:
            tracker = make_cued_tracker(config, appearance=appearance)
            return lambda dets, image: tracker.update(dets, image=image)

        return build

    return {
        "box tracker, no motion compensation": boxes_only(still),
        "box tracker, motion from the boxes": boxes_only(config),
        "CuedTracker, motion from the frames (live default)": cued(False),
        "CuedTracker, motion + appearance (appearance: true)": cued(True),
    }


VARIANTS = (
    "box tracker, no motion compensation",
    "box tracker, motion from the boxes",
    "CuedTracker, motion from the frames (live default)",
    "CuedTracker, motion + appearance (appearance: true)",
)


@dataclass(frozen=True)
class PanRun:
    """One tracker on one pan: its errors against its own still-view tracks."""

    variant: str
    seed: int
    fragments: int
    switches: int
    reference_tracks: int


def _pan_runs(frames: list[Image], rows: npt.NDArray[np.float64], seeds: int) -> list[PanRun]:
    variants = _variants()
    runs: list[PanRun] = []
    for seed in range(seeds):
        pan = synthetic_pan(frames, rows, seed=seed)
        for name in VARIANTS:
            progress(f"frame_cues: pan seed {seed}, {name}")
            reference = track(variants[name](), frames, pan.still)
            panned = track(variants[name](), pan.crops, pan.panned)
            fragments, switches = identity_errors(reference, panned)
            tracks = len({int(i) for ids in reference for i in ids if i > 0})
            runs.append(PanRun(name, seed, fragments, switches, tracks))
    return runs


def _costs(frames: list[Image], rows: npt.NDArray[np.float64]) -> dict[str, list[float]]:
    import numpy as np

    from argus.adapters.tracking.appearance import ColourHistogramAppearance
    from argus.adapters.tracking.camera_motion import SparseFlowMotion
    from argus.bootstrap.container import make_cued_tracker, make_tracker
    from argus.domain.detections import Detections
    from argus.domain.tracking import TrackerConfig

    config = TrackerConfig(frame_rate=FRAME_RATE)
    dets = []
    for i in range(len(frames)):
        mine = rows[rows[:, 0] == i + 1]
        xyxy = np.c_[mine[:, 2:4], mine[:, 2:4] + mine[:, 4:6]]
        score = np.clip(mine[:, 6], 0.0, 1.0)
        dets.append(Detections(xyxy=xyxy, confidence=score, class_id=np.zeros(len(mine), int)))
    motion, appearance = SparseFlowMotion(), ColourHistogramAppearance()
    boxes, cued = make_tracker(config), make_cued_tracker(config)
    steps: dict[str, Callable[[int], object]] = {
        "camera motion (SparseFlowMotion.estimate)": lambda i: motion.estimate(frames[i], dets[i]),
        "appearance (ColourHistogramAppearance.embed)": lambda i: appearance.embed(
            frames[i], dets[i]
        ),
        "box tracker update alone": lambda i: boxes.update(dets[i]),
        "CuedTracker update (all three)": lambda i: cued.update(dets[i], image=frames[i]),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for i in range(len(frames)):
        # Interleaved per frame so that the machine's load falls on every step alike.
        for name, step in steps.items():
            started = time.perf_counter()
            step(i)
            times[name].append(time.perf_counter() - started)
    times["boxes per frame"] = [float(len(d.xyxy)) for d in dets]
    return times


def render(costs: dict[str, list[float]], runs: Sequence[PanRun], frames: int) -> Section:
    """Format the cost table and the pan table."""
    boxes = median(costs["boxes per frame"])
    tracker = median(costs["box tracker update alone"])
    cost_rows = [
        [name, f"{median(values) * 1e3:.2f}", f"{median(values) / tracker:.1f}x"]
        for name, values in costs.items()
        if name != "boxes per frame"
    ]
    cost_table = markdown_table(["step", "median ms / frame", "x box tracker"], cost_rows)
    pan_rows = []
    totals: dict[str, tuple[int, int]] = {}
    for name in VARIANTS:
        mine = [r for r in runs if r.variant == name]
        fragments = sum(r.fragments for r in mine)
        switches = sum(r.switches for r in mine)
        tracks = sum(r.reference_tracks for r in mine)
        totals[name] = (fragments, switches)
        pan_rows.append([name, tracks, fragments, switches])
    pan_table = markdown_table(
        ["tracker", "reference tracks", "fragments", "id switches"], pan_rows
    )
    seeds = len({r.seed for r in runs})
    body = (
        f"Cost on vtest.avi at 480x360, {frames} frames, median {boxes:.0f} boxes per frame:\n\n"
        f"{cost_table}\n\n"
        f"Synthetic pan ({WINDOW[0]}x{WINDOW[1]} window, {SPEED[0]:.0f}-{SPEED[1]:.0f} px/frame, "
        f"{seeds} seed(s), {frames} frames each), errors against each tracker's own "
        f"still-view tracks:\n\n{pan_table}\n"
    )
    plain, cued = totals[VARIANTS[0]], totals[VARIANTS[2]]
    headline = [
        f"frame cues: camera motion {median(costs[cost_rows[0][0]]) * 1e3:.2f} ms/frame, "
        f"appearance {median(costs[cost_rows[1][0]]) * 1e3:.2f} ms/frame at 480x360; "
        f"synthetic pan: {plain[0]} fragments / {plain[1]} id switches without compensation, "
        f"{cued[0]} / {cued[1]} with motion from the frames"
    ]
    return Section("Frame cues: camera motion and appearance", body, headline)


def run(quick: bool) -> Section:
    """Run the frame-cue benchmark and return its section (skipped without the clip)."""
    loaded = load_vtest(300 if quick else None)
    if loaded is None:
        reason = f"skipped: {MEDIA} is absent (../shared/eval is only beside a project checkout)"
        progress(f"frame_cues: {reason}")
        return Section(
            "Frame cues: camera motion and appearance", reason, [f"frame cues: {reason}"]
        )
    frames, rows = loaded
    progress(f"frame_cues: cost over {len(frames)} frames")
    costs = _costs(frames, rows)
    runs = _pan_runs(frames, rows, QUICK_SEEDS if quick else SEEDS)
    return render(costs, runs, len(frames))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.frame_cues``."""
    return run_main("Frame cues: camera motion and appearance.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
