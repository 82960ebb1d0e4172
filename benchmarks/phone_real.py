"""The phone cue on real pixels: false alarms on real frames without a phone (``phone_real``).

The cue (:mod:`argus.domain.phone`) counts a COCO "cell phone" box from
yolov7-tiny near the user's face (or inside a person when no face is found)
at the product's :class:`~argus.domain.phone.PhoneRules` (confidence >= 0.4,
face box grown 3x, 3 of the last 5 frames). Recall needs real images of a
phone, and none with a usable licence was found (docs/benchmarks.md §8.3 lists
what was searched), so this benchmark measures what real pixels allow: how
often the cue fires where there is no phone. Every frame used was looked at
and labelled "no phone" by eye (the shared face photos one by one, the videos
on contact sheets of the sampled frames); the Hamilton clip's hand-held
microphone and the carphone clip's car interior are the hard negatives.

Sources, all from ``../shared/eval`` (skipped without it): the labelled face
photos (each fed ``window`` times, as a user holding still) and every
``STEP``-th frame of the four shared videos (fed in order, one phone window per
video). Faces come from CenterFace (largest face, as ``FrameAnalyzer`` does).
For each yolov7-tiny input size (320, the product's, and 640) the table gives:
frames with any "cell phone" box at the rules' confidence (*raw*), frames where
the cue associates one with the user (*associated*), frames where the window
says *aimed* (a false alarm of the cue), and the strongest "cell phone" score
seen at any confidence, to show the margin below the threshold. The time per
``detect`` call at 640 is given as a ratio of the one at 320, measured on the
same frames in the same run.

    python -m benchmarks.phone_real [--quick]
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._common import (
    REPO_ROOT,
    Section,
    fmt_ratio,
    markdown_table,
    median,
    progress,
    ratio,
    run_main,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from argus.domain.detections import Detections
    from argus.domain.phone import PhoneRules
    from argus.ports.detector import Detector
    from argus.ports.faces import FaceDetector

    Image = npt.NDArray[np.uint8]

__all__ = [
    "EVAL_DIR",
    "PHOTO_DIR",
    "SIZES",
    "VIDEOS",
    "Tally",
    "main",
    "photo_paths",
    "read_frames",
    "read_photos",
    "render",
    "run",
    "score_frames",
]

EVAL_DIR = REPO_ROOT.parent / "shared" / "eval"
"""The shared evaluation material (beside the checkout)."""

PHOTO_DIR = EVAL_DIR / "face" / "face_recognition_examples"
SIZES: tuple[int, ...] = (320, 640)
STEP = 3
QUICK_STEP = 12
VIDEOS: tuple[str, ...] = (
    "short_hamilton_clip.mp4",
    "carphone_pristine.mp4",
    "bikes.mp4",
    "vtest.avi",
)
"""Shared videos (``../shared/eval/media``), none showing a phone (checked by eye)."""

TITLE = "Phone cue on real pixels (`benchmarks/phone_real.py`, `phone_real`)"

Box = tuple[float, float, float, float]


@dataclass
class Tally:
    """What the cue did on one source at one input size.

    Attributes:
        source: Photo set or video name.
        size: yolov7-tiny input size.
        frames: Frames scored.
        raw: Frames with any "cell phone" box at the rules' confidence.
        associated: Frames where the cue associated such a box with the user.
        aimed: Frames where the phone window reported a phone aimed (false alarms).
        top: Strongest "cell phone" score seen at any confidence (0 without one).
        top_where: Which frame gave ``top``.
        seconds: Time of each ``detect`` call.
    """

    source: str
    size: int
    frames: int = 0
    raw: int = 0
    associated: int = 0
    aimed: int = 0
    top: float = 0.0
    top_where: str = ""
    seconds: list[float] = field(default_factory=list)


def photo_paths() -> list[Path]:
    """The shared face photos (jpg, jpeg, png), sorted; empty without ``../shared``."""
    if not PHOTO_DIR.is_dir():
        return []
    suffixes = {".jpg", ".jpeg", ".png"}
    return sorted(p for p in PHOTO_DIR.rglob("*") if p.suffix.lower() in suffixes)


def read_photos() -> list[tuple[str, Image]]:
    """The shared face photos as ``(file name, BGR image)``; empty without ``../shared``."""
    import cv2
    import numpy as np

    photos = []
    for path in photo_paths():
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is not None:
            photos.append((path.name, np.asarray(image, dtype=np.uint8)))
    return photos


def read_frames(path: Path, step: int) -> list[Image]:
    """Every ``step``-th frame of a video file, BGR."""
    import cv2
    import numpy as np

    capture = cv2.VideoCapture(str(path))
    frames: list[Image] = []
    index = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % step == 0:
                frames.append(np.asarray(frame, dtype=np.uint8))
            index += 1
    finally:
        capture.release()
    if not frames:
        raise RuntimeError(f"{path}: no frames decoded")
    return frames


def _phone_top(detections: Detections, rules: PhoneRules) -> float:
    names = detections.class_names
    if rules.phone_class not in names:
        return 0.0
    mask = detections.class_id == names.index(rules.phone_class)
    return float(detections.confidence[mask].max()) if mask.any() else 0.0


def score_frames(
    tally: Tally,
    frames: Sequence[tuple[str, Image, Box | None]],
    detector: Detector,
    rules: PhoneRules,
    *,
    repeat: int = 1,
) -> None:
    """Run the detector and one phone window over ``frames`` (in order) into ``tally``.

    Args:
        tally: Counts to add to.
        frames: ``(label, image, face box or None)`` in time order.
        detector: The object detector (its own confidence floor may be lower than
            the rules'; the rules' threshold is applied here).
        rules: The product's phone rules.
        repeat: Times each frame is fed to the window (a still photo held for
            ``window`` frames); detection runs once per frame.
    """
    from argus.domain.phone import PhoneWatch, associated_phone_score

    watch = PhoneWatch(rules)
    for label, image, face in frames:
        started = time.perf_counter()
        detections = detector.detect(image)
        tally.seconds.append(time.perf_counter() - started)
        top = _phone_top(detections, rules)
        if top > tally.top:
            tally.top, tally.top_where = top, label
        tally.frames += 1
        tally.raw += top >= rules.min_confidence
        tally.associated += associated_phone_score(detections, face, rules) > 0
        aimed = False
        for _ in range(repeat):
            aimed = watch.update(detections, face).aimed
        tally.aimed += aimed


def _faces(
    faces: FaceDetector, images: Iterator[tuple[str, Image]]
) -> list[tuple[str, Image, Box | None]]:
    out: list[tuple[str, Image, Box | None]] = []
    for label, image in images:
        face = faces.detect(image).largest()
        out.append((label, image, None if face is None else face.xyxy))
    return out


def _sources(
    faces: FaceDetector, step: int
) -> list[tuple[str, list[tuple[str, Image, Box | None]], bool]]:
    sources = [("face photos", _faces(faces, iter(read_photos())), True)]
    for name in VIDEOS:
        path = EVAL_DIR / "media" / name
        if path.is_file():
            frames = read_frames(path, step)
            labelled = ((f"{name} frame {i * step}", f) for i, f in enumerate(frames))
            sources.append((name, _faces(faces, labelled), False))
    return sources


def measure(tmp: Path, quick: bool) -> list[Tally]:
    """Score every source at every size with the product's rules."""
    from argus.bootstrap.container import build_container
    from argus.bootstrap.models import DetectorOptions
    from argus.config import Settings
    from argus.domain.phone import PhoneRules

    rules = PhoneRules()
    container = build_container(Settings(data_dir=tmp))
    faces, _ = container.face_models()
    progress("phone_real: finding faces")
    sources = _sources(faces, QUICK_STEP if quick else STEP)
    tallies: list[Tally] = []
    for size in SIZES:
        detector = container.detector(
            DetectorOptions(
                model="yolov7-tiny",
                input_size=size,
                conf_threshold=0.05,
                classes=[rules.person_class, rules.phone_class],
            )
        )
        for source, frames, still in sources:
            progress(f"phone_real: {source} at {size}")
            tally = Tally(source, size)
            if still:
                for frame in frames:
                    score_frames(tally, [frame], detector, rules, repeat=rules.window)
            else:
                score_frames(tally, frames, detector, rules)
            tallies.append(tally)
    return tallies


