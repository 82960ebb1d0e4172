"""Rendering blocks of the simulated presentation attacks: camera, planes, paper, screens.

Used by :mod:`benchmarks.spoof_attacks` and :mod:`benchmarks._spoof_kinds`. Every
function is seeded through the ``numpy`` generator it is given and works in
memory; nothing here reads or writes files.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

__all__ = [
    "FRAME_SIZE",
    "STILL",
    "Device",
    "Image",
    "Pose",
    "ScreenLook",
    "camera",
    "composite",
    "device_canvas",
    "drift_params",
    "plane_homography",
    "pose_at",
    "print_medium",
    "project",
    "screen_light",
    "screen_pixels",
]

FRAME_SIZE = (640, 480)
"""Width and height of simulated webcam frames."""

Image = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float32]
Pose = tuple[float, float, float, float, float, float]
"""``(dx, dy, angle, scale, tilt_x, tilt_y)``: shift (px), rotation (rad), scale, tilt."""

PREFILTER = 1.5
"""Canvas pixels per fine sample above which :func:`project` area-averages the canvas."""

STILL: Pose = (0.0, 0.0, 0.0, 1.0, 0.0, 0.0)
"""The pose of a medium that does not move."""


def camera(image: Image, rng: np.random.Generator, noise: float = 2.0, quality: int = 85) -> Image:
    """Sensor noise then JPEG compression, as a webcam would deliver the frame."""
    noisy = image.astype(np.float32) + rng.normal(0.0, noise, image.shape).astype(np.float32)
    ok, data = cv2.imencode(
        ".jpg", np.clip(noisy, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    assert ok
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), dtype=np.uint8)


def drift_params(
    rng: np.random.Generator, amplitude: tuple[float, float], frequency: tuple[float, float]
) -> npt.NDArray[np.float64]:
    """Random amplitudes, frequencies (Hz) and phases of the six pose waves."""
    return np.concatenate(
        [rng.uniform(*amplitude, 6), rng.uniform(*frequency, 6), rng.uniform(0, 2 * math.pi, 6)]
    )


def pose_at(t: float, params: npt.NDArray[np.float64], gain: float = 1.0) -> Pose:
    """Slow drift and tremor at time ``t`` (s); ``gain`` scales every excursion."""
    a, f, p = params[:6], params[6:12], params[12:18]
    wave = a * np.sin(2 * math.pi * f * t + p) * gain
    return (
        float(wave[0] * 25),
        float(wave[1] * 18),
        float(wave[2] * 0.08),
        float(1 + wave[3] * 0.06),
        float(wave[4] * 0.0004),
        float(wave[5] * 0.0004),
    )


def plane_homography(
    width: int, height: int, centre: tuple[float, float], size: float, pose: Pose
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


def _halftone(image: Image, period: float, angle: float) -> Floats:
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


def screen_pixels(panel: npt.NDArray[np.floating]) -> Floats:
    """Each panel pixel as three R, G, B stripes over a dimmer gap row (a 3x3 cell)."""
    h, w = panel.shape[:2]
    big = np.zeros((h * 3, w * 3, 3), np.float32)
    for sub, channel in enumerate((2, 1, 0)):  # R, G, B stripes left to right (BGR order)
        for row, level in ((0, 1.0), (1, 1.0), (2, 0.4)):
            big[row::3, sub::3, channel] = panel[:, :, channel] * level
    # One stripe in three is lit per channel: keep the mean brightness.
    return np.asarray(big * (3 / 2.4), np.float32)


@dataclass(frozen=True)
class ScreenLook:
    """How one panel renders what it plays, drawn once per attack.

    Attributes:
        gamma: Exponent applied to the shown image.
        black: Black level (0-255).
        tint: Per-channel (BGR) gain of the panel's gamut.
        lens: Blur of the camera's lens at twice the sensor resolution (px).
        band_period: Period of the refresh banding (px).
        band_speed: How fast the band rolls (0: a stationary beat pattern).
        glare: Glare centre in the frame (px).
        glare_drift: How far (px) the glare wanders with time (0: fixed).
    """

    gamma: float
    black: float
    tint: Floats
    lens: float
    band_period: float
    band_speed: float
    glare: tuple[float, float]
    glare_drift: float

    @classmethod
    def draw(cls, rng: np.random.Generator, *, still: bool = False) -> ScreenLook:
        """A random panel; ``still``: its banding and glare do not move."""
        width, height = FRAME_SIZE
        gamma = rng.uniform(0.75, 0.9)
        black = rng.uniform(12, 28)
        tint = np.array([rng.uniform(1.02, 1.1), 1.0, rng.uniform(0.88, 0.97)], np.float32)
        glare = (float(rng.uniform(0.2, 0.8) * width), float(rng.uniform(0.1, 0.5) * height))
        lens = rng.uniform(1.3, 1.8)
        band_period, band_speed = rng.uniform(60, 140), rng.uniform(20, 60)
        return cls(
            gamma=float(gamma),
            black=float(black),
            tint=tint,
            lens=float(lens),
            band_period=float(band_period),
            band_speed=0.0 if still else float(band_speed),
            glare=glare,
            glare_drift=0.0 if still else 15.0,
        )

    def panel(self, frame: Image, pixels_wide: int) -> Floats:
        """``frame`` as the panel's lit sub-pixels (3x its pixel resolution)."""
        scale = pixels_wide / frame.shape[1]
        small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        shown = 255 * (small.astype(np.float32) / 255) ** self.gamma
        return screen_pixels(self.black + shown * (1 - self.black / 255) * self.tint)


