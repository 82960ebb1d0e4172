"""Simulated presentation attacks built from the shared photos and videos (seeded, in memory).

Nothing here is product code and no pixels are written to the repository: every
clip is rendered on demand from ``../shared/eval`` and lives only in memory
(rendering: :mod:`benchmarks._spoof_render`, one renderer per kind:
:mod:`benchmarks._spoof_kinds`). Clips run at 10 frames/s (every third frame of
the 30 frames/s videos).

**Bona fide** clips: the real videos (``short_hamilton_clip.mp4`` in its close-up
shot, frames 85-210, and ``carphone_pristine.mp4``), as recorded
(:func:`bona_fide_clips`), and, per seed, the same videos through varied
simulated webcams (:func:`webcam_clips`: frame phase, scale, exposure, gamma,
white balance, sensor noise, JPEG quality). These are **the same two people in
the same two scenes**: the webcam variants give BPCER more windows, not more
independent people, so its confidence interval is narrower than the evidence.

**Attacks** (:data:`ATTACK_KINDS`, :func:`attack_clips`):

* ``print``: a still photo "printed" (contrast and saturation loss, warm paper,
  halftone dots, grain) on a sheet moved by hand (slow drift, tremor, small
  rotations) over a static scene (a frame of ``vtest.avi`` or ``bikes.mp4``).
* ``print_still``: the same print lying flat and perfectly still (on a stand).
* ``print_cutout``: only the head (hair to chin, found with OpenCV's Haar
  cascade) cut out of the print along a ragged oval and moved by hand, so the
  real scene surrounds it.
* ``replay``: real video frames on a screen moved by hand that fills the frame:
  RGB sub-pixel stripes with a dark gap row (the pixel grid), the panel's gamma,
  black level and gamut, a wandering glare, a rolling refresh band, perspective,
  sampled without prefiltering (which makes a sensor alias the grid into moiré).
* ``replay_still``: the same on a monitor on a stand, close enough to fill the
  frame's width: the video plays, the monitor never moves, its glare and
  banding stand still.
* ``replay_bezel``: a monitor on a stand further back: its bezel, its stand and
  the real room around it are in view; it never moves.
* ``replay_phone``: the video cropped to a portrait phone screen, played on a
  phone (body and bezel visible, black, graphite or silver) held by a hand at
  arm's length with hand tremor, small in the frame, the real scene all around.

Every attack frame then goes through one "camera": sensor noise and JPEG at
quality 85. Development seeds (:data:`DEV_SEEDS`) are for looking and tuning;
held-out seeds (:data:`HELD_OUT_SEEDS`) are for reporting. Seeds change the
render (pose, paper, panel, placement, which photos and which video segments),
not the identities: the held-out attacks show the same 7 photos and 2 videos.

What is *not* simulated: real paper and ink, real LCD/OLED panels and their
optics, paper bending, eye-hole masks, 3D masks, screens larger than the frame
in both directions, and deep-fake injection into the video stream.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from benchmarks._common import REPO_ROOT
from benchmarks._spoof_kinds import (
    monitor_replay_attack,
    phone_replay_attack,
    print_attack,
    replay_attack,
)
from benchmarks._spoof_render import FRAME_SIZE, Image, camera, print_medium

__all__ = [
    "ATTACK_KINDS",
    "DEV_SEEDS",
    "EVAL_DIR",
    "FRAME_SIZE",
    "HAMILTON_CLOSE_UP",
    "HELD_OUT_SEEDS",
    "Clip",
    "attack_clips",
    "backgrounds",
    "bona_fide_clips",
    "camera",
    "print_attack",
    "print_medium",
    "print_sources",
    "read_video",
    "replay_attack",
    "webcam_clips",
]

EVAL_DIR = REPO_ROOT.parent / "shared" / "eval"

HAMILTON_CLOSE_UP = (85, 211)
"""Frames of ``short_hamilton_clip.mp4`` in its single-face close-up shot."""

ATTACK_KINDS: tuple[str, ...] = (
    "print",
    "print_still",
    "print_cutout",
    "replay",
    "replay_still",
    "replay_bezel",
    "replay_phone",
)
"""Every simulated attack kind (see the module doc)."""

DEV_SEEDS: tuple[int, ...] = (0, 1)
"""Seeds to look at and tune on."""

HELD_OUT_SEEDS: tuple[int, ...] = (2, 3, 4)
"""Seeds to report on, never tuned on."""

CLIPS_PER_SEED = 4
"""Clips of each attack kind (and webcam clips) per seed."""

_FACE_X = {"hamilton close-up": 0.34, "carphone": 0.52}
"""Where the face is across each video's frames (share of width; for the phone crop)."""


