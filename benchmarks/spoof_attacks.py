"""Simulated presentation attacks built from the shared photos and videos (seeded, in memory).

Nothing here is product code and no pixels are written to the repository: every
clip is rendered on demand from ``../shared/eval`` and lives only in memory.

Three kinds of clip, all at the camera's frame rate divided by ``step``:

* **bona fide**: the real videos (``short_hamilton_clip.mp4`` in its close-up shot,
  frames 85-210, and ``carphone_pristine.mp4``), as recorded.
* **print**: a still face photo "printed" (contrast and saturation loss, a warm
  paper tint, an amplitude-modulated halftone screen, paper grain, blur) and held
  in front of a fixed webcam: the sheet is a plane whose pose drifts slowly (hand
  tremor, small in-plane and out-of-plane rotation, scale) over a static background
  (a frame of ``vtest.avi`` or ``bikes.mp4``), warped by a homography per frame.
* **replay**: real video frames shown on a screen filmed by the webcam: every
  source pixel becomes an RGB sub-pixel stripe triple with a dark gap (the pixel
  grid), the screen's gamma, black level and colour gamut are applied, a glare
  blob and a rolling refresh band are added, and the screen plane is warped into
  the camera frame with a slight perspective and hand motion, sampled without
  prefiltering (which is what makes a sensor alias the grid into moiré).

Every frame then goes through the same "camera": sensor noise and JPEG at quality
85. Bona fide frames are only passed through the camera once (they are already
real camera footage, so they keep their own noise and compression).

What is *not* simulated: real paper and ink, real LCD/OLED panels with their
optics, paper bending, cut-out eye holes, 3D masks, attackers who hold the
medium perfectly still on a stand, and deep-fake injection into the video stream.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from benchmarks._common import REPO_ROOT

__all__ = [
    "EVAL_DIR",
    "FRAME_SIZE",
    "Clip",
    "bona_fide_clips",
    "camera",
    "print_attack",
    "print_sources",
    "read_video",
    "replay_attack",
]

EVAL_DIR = REPO_ROOT.parent / "shared" / "eval"
FRAME_SIZE = (640, 480)
"""Width and height of simulated webcam frames."""

HAMILTON_CLOSE_UP = (85, 211)
"""Frames of ``short_hamilton_clip.mp4`` in its single-face close-up shot."""

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Clip:
    """A sequence of BGR frames with its ground truth.

    Attributes:
        kind: ``bona_fide``, ``print`` or ``replay``.
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


def camera(image: Image, rng: np.random.Generator, noise: float = 2.0, quality: int = 85) -> Image:
    """Sensor noise then JPEG compression, as a webcam would deliver the frame."""
    noisy = image.astype(np.float32) + rng.normal(0.0, noise, image.shape).astype(np.float32)
    ok, data = cv2.imencode(
        ".jpg",
        np.clip(noisy, 0, 255).astype(np.uint8),
        [
            cv2.IMWRITE_JPEG_QUALITY,
            quality,
        ],
    )
    assert ok
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), dtype=np.uint8)


def bona_fide_clips(step: int = 3) -> list[Clip]:
    """The real videos, every ``step``-th frame."""
    media = EVAL_DIR / "media"
    start, stop = HAMILTON_CLOSE_UP
    hamilton = read_video(media / "short_hamilton_clip.mp4", start, stop, step)
    carphone = read_video(media / "carphone_pristine.mp4", 0, None, step)
    return [
        Clip("bona_fide", "hamilton close-up", tuple(hamilton)),
        Clip("bona_fide", "carphone", tuple(carphone)),
    ]


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


def _pose(
    t: float, rng_params: npt.NDArray[np.float64]
) -> tuple[float, float, float, float, float, float]:
    """Slow drift and tremor: ``(dx, dy, angle, scale, tilt_x, tilt_y)`` at time ``t`` (s)."""
    a, f, p = rng_params[:6], rng_params[6:12], rng_params[12:18]
    wave = a * np.sin(2 * math.pi * f * t + p)
    return (
        float(wave[0] * 25),
        float(wave[1] * 18),
        float(wave[2] * 0.08),
        float(1 + wave[3] * 0.06),
        float(wave[4] * 0.0004),
        float(wave[5] * 0.0004),
    )


