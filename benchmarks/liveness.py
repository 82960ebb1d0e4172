"""Anti-spoofing error rates on simulated attacks, and the verification pipeline's speed.

Attack set: :mod:`benchmarks.spoof_attacks` (seeded, rendered in memory from
``../shared/eval``). Every clip is cut into windows of 8 frames (stride 4) at
10 frames/s; a window counts when CenterFace finds a face in all its frames.
APCER is the share of attack windows scored live, BPCER the share of bona fide
windows scored as spoofs, at :class:`argus.domain.liveness.LivenessModel`'s
threshold. The thresholds were set by looking at seeds 0-1 (development); the
table reports seeds 2-4 (held out; ``--quick``: seed 2 only) and, apart, the
development seeds. The bona fide side is only two real videos (82 frames at
10 frames/s), so BPCER rests on very few independent windows.

Speed: :class:`argus.services.verification.FrameAnalyzer` (CenterFace, dlib
ResNet, liveness over 8 frames, yolov7-tiny at 320 px for phones) on the Hamilton
close-up, per frame; clients per box assume each client sends 1 frame/s and one
pipeline (ONNX Runtime using every core) serves them one after another, with 20 %
headroom: ``floor(0.8 * frames per second)``.

    python -m benchmarks.liveness [--quick]
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._common import Section, fmt_ms, markdown_table, progress, quantile, run_main

if TYPE_CHECKING:
    from argus.ports.faces import FaceDetector
    from benchmarks.spoof_attacks import Clip

__all__ = ["WindowResult", "error_rates", "main", "run"]

WINDOW = 8
STRIDE = 4


@dataclass(frozen=True)
class WindowResult:
    """One scored window."""

    kind: str
    name: str
    score: float
    live: bool
    motion_measured: bool = True


def error_rates(results: Sequence[WindowResult]) -> dict[str, tuple[int, int, float]]:
    """Per kind ``(windows, errors, rate)``: attacks scored live, bona fide scored spoof."""
    rates: dict[str, tuple[int, int, float]] = {}
    for kind in sorted({r.kind for r in results}):
        mine = [r for r in results if r.kind == kind]
        errors = sum(r.live != (kind == "bona_fide") for r in mine)
        rates[kind] = (len(mine), errors, errors / len(mine) if mine else math.nan)
    return rates


def _score_clips(
    clips: Sequence[Clip], faces: FaceDetector
) -> tuple[list[WindowResult], dict[str, tuple[int, int]]]:
    from argus.adapters.face.liveness import MotionTextureLiveness

    checker = MotionTextureLiveness(window=WINDOW)
    results: list[WindowResult] = []
    found: dict[str, tuple[int, int]] = {}
    for clip in clips:
        seen = [faces.detect(f).largest() for f in clip.frames]
        frames, total = found.get(clip.kind, (0, 0))
        found[clip.kind] = (frames + sum(f is not None for f in seen), total + len(seen))
        for start in range(0, len(seen) - WINDOW + 1, STRIDE):
            window = seen[start : start + WINDOW]
            if any(f is None for f in window):
                continue
            score = checker.assess(clip.frames[start : start + WINDOW], [f for f in window if f])
            results.append(
                WindowResult(
                    clip.kind, clip.name, score.score, score.live, score.motion is not None
                )
            )
    return results, found


def _rate_rows(results: Sequence[WindowResult], label: str) -> list[list[str]]:
    rows = []
    for kind, (n, errors, rate) in error_rates(results).items():
        metric = "BPCER" if kind == "bona_fide" else "APCER"
        rows.append([label, kind, metric, str(n), str(errors), f"{rate:.1%}"])
    return rows


def _speed(tmp: Path, quick: bool) -> tuple[list[float], str]:
    from argus.adapters.face.liveness import MotionTextureLiveness
    from argus.bootstrap.container import build_container
    from argus.bootstrap.models import DetectorOptions
    from argus.config import Settings
    from argus.domain.faces import EnrolledFaces
    from argus.services.verification import FrameAnalyzer, VerificationModels
    from benchmarks.spoof_attacks import bona_fide_clips

    container = build_container(Settings(data_dir=tmp))
    faces, embedder = container.face_models()
    objects = container.detector(
        DetectorOptions(model="yolov7-tiny", input_size=320, classes=["person", "cell phone"])
    )
    models = VerificationModels(faces, embedder, MotionTextureLiveness(window=WINDOW), objects)
    frames = list(bona_fide_clips(3)[0].frames)
    first = faces.detect(frames[0]).largest()
    assert first is not None
    enrolled = EnrolledFaces.of({"user": [embedder.embed(frames[0], first)]})
    analyzer = FrameAnalyzer(models, enrolled)
    times: list[float] = []
    rounds = 1 if quick else 3
    for r in range(rounds):
        for i, frame in enumerate(frames):
            t0 = time.perf_counter()
            analyzer.analyze(frame, (r * len(frames) + i) / 10)
            if r or i >= 3:
                times.append(time.perf_counter() - t0)
    return times, objects.model_ref


def run(quick: bool) -> Section:
    """Score the attack set and time the pipeline; a skip note without ``../shared/eval``."""
    from benchmarks import spoof_attacks

    title = "Anti-spoofing (simulated attacks) and verification pipeline speed"
    if not (spoof_attacks.EVAL_DIR / "media" / "short_hamilton_clip.mp4").is_file():
        return Section(title, f"*Skipped: {spoof_attacks.EVAL_DIR} is absent.*")
    from argus.domain.liveness import LivenessModel

    with tempfile.TemporaryDirectory(prefix="argus-liveness-") as tmp:
        from argus.bootstrap.container import build_container
        from argus.config import Settings

        faces, _ = build_container(Settings(data_dir=Path(tmp))).face_models()
        bona = spoof_attacks.bona_fide_clips(3)
        progress("liveness: development seeds")
        dev, _ = _score_clips([*bona, *spoof_attacks.attack_clips(range(2))], faces)
        progress("liveness: held-out seeds")
        held_seeds = range(2, 3) if quick else range(2, 5)
        test, found = _score_clips([*bona, *spoof_attacks.attack_clips(held_seeds)], faces)
        progress("liveness: timing the pipeline")
        times, yolo = _speed(Path(tmp), quick)
    model = LivenessModel()
    rows = _rate_rows(test, f"held out (seeds {held_seeds.start}-{held_seeds.stop - 1})")
    rows += _rate_rows(dev, "development (seeds 0-1)")
    detect_rows = [
        [kind, f"{n}/{total}", f"{n / total:.0%}" if total else "n/a"]
        for kind, (n, total) in sorted(found.items())
    ]
    p50, p95 = quantile(times, 0.5), quantile(times, 0.95)
    mean = sum(times) / len(times)
    fps = 1 / mean
    cores = os.cpu_count() or 1
    clients = math.floor(0.8 * fps)
    rates = error_rates(test)
    missed = [r for r in test if r.kind != "bona_fide" and r.live]
    unmeasured = sum(not r.motion_measured for r in missed)
    body = "\n\n".join(
        [
            f"Threshold {model.threshold} on the combined score (motion: residual spoof point "
            f"{model.residual_spoof} px, coupling {model.coupling_spoof}; texture: spectral "
            f"peak {model.peak_spoof}). Windows of {WINDOW} frames at 10 frames/s, stride "
            f"{STRIDE}.",
            markdown_table(["seeds", "kind", "metric", "windows", "errors", "rate"], rows),
            "Frames with a face found (held-out set; a replay whose face is not found "
            "ends as *no face -> lock screen*, not as a spoof):",
            markdown_table(["kind", "frames with a face", "share"], detect_rows),
            f"Of the {len(missed)} accepted attack windows (held out), {unmeasured} had no "
            "motion cue (the medium did not move against its surround by "
            f"{model.min_relative_motion} px in any frame pair), leaving only the texture "
            "cue, which is tuned not to fire on the real videos. What it catches: a flat "
            "medium moved by hand in front of a fixed webcam (face tracks fit one "
            "homography, the surround follows the face). What it does not: a medium held "
            "still; a replayed video whose face moves inside a screen that is itself "
            "held still (the motion cue then sees a live face; the spectral texture cue did "
            "not separate the simulated screens from the real videos on the development "
            "seeds). Not tested at all: real paper and real panels, paper bending, "
            "cut-outs, masks, injected video streams. The replay rows rest on a handful "
            "of windows (2 replayed videos per seed, many frames without a found face).",
            f"Pipeline per frame ({len(times)} frames of the Hamilton close-up, CenterFace "
            f"at 640 px + dlib ResNet + liveness over {WINDOW} frames + {yolo} at 320 px): "
            f"p50 {fmt_ms(p50)} ms, p95 {fmt_ms(p95)} ms, {fps:.1f} frames/s on {cores} "
            f"cores; at 1 frame/s per client one such box holds about {clients} clients "
            "(20 % headroom, one pipeline using all cores).",
        ]
    )
    headline = [
        "Anti-spoofing on simulated attacks (held out): "
        + ", ".join(
            f"{'BPCER' if k == 'bona_fide' else 'APCER'} {k} {r:.0%} ({n} windows)"
            for k, (n, _, r) in rates.items()
        )
        + f"; verification p50 {fmt_ms(p50)} ms/frame, ~{clients} clients at 1 frame/s "
        f"on {cores} cores"
    ]
    return Section(title, body, headline)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the liveness benchmark alone."""
    return run_main("Anti-spoofing error rates and verification speed.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
