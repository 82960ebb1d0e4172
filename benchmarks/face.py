"""Face verification: threshold calibration on labelled photos, and latency per face.

Data: ``../shared/eval/face/face_recognition_examples`` (MIT, Adam Geitgey's
``face_recognition`` examples): 26 photos of 6 named people plus one unnamed child.
Every face is found by CenterFace, aligned from its five landmarks and described by
the converted dlib ResNet, exactly as Argus does at run time. Identities come from
the folder or file name; in the three group photos each face is named by where its
box centre lies (:data:`GROUPS`, read off the photos by eye). Files with identical
bytes are counted once, and the same photo re-encoded at other resolutions
(``obama-240p/480p/720p/1080p``, ``obama_small``) is kept out of the pairs (it would
make genuine pairs trivially close); those variants are reported apart as a
resolution-robustness check.

Every pair of distinct faces is a genuine pair (same person) or an impostor pair.
The shipped threshold (:data:`argus.domain.faces.DEFAULT_MATCH_THRESHOLD`) is checked
against the equal-error point and the point where the false-accept rate reaches 1 %;
true-accept and false-accept rates are reported at each. The set is tiny (a few
dozen genuine pairs), so every rate here has a wide confidence interval: a guide,
not a certificate.

Latency: one 640x480 frame holding one face (a shared photo, resized); detect +
align + describe, timed together, p50/p95 over repeated calls.

    python -m benchmarks.face [--quick]
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._common import (
    REPO_ROOT,
    Section,
    fmt_ms,
    markdown_table,
    progress,
    quantile,
    run_main,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from argus.adapters.face.centerface import CenterFaceDetector
    from argus.adapters.face.dlib_resnet import DlibResnetEmbedder

__all__ = [
    "FACE_DIR",
    "GROUPS",
    "LabelledFace",
    "Rates",
    "equal_error_threshold",
    "far_threshold",
    "labelled_faces",
    "main",
    "open_models",
    "pair_distances",
    "rates_at",
    "run",
]

FACE_DIR = REPO_ROOT.parent / "shared" / "eval" / "face" / "face_recognition_examples"
"""The labelled photos (``../shared/eval/face``), absent outside a project checkout."""

NAMES = {
    "alex-lacamoire": "alex_lacamoire",
    "biden": "biden",
    "lin-manuel-miranda": "lin_manuel_miranda",
    "obama": "obama",
    "obama2": "obama",
    "johnsnow_test1": "kit_harington",
    "obama1": "obama",
    "alex_lacamoire1": "alex_lacamoire",
    **dict.fromkeys(("obama-240p", "obama-480p", "obama-720p", "obama-1080p"), "obama"),
    "obama_small": "obama",
}
"""Identity of single-face photos outside ``train/<person>/``, by file stem."""

GROUPS: dict[str, tuple[tuple[float, float, str], ...]] = {
    "two_people.jpg": ((0, 560, "obama"), (560, 2000, "biden")),
    "kit_with_rose.jpg": ((0, 200, "rose_leslie"), (200, 600, "kit_harington")),
    "obama_and_biden.jpg": (
        (700, 1000, "biden"),
        (1100, 1400, "obama"),
        (1500, 2000, "unnamed_child"),
    ),
}
"""Group photos: ``(x_min, x_max, identity)`` of each face's box centre."""

RESOLUTION_VARIANTS = ("obama-240p", "obama-480p", "obama-720p", "obama-1080p", "obama_small")
"""One photo at several resolutions: kept out of the pairs, compared with each other."""


@dataclass(frozen=True)
class LabelledFace:
    """One face of the labelled set: its photo, identity and descriptor."""

    source: str
    identity: str
    descriptor: npt.NDArray[np.float32]


@dataclass(frozen=True)
class Rates:
    """Verification rates at one threshold.

    Attributes:
        threshold: Largest accepted distance.
        tar: Share of genuine pairs accepted (true accepts).
        far: Share of impostor pairs accepted (false accepts).
    """

    threshold: float
    tar: float
    far: float


def open_models(directory: Path) -> tuple[CenterFaceDetector, DlibResnetEmbedder]:
    """Build both face packs into ``directory`` and open them on the CPU."""
    from argus.adapters.face.centerface import CenterFaceDetector
    from argus.adapters.face.dlib_resnet import DlibResnetEmbedder
    from argus.adapters.modelpacks.centerface import CenterFaceBuilder
    from argus.adapters.modelpacks.dlib_resnet import DlibResnetBuilder

    face = CenterFaceBuilder().build(directory / "centerface", ())
    resnet = DlibResnetBuilder().build(directory / "dlib-face-resnet", (150,))
    detector = CenterFaceDetector(directory / "centerface" / face.files[0].path, model_ref=face.ref)
    embedder = DlibResnetEmbedder(
        directory / "dlib-face-resnet" / resnet.files[0].path, model_ref=resnet.ref
    )
    return detector, embedder


