"""Attack clips with the product's face and object detections, optionally cached on disk.

Rendering a clip and running CenterFace and yolov7-tiny on every frame is the
slow part of :mod:`benchmarks.liveness`; the liveness cues are cheap next to it
and are what changes while the cues are being developed. With a cache directory
(``ARGUS_SPOOF_CACHE``, outside the repository: it holds rendered pixels) each
group of clips is stored once, keyed by the group, the source of the attack
renderers and the two models' references, and later runs only measure the cues.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argus.domain.detections import Detections
    from argus.domain.faces import Face
    from argus.ports.detector import Detector
    from argus.ports.faces import FaceDetector
    from benchmarks.spoof_attacks import Clip

__all__ = ["CACHE_ENV", "SeenClip", "cache_dir", "seen_clips"]

CACHE_ENV = "ARGUS_SPOOF_CACHE"
"""Environment variable naming the cache directory (unset: no cache)."""

_RENDERERS = ("spoof_attacks.py", "_spoof_kinds.py", "_spoof_render.py")


@dataclass(frozen=True)
class SeenClip:
    """A clip and what the product's detectors found in each of its frames.

    Attributes:
        clip: The frames and their ground truth.
        faces: The largest face per frame, ``None`` where none was found.
        objects: The object detector's detections per frame.
    """

    clip: Clip
    faces: tuple[Face | None, ...]
    objects: tuple[Detections, ...]


def cache_dir() -> Path | None:
    """The cache directory from :data:`CACHE_ENV`, or ``None``."""
    value = os.environ.get(CACHE_ENV, "").strip()
    return Path(value) if value else None


def _key(group: str, models: Sequence[str]) -> str:
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in _RENDERERS:
        digest.update((here / name).read_bytes())
    digest.update("|".join([group, *models]).encode())
    return digest.hexdigest()[:20]


def seen_clips(
    group: str,
    make: Callable[[], list[Clip]],
    faces: FaceDetector,
    objects: Detector,
    cache: Path | None = None,
) -> list[SeenClip]:
    """The clips ``make()`` renders, with detections; from ``cache`` when stored there."""
    path = None
    if cache is not None:
        path = cache / f"{group}-{_key(group, [faces.model_ref, objects.model_ref])}.pkl"
        if path.is_file():
            # Our own file, written below by this benchmark in the user's cache directory.
            loaded: list[SeenClip] = pickle.loads(path.read_bytes())
            return loaded
    seen = [
        SeenClip(
            clip,
            tuple(faces.detect(f).largest() for f in clip.frames),
            tuple(objects.detect(f) for f in clip.frames),
        )
        for clip in make()
    ]
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(pickle.dumps(seen, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(path)
    return seen