@functools.cache
def _grid() -> tuple[Floats, Floats]:
    """Row and column coordinates of every frame pixel."""
    width, height = FRAME_SIZE
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    yy.setflags(write=False)
    xx.setflags(write=False)
    return yy, xx


def screen_light(look: ScreenLook, t: float) -> tuple[Floats, Floats]:
    """The banding gain and the glare (both ``(H, W, 1)``) over the frame at time ``t``."""
    yy, xx = _grid()
    shade = 1 + 0.05 * np.sin(2 * math.pi * (yy - look.band_speed * t * 10) / look.band_period)
    gx = look.glare[0] + look.glare_drift * math.sin(t)
    gy = look.glare[1] + look.glare_drift * math.cos(0.7 * t)
    glare = 60 * np.exp(-(((xx - gx) / 90) ** 2 + ((yy - gy) / 60) ** 2))
    return shade[:, :, None].astype(np.float32), glare[:, :, None].astype(np.float32)


@dataclass(frozen=True)
class Device:
    """A screen in its body, in the body's own pixels (3 per panel pixel).

    Attributes:
        canvas: The body's colours ``(H, W, 3)``, the screen area black.
        mask: Two channels ``(H, W, 2)``: the body (rounded corners) and the lit screen.
        origin: Where the screen's top-left corner sits in the canvas ``(x, y)``.
    """

    canvas: Floats
    mask: Floats
    origin: tuple[int, int]

    def showing(self, panel: Floats) -> Floats:
        """The canvas with ``panel`` on its screen."""
        out = self.canvas.copy()
        x, y = self.origin
        out[y : y + panel.shape[0], x : x + panel.shape[1]] = panel
        return out