def _identity(path: Path, centre_x: float) -> str | None:
    if path.name in GROUPS:
        for low, high, name in GROUPS[path.name]:
            if low <= centre_x < high:
                return name
        return None
    if path.parent.parent.name == "train":
        return path.parent.name
    return NAMES.get(path.stem)


def labelled_faces(
    detector: CenterFaceDetector, embedder: DlibResnetEmbedder, root: Path = FACE_DIR
) -> tuple[list[LabelledFace], list[LabelledFace]]:
    """Describe every labelled face; return ``(pair set, resolution variants)``.

    Single-face photos contribute their largest face; group photos every face.
    """
    import cv2
    import numpy as np

    faces: list[LabelledFace] = []
    variants: list[LabelledFace] = []
    seen: set[str] = set()
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in seen:
            continue
        seen.add(digest)
        image = np.asarray(cv2.imread(str(path), cv2.IMREAD_COLOR), dtype=np.uint8)
        found = detector.detect(image)
        picked = list(found) if path.name in GROUPS else [f for f in [found.largest()] if f]
        for face in picked:
            identity = _identity(path, (face.xyxy[0] + face.xyxy[2]) / 2)
            if identity is None:
                continue
            item = LabelledFace(str(path.relative_to(root)), identity, embedder.embed(image, face))
            (variants if path.stem in RESOLUTION_VARIANTS else faces).append(item)
    return faces, variants