@dataclass(frozen=True)
class Clip:
    """A sequence of BGR frames with its ground truth.

    Attributes:
        kind: ``bona_fide`` or one of :data:`ATTACK_KINDS`.
        name: What was used to make it.
        frames: BGR uint8 frames.
    """

    kind: str
    name: str
    frames: tuple[Image, ...]


def read_video(path: Path, start: int = 0, stop: int | None = None, step: int = 1) -> list[Image]:
    """Frames ``start:stop:step`` of a video file, BGR."""
    capture = cv2.VideoCapture(str(path))
    frames: list[Image] = []
    index = 0
    try:
        while stop is None or index < stop:
            ok, frame = capture.read()
            if not ok:
                break
            if index >= start and (index - start) % step == 0:
                frames.append(np.asarray(frame, dtype=np.uint8))
            index += 1
    finally:
        capture.release()
    return frames


@functools.lru_cache(maxsize=1)
def _videos() -> tuple[tuple[str, tuple[Image, ...]], ...]:
    """Every frame of the two real videos (read once; read-only arrays)."""
    media = EVAL_DIR / "media"
    start, stop = HAMILTON_CLOSE_UP
    out = []
    for name, path, first, last in (
        ("hamilton close-up", media / "short_hamilton_clip.mp4", start, stop),
        ("carphone", media / "carphone_pristine.mp4", 0, None),
    ):
        frames = read_video(path, first, last)
        for frame in frames:
            frame.setflags(write=False)
        out.append((name, tuple(frames)))
    return tuple(out)


def bona_fide_clips(step: int = 3) -> list[Clip]:
    """The real videos as recorded, every ``step``-th frame."""
    return [Clip("bona_fide", name, frames[::step]) for name, frames in _videos()]


def _webcam(frame: Image, look: dict[str, float], rng: np.random.Generator) -> Image:
    """``frame`` as another webcam would deliver it (scale, exposure, colour, noise, JPEG)."""
    scaled = cv2.resize(
        frame,
        None,
        fx=look["scale"],
        fy=look["scale"],
        interpolation=cv2.INTER_AREA if look["scale"] < 1 else cv2.INTER_LINEAR,
    )
    linear = (scaled.astype(np.float32) / 255) ** look["gamma"] * 255
    balance = np.array([look["blue"], 1.0, look["red"]], np.float32)
    toned = np.clip(linear * look["gain"] * balance + look["offset"], 0, 255).astype(np.uint8)
    return camera(toned, rng, noise=look["noise"], quality=int(look["quality"]))