def device_canvas(
    panel_shape: tuple[int, ...],
    border: tuple[int, int, int, int],
    colour: tuple[float, float, float],
) -> Device:
    """A body around a screen of ``panel_shape`` padded by ``border`` (left, top, right, bottom)."""
    left, top, right, bottom = border
    h, w = panel_shape[:2]
    height, width = h + top + bottom, w + left + right
    canvas = np.empty((height, width, 3), np.float32)
    # A plastic body: slightly lighter towards its top, with a thin highlight rim.
    ramp = np.linspace(1.15, 0.9, height, dtype=np.float32)[:, None, None]
    canvas[:] = np.asarray(colour, np.float32) * ramp
    rim = max(2, min(border) // 4)
    canvas[:rim] += 25
    canvas[:, :rim] += 15
    canvas[top : top + h, left : left + w] = 0
    body = np.zeros((height, width), np.uint8)
    radius = max(1, min(width, height) // 14)
    cv2.rectangle(body, (radius, 0), (width - 1 - radius, height - 1), 255, -1)
    cv2.rectangle(body, (0, radius), (width - 1, height - 1 - radius), 255, -1)
    for cx in (radius, width - 1 - radius):
        for cy in (radius, height - 1 - radius):
            cv2.circle(body, (cx, cy), radius, 255, -1)
    lit = np.zeros((height, width), np.float32)
    lit[top : top + h, left : left + w] = 1.0
    mask = np.stack([body.astype(np.float32) / 255, lit], axis=2)
    return Device(canvas, np.asarray(mask, np.float32), (left, top))


def project(
    canvas: Floats, mask: npt.NDArray[np.float32], h: npt.NDArray[np.float64], lens: float
) -> tuple[Floats, Floats]:
    """Film a plane: ``canvas`` and its ``mask`` channels seen through homography ``h``.

    The lens blurs the canvas at twice the sensor resolution, then the sensor
    samples every other point without further filtering: a pixel grid's residue
    aliases into moiré, as when a real camera films a screen. Only the part of
    the frame the plane covers is rendered (the rest is zero).
    """
    width, height = FRAME_SIZE
    ch, cw = canvas.shape[:2]
    corners = np.array([[[0, 0], [cw, 0], [cw, ch], [0, ch]]], np.float64)
    seen_at = cv2.perspectiveTransform(corners, h)[0]
    # Far more canvas pixels than sensor samples (a phone's fine grid, a distant
    # monitor): the lens integrates many sub-pixels first, so area-average the canvas
    # down to PREFILTER canvas pixels per fine sample before the aliasing warp.
    across = 2 * float(np.linalg.norm(seen_at[1] - seen_at[0]))
    shrink = PREFILTER * across / cw
    h_canvas = h
    if shrink < 1:
        canvas = np.asarray(
            cv2.resize(canvas, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA), np.float32
        )
        h_canvas = h @ np.diag([cw / canvas.shape[1], ch / canvas.shape[0], 1.0])
    margin = 4 + int(3 * lens)
    x0 = max(0, int(seen_at[:, 0].min()) - margin) & ~1
    y0 = max(0, int(seen_at[:, 1].min()) - margin) & ~1
    x1 = min(width, int(seen_at[:, 0].max()) + margin + 1)
    y1 = min(height, int(seen_at[:, 1].max()) + margin + 1)
    seen = np.zeros((height, width, 3), np.float32)
    warped = np.zeros((height, width, mask.shape[2]), np.float32)
    if x1 <= x0 or y1 <= y0:
        return seen, warped
    to_roi = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
    shift = to_roi @ h
    double = np.diag([2.0, 2.0, 1.0]) @ to_roi @ h_canvas
    size = (2 * (x1 - x0), 2 * (y1 - y0))
    fine = cv2.warpPerspective(canvas, double, size, flags=cv2.INTER_LINEAR)
    seen[y0:y1, x0:x1] = cv2.GaussianBlur(fine, (0, 0), lens)[::2, ::2]
    part = cv2.warpPerspective(mask, shift, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
    warped[y0:y1, x0:x1] = part.reshape(y1 - y0, x1 - x0, -1)
    return seen, warped


def composite(front: Floats, alpha: Floats, back: npt.NDArray[Any]) -> Image:
    """``front`` over ``back`` with ``alpha`` ``(H, W, 1)``, clipped to bytes."""
    out = front * alpha + back.astype(np.float32) * (1 - alpha)
    return np.asarray(np.clip(out, 0, 255), np.uint8)