def _plane_homography(
    width: int, height: int, centre: tuple[float, float], size: float, pose: tuple[float, ...]
) -> npt.NDArray[np.float64]:
    """Map a ``width`` x ``height`` plane to the frame: scale to ``size``, rotate, tilt, move."""
    dx, dy, angle, scale, tilt_x, tilt_y = pose
    s = size / max(width, height) * scale
    to_origin = np.array([[1, 0, -width / 2], [0, 1, -height / 2], [0, 0, 1]], np.float64)
    c, n = math.cos(angle) * s, math.sin(angle) * s
    rotate = np.array([[c, -n, 0], [n, c, 0], [0, 0, 1]], np.float64)
    tilt = np.array([[1, 0, 0], [0, 1, 0], [tilt_x, tilt_y, 1]], np.float64)
    move = np.array([[1, 0, centre[0] + dx], [0, 1, centre[1] + dy], [0, 0, 1]], np.float64)
    return move @ tilt @ rotate @ to_origin


def _halftone(image: Image, period: float, angle: float) -> npt.NDArray[np.float32]:
    """An amplitude-modulated dot screen per channel (C, M, Y screens at different angles)."""
    h, w = image.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.empty(image.shape, np.float32)
    for channel, offset in zip(range(3), (0.26, 0.0, 1.31), strict=True):
        a = angle + offset
        u = (x * math.cos(a) + y * math.sin(a)) * (2 * math.pi / period)
        v = (-x * math.sin(a) + y * math.cos(a)) * (2 * math.pi / period)
        screen = (np.cos(u) * np.cos(v) + 1) / 2  # 0..1 dot pattern
        ink = 1 - image[:, :, channel].astype(np.float32) / 255  # ink coverage
        out[:, :, channel] = np.where(screen < ink, 0.0, 255.0)
    return out


def print_medium(photo: Image, rng: np.random.Generator, dpi_scale: float = 1.0) -> Image:
    """The photo as it looks on paper (before the camera sees it)."""
    longest = 900 * dpi_scale
    scale = longest / max(photo.shape[:2])
    sheet = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA).astype(
        np.float32
    )
    grey = sheet.mean(axis=2, keepdims=True)
    sheet = grey + (sheet - grey) * rng.uniform(0.6, 0.85)  # saturation loss
    sheet = 25 + sheet * rng.uniform(0.72, 0.85)  # paper white and ink black limits
    sheet *= np.array([0.93, 0.98, 1.0], np.float32)  # warm paper (BGR)
    toned = np.clip(sheet, 0, 255).astype(np.uint8)
    dots = _halftone(toned, period=rng.uniform(3.0, 4.5), angle=rng.uniform(0, math.pi / 4))
    dots = np.asarray(cv2.GaussianBlur(dots, (0, 0), 1.1), np.float32)  # dot gain
    mixed = 0.55 * dots + 0.45 * toned.astype(np.float32)
    grain = cv2.GaussianBlur(rng.normal(0, 1, mixed.shape[:2]).astype(np.float32), (0, 0), 2.0)
    mixed *= (1 + 0.04 * grain)[:, :, None]
    return np.asarray(np.clip(mixed, 0, 255), np.uint8)


def print_attack(
    photo: Image, background: Image, seed: int, n_frames: int = 24, fps: float = 10.0
) -> list[Image]:
    """A printed ``photo`` held up to the webcam, ``n_frames`` at ``fps``."""
    rng = np.random.default_rng(seed)
    sheet = print_medium(photo, rng)
    params = np.concatenate(
        [rng.uniform(0.3, 1.0, 6), rng.uniform(0.08, 0.6, 6), rng.uniform(0, 2 * math.pi, 6)]
    )
    width, height = FRAME_SIZE
    size = rng.uniform(0.75, 0.95) * height
    centre = (width / 2 + rng.uniform(-60, 60), height / 2 + rng.uniform(-20, 20))
    blur = rng.uniform(0.6, 1.2)
    frames = []
    for i in range(n_frames):
        h = _plane_homography(sheet.shape[1], sheet.shape[0], centre, size, _pose(i / fps, params))
        warped = cv2.warpPerspective(sheet, h, FRAME_SIZE, flags=cv2.INTER_AREA)
        mask = cv2.warpPerspective(
            np.full(sheet.shape[:2], 255, np.uint8), h, FRAME_SIZE, flags=cv2.INTER_LINEAR
        )
        alpha = (mask.astype(np.float32) / 255)[:, :, None]
        frame = warped.astype(np.float32) * alpha + background.astype(np.float32) * (1 - alpha)
        frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), blur), np.float64)
        frames.append(camera(np.clip(frame, 0, 255).astype(np.uint8), rng))
    return frames