def webcam_clips(seed: int, step: int = 3) -> list[Clip]:
    """The real videos through :data:`CLIPS_PER_SEED` simulated webcams (bona fide).

    Each clip takes every ``step``-th frame from a seeded phase, then a seeded
    scale (Hamilton 0.6-1.0x, the 176x144 carphone video 1.0-2.5x), exposure
    gain (0.65-1.3) and offset, gamma (0.8-1.25), white balance (+-8 %), sensor
    noise (sigma 1-6) and JPEG quality (35-92). Same two people, same scenes.
    """
    clips = []
    videos = _videos()
    for j in range(CLIPS_PER_SEED):
        rng = np.random.default_rng(7_000_000 + 1000 * seed + j)
        name, frames = videos[j % len(videos)]
        low, high = (0.6, 1.0) if name.startswith("hamilton") else (1.0, 2.5)
        look = {
            "scale": rng.uniform(low, high),
            "gain": rng.uniform(0.65, 1.3),
            "offset": rng.uniform(-12, 12),
            "gamma": rng.uniform(0.8, 1.25),
            "blue": rng.uniform(0.92, 1.08),
            "red": rng.uniform(0.92, 1.08),
            "noise": rng.uniform(1.0, 6.0),
            "quality": float(rng.integers(35, 93)),
        }
        phase = (seed + j // len(videos)) % step
        shown = tuple(_webcam(f, look, rng) for f in frames[phase::step])
        label = f"{name}, webcam q{int(look['quality'])} x{look['scale']:.2f}"
        clips.append(Clip("bona_fide", label, shown))
    return clips


def print_sources() -> list[tuple[str, Image]]:
    """Single-face portraits to print, plus a Hamilton close-up frame (the enrolled user)."""
    root = EVAL_DIR / "face" / "face_recognition_examples"
    names = [
        "obama.jpg",
        "biden.jpg",
        "alex-lacamoire.png",
        "lin-manuel-miranda.png",
        "knn_examples/train/kit_harington/john1.jpeg",
        "knn_examples/train/rose_leslie/img1.jpg",
    ]
    sources = [
        (n, np.asarray(cv2.imread(str(root / n), cv2.IMREAD_COLOR), np.uint8)) for n in names
    ]
    [frame] = read_video(EVAL_DIR / "media" / "short_hamilton_clip.mp4", 120, 121)
    sources.append(("hamilton frame 120", frame[:, 100:540]))
    return sources


def backgrounds() -> list[Image]:
    """Static scenes behind the presented medium (first frames of two shared videos)."""
    media = EVAL_DIR / "media"
    scenes = [read_video(media / "vtest.avi", 0, 1)[0], read_video(media / "bikes.mp4", 0, 1)[0]]
    return [np.asarray(cv2.resize(s, FRAME_SIZE, interpolation=cv2.INTER_AREA)) for s in scenes]


def attack_clips(kind: str, seed: int, n_frames: int = 20) -> list[Clip]:
    """:data:`CLIPS_PER_SEED` clips of one attack ``kind``, ``n_frames`` each, for ``seed``.

    Prints rotate through the 7 :func:`print_sources` photos (4 per seed);
    replays alternate the two real videos, each from a seeded starting frame.

    Raises:
        ValueError: ``kind`` is not one of :data:`ATTACK_KINDS`.
    """
    if kind not in ATTACK_KINDS:
        raise ValueError(f"unknown attack kind {kind!r}; expected one of {ATTACK_KINDS}")
    scenes = backgrounds()
    base = 100_000 * seed + 1000 * ATTACK_KINDS.index(kind)
    clips = []
    if kind.startswith("print"):
        photos = print_sources()
        for j in range(CLIPS_PER_SEED):
            name, photo = photos[(CLIPS_PER_SEED * seed + j) % len(photos)]
            frames = print_attack(
                photo,
                scenes[(seed + j) % len(scenes)],
                base + j,
                n_frames,
                still=kind == "print_still",
                cutout=kind == "print_cutout",
            )
            clips.append(Clip(kind, name, tuple(frames)))
        return clips
    videos = [(c.name, list(c.frames)) for c in bona_fide_clips(3)]
    for j in range(CLIPS_PER_SEED):
        name, frames = videos[j % len(videos)]
        rng = np.random.default_rng(base + 500 + j)
        start = int(rng.integers(0, max(1, len(frames) - n_frames + 1)))
        source = frames[start : start + n_frames]
        background = scenes[(seed + j) % len(scenes)]
        if kind == "replay":
            shown = replay_attack(source, background, base + j)
        elif kind == "replay_phone":
            shown = phone_replay_attack(source, background, base + j, centre_x=_FACE_X[name])
        else:
            shown = monitor_replay_attack(
                source, background, base + j, bezel=kind == "replay_bezel"
            )
        clips.append(Clip(kind, f"{name} from frame {start}", tuple(shown)))
    return clips