def pair_distances(
    faces: Sequence[LabelledFace],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Distances of all genuine pairs and all impostor pairs."""
    import numpy as np

    genuine: list[float] = []
    impostor: list[float] = []
    for i, a in enumerate(faces):
        for b in faces[i + 1 :]:
            d = float(np.linalg.norm(a.descriptor.astype(np.float64) - b.descriptor))
            (genuine if a.identity == b.identity else impostor).append(d)
    return np.asarray(genuine), np.asarray(impostor)


def rates_at(
    genuine: npt.NDArray[np.float64], impostor: npt.NDArray[np.float64], threshold: float
) -> Rates:
    """True-accept and false-accept rates when distances ``<= threshold`` are accepted."""
    return Rates(
        threshold, float((genuine <= threshold).mean()), float((impostor <= threshold).mean())
    )


def equal_error_threshold(
    genuine: npt.NDArray[np.float64], impostor: npt.NDArray[np.float64]
) -> Rates:
    """The threshold where false rejects and false accepts are closest (EER point)."""
    import numpy as np

    candidates = np.unique(np.concatenate([genuine, impostor]))
    return min(
        (rates_at(genuine, impostor, float(t)) for t in candidates),
        key=lambda r: (abs((1 - r.tar) - r.far), -r.tar),
    )


def far_threshold(
    genuine: npt.NDArray[np.float64], impostor: npt.NDArray[np.float64], far: float
) -> Rates:
    """The largest threshold whose false-accept rate is at most ``far``."""
    import numpy as np

    ordered = np.sort(impostor)
    allowed = int(np.floor(far * len(ordered)))
    # accept strictly below the (allowed+1)-th smallest impostor distance
    limit = ordered[allowed] if allowed < len(ordered) else ordered[-1] + 1.0
    below = np.concatenate([genuine, impostor])
    below = below[below < limit]
    threshold = float(below.max()) if below.size else float(limit) - 1e-6
    return rates_at(genuine, impostor, threshold)


def _latency(
    detector: CenterFaceDetector, embedder: DlibResnetEmbedder, quick: bool
) -> list[list[str]]:
    import cv2
    import numpy as np

    image = np.asarray(cv2.imread(str(FACE_DIR / "obama-480p.jpg"), cv2.IMREAD_COLOR))
    frame = np.ascontiguousarray(
        cv2.resize(image, (640, 480), interpolation=cv2.INTER_AREA), dtype=np.uint8
    )
    repeats = 10 if quick else 60
    parts: dict[str, list[float]] = {"detect": [], "align": [], "embed": [], "total": []}
    for i in range(repeats + 3):
        t0 = time.perf_counter()
        face = detector.detect(frame).largest()
        t1 = time.perf_counter()
        assert face is not None, "no face in the latency frame"
        chip = embedder.chip(frame, face)
        t2 = time.perf_counter()
        embedder.embed_chips([chip])
        t3 = time.perf_counter()
        if i >= 3:  # warm-up
            for key, value in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
                parts[key].append(value)
    return [
        [key, fmt_ms(quantile(values, 0.5)), fmt_ms(quantile(values, 0.95)), str(len(values))]
        for key, values in parts.items()
    ]


def run(quick: bool) -> Section:
    """Calibrate and time; a skip note when the labelled photos are absent."""
    import numpy as np

    from argus.domain.faces import DEFAULT_MATCH_THRESHOLD

    title = "Face verification (CenterFace + dlib ResNet, ONNX Runtime CPU)"
    if not FACE_DIR.is_dir():
        return Section(
            title, f"*Skipped: {FACE_DIR} is absent (../shared/eval beside the checkout).*"
        )
    with tempfile.TemporaryDirectory(prefix="argus-face-") as tmp:
        progress("face: building packs")
        detector, embedder = open_models(Path(tmp))
        progress("face: describing the labelled photos")
        faces, variants = labelled_faces(detector, embedder)
        progress("face: timing")
        latency = _latency(detector, embedder, quick)
    genuine, impostor = pair_distances(faces)
    shipped = rates_at(genuine, impostor, DEFAULT_MATCH_THRESHOLD)
    eer = equal_error_threshold(genuine, impostor)
    far1 = far_threshold(genuine, impostor, 0.01)
    folklore = rates_at(genuine, impostor, 0.6)
    gap = (float(genuine.max()), float(impostor.min()))
    margin = rates_at(genuine, impostor, round(sum(gap) / 2, 3))
    people = sorted({f.identity for f in faces})
    rows = [
        [f"shipped ({DEFAULT_MATCH_THRESHOLD:.2f})", *_fmt(shipped)],
        ["equal error point (lowest)", *_fmt(eer)],
        ["max-margin (mid-gap) point", *_fmt(margin)],
        ["FAR <= 1 % point", *_fmt(far1)],
        ["0.6 (dlib's training margin)", *_fmt(folklore)],
    ]
    dist = [
        [
            "genuine",
            str(len(genuine)),
            *(f"{q:.3f}" for q in np.quantile(genuine, [0, 0.5, 0.95, 1])),
        ],
        [
            "impostor",
            str(len(impostor)),
            *(f"{q:.3f}" for q in np.quantile(impostor, [0, 0.05, 0.5, 1])),
        ],
    ]
    base = next((v for v in variants if v.source.endswith("obama-1080p.jpg")), None)
    res_rows = [
        [v.source, f"{np.linalg.norm(v.descriptor - base.descriptor):.3f}"]
        for v in variants
        if base is not None and v is not base
    ]
    body = "\n\n".join(
        [
            f"{len(faces)} faces of {len(people)} people ({', '.join(people)}); "
            f"{len(genuine)} genuine and {len(impostor)} impostor pairs. Largest genuine "
            f"distance {gap[0]:.3f}, smallest impostor distance {gap[1]:.3f}"
            + (" (the sets separate)." if gap[0] < gap[1] else " (the sets overlap)."),
            markdown_table(
                ["threshold", "distance", "TAR", "FAR", "false rejects", "false accepts"], rows
            ),
            markdown_table(["pairs", "n", "min", "median", "p95 / p5", "max"], dist),
            "Resolution robustness (same photo, distance to the 1080p copy):",
            markdown_table(["photo", "distance"], res_rows),
            "Latency per face on a 640x480 frame (ms; detect at 640 px, align, describe):",
            markdown_table(["stage", "p50", "p95", "runs"], latency),
        ]
    )
    headline = [
        f"Face verification at distance <= {DEFAULT_MATCH_THRESHOLD:.2f}: "
        f"TAR {shipped.tar:.1%}, FAR {shipped.far:.1%} "
        f"({len(genuine)} genuine / {len(impostor)} impostor pairs); "
        f"detect+align+embed p50 {latency[-1][1]} ms per face at 640x480"
    ]
    return Section(title, body, headline)


def _fmt(r: Rates) -> list[str]:
    return [
        f"{r.threshold:.3f}",
        f"{r.tar:.1%}",
        f"{r.far:.1%}",
        f"{1 - r.tar:.1%}",
        f"{r.far:.1%}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the face benchmark alone."""
    return run_main("Face verification calibration and latency.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