def _screen_pixels(panel: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """Each panel pixel as three R, G, B stripes over a dimmer gap row (a 3x3 cell)."""
    h, w = panel.shape[:2]
    big = np.zeros((h * 3, w * 3, 3), np.float32)
    for sub, channel in enumerate((2, 1, 0)):  # R, G, B stripes left to right (BGR order)
        for row, level in ((0, 1.0), (1, 1.0), (2, 0.4)):
            big[row::3, sub::3, channel] = panel[:, :, channel] * level
    return np.asarray(
        big * (3 / 2.4), np.float32
    )  # one stripe in three lit per channel: keep the mean brightness


def replay_attack(
    source: list[Image], background: Image, seed: int, fps: float = 10.0
) -> list[Image]:
    """``source`` video frames played on a screen held in front of the webcam."""
    rng = np.random.default_rng(seed)
    params = np.concatenate(
        [rng.uniform(0.1, 0.5, 6), rng.uniform(0.08, 0.5, 6), rng.uniform(0, 2 * math.pi, 6)]
    )
    width, height = FRAME_SIZE
    pixels_wide = int(rng.integers(420, 640))
    size = rng.uniform(0.85, 1.05) * width
    centre = (width / 2 + rng.uniform(-20, 20), height / 2 + rng.uniform(-15, 15))
    gamma = rng.uniform(0.75, 0.9)
    black = rng.uniform(12, 28)
    tint = np.array([rng.uniform(1.02, 1.1), 1.0, rng.uniform(0.88, 0.97)], np.float32)
    glare_xy = np.array([rng.uniform(0.2, 0.8) * width, rng.uniform(0.1, 0.5) * height])
    lens = rng.uniform(1.3, 1.8)
    band_period, band_speed = rng.uniform(60, 140), rng.uniform(20, 60)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    frames = []
    for i, frame in enumerate(source):
        t = i / fps
        scale = pixels_wide / frame.shape[1]
        small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        shown = 255 * (small.astype(np.float32) / 255) ** gamma
        panel = _screen_pixels(black + shown * (1 - black / 255) * tint)
        h = _plane_homography(panel.shape[1], panel.shape[0], centre, size, _pose(t, params))
        # The lens blurs the panel's grid (at twice the sensor resolution), then the sensor
        # samples it every other point without further filtering: the residue aliases
        # into moiré, as when a real camera films a screen.
        double = np.diag([2.0, 2.0, 1.0]) @ h
        fine = cv2.warpPerspective(panel, double, (2 * width, 2 * height), flags=cv2.INTER_LINEAR)
        warped = cv2.GaussianBlur(fine, (0, 0), lens)[::2, ::2]
        mask = cv2.warpPerspective(
            np.ones(panel.shape[:2], np.float32), h, FRAME_SIZE, flags=cv2.INTER_LINEAR
        )[:, :, None]
        shade = 1 + 0.05 * np.sin(2 * math.pi * (yy - band_speed * t * 10) / band_period)
        gx, gy = glare_xy + 15 * np.array([math.sin(t), math.cos(0.7 * t)])
        glare = 60 * np.exp(-(((xx - gx) / 90) ** 2 + ((yy - gy) / 60) ** 2))
        screen = warped * shade[:, :, None] + glare[:, :, None]
        bezel = background.astype(np.float32) * 0.8
        composite = screen * mask + bezel * (1 - mask)
        frames.append(camera(np.clip(composite, 0, 255).astype(np.uint8), rng))
    return frames


def attack_clips(seeds: range, n_frames: int = 24, step: int = 3) -> Iterator[Clip]:
    """Print and replay attacks, one per photo and per replayed video for each seed."""
    photos = print_sources()
    scenes = backgrounds()
    videos = [(c.name, list(c.frames[:n_frames])) for c in bona_fide_clips(step)]
    for seed in seeds:
        for k, (name, photo) in enumerate(photos):
            background = scenes[(seed + k) % len(scenes)]
            yield Clip(
                "print", name, tuple(print_attack(photo, background, 1000 * seed + k, n_frames))
            )
        for k, (name, frames) in enumerate(videos):
            background = scenes[(seed + k) % len(scenes)]
            yield Clip(
                "replay", name, tuple(replay_attack(frames, background, 1000 * seed + 500 + k))
            )