def render(tallies: Sequence[Tally], note: str = "") -> Section:
    """Turn the tallies (at least one per size) into the report section."""
    rows = [
        [
            t.source,
            str(t.size),
            str(t.frames),
            str(t.raw),
            str(t.associated),
            str(t.aimed),
            f"{t.top:.2f}" + (f" ({t.top_where})" if t.top_where else ""),
        ]
        for t in tallies
    ]
    head = ["source", "size", "frames", "raw", "associated", "aimed", "strongest phone score"]
    speed = []
    by_size = {size: [s for t in tallies if t.size == size for s in t.seconds] for size in SIZES}
    ref = median(by_size[SIZES[0]])
    for size, seconds in by_size.items():
        value = median(seconds)
        speed.append([str(size), f"{value * 1000:.1f}", fmt_ratio(ratio(value, ref))])
    totals = {size: sum(t.frames for t in tallies if t.size == size) for size in SIZES}
    aimed = {size: sum(t.aimed for t in tallies if t.size == size) for size in SIZES}
    body = "\n\n".join(
        [
            "Product rules: confidence >= 0.4, face box grown 3x, 3 of the last 5 frames. "
            "No frame shows a phone (labelled by eye), so every *aimed* frame is a false "
            "alarm; recall is not measured (no usable real phone image, see §8.3).",
            markdown_table(head, rows),
            markdown_table(["size", "median ms per detect", f"vs {SIZES[0]}"], speed),
            note,
        ]
    )
    headline = [
        "phone_real: cue false alarms "
        + ", ".join(f"{aimed[s]}/{totals[s]} frames at {s}" for s in SIZES)
        + " (real frames without a phone; recall not measurable: no real phone image)"
    ]
    return Section(TITLE, body.rstrip(), headline)


def run(quick: bool) -> Section:
    """Measure and render; a skip note without ``../shared/eval``."""
    if not PHOTO_DIR.is_dir():
        return Section(TITLE, f"*Skipped: {EVAL_DIR} is absent.*")
    with tempfile.TemporaryDirectory(prefix="argus-phone-") as tmp:
        tallies = measure(Path(tmp), quick)
    step = QUICK_STEP if quick else STEP
    return render(tallies, f"Videos: 1 frame in {step}. Detector confidence floor 0.05.")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its markdown section."""
    return run_main("Phone cue on real pixels.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
