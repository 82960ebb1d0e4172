"""One renderer per simulated presentation attack (see :mod:`benchmarks.spoof_attacks`).

Every renderer takes its material (a photo or video frames and a background
scene), a seed and a ``sensor`` (the webcam, :func:`camera` by default; a test
passes the identity to see the scene before sensor noise and JPEG) and returns
BGR frames of :data:`FRAME_SIZE`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from benchmarks._spoof_render import (
    FRAME_SIZE,
    STILL,
    Image,
    Pose,
    ScreenLook,
    camera,
    composite,
    device_canvas,
    drift_params,
    plane_homography,
    pose_at,
    print_medium,
    project,
    screen_light,
)

__all__ = [
    "Sensor",
    "cutout_mask",
    "monitor_replay_attack",
    "phone_replay_attack",
    "print_attack",
    "replay_attack",
]

Sensor = Callable[[Image, np.random.Generator], Image]
"""What turns a rendered scene into a webcam frame."""

_CASCADE = Path(cv2.__file__).parent / "data" / "haarcascade_frontalface_default.xml"
"""OpenCV's frontal face Haar cascade (shipped in the ``opencv-python`` wheel)."""


def _shifted(pose: Pose, base: Pose) -> Pose:
    """``pose`` around a fixed ``base`` pose (shifts, angles and tilts add, scales multiply)."""
    return (
        pose[0] + base[0],
        pose[1] + base[1],
        pose[2] + base[2],
        pose[3] * base[3],
        pose[4] + base[4],
        pose[5] + base[5],
    )


def _fixed_pose(rng: np.random.Generator) -> Pose:
    """A medium set down slightly askew: small fixed rotation and tilt, no motion."""
    return (
        0.0,
        0.0,
        float(rng.uniform(-0.04, 0.04)),
        1.0,
        float(rng.uniform(-3e-4, 3e-4)),
        float(rng.uniform(-3e-4, 3e-4)),
    )


@functools.cache
def _face_finder() -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(str(_CASCADE))


def cutout_mask(photo: Image, rng: np.random.Generator) -> npt.NDArray[np.float32]:
    """Where scissors cut the head (hair to chin) out of ``photo``: 1 inside, 0 outside.

    The face is found with OpenCV's Haar cascade (not the product's detector);
    the outline is an oval around it with a slightly ragged, hand-cut edge.
    """
    h, w = photo.shape[:2]
    grey = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    found = _face_finder().detectMultiScale(
        grey, 1.1, 5, minSize=(max(24, w // 10), max(24, w // 10))
    )
    if len(found):
        x, y, fw, fh = (float(v) for v in max(found, key=lambda b: int(b[2]) * int(b[3])))
    else:
        x, y, fw, fh = w * 0.3, h * 0.25, w * 0.4, h * 0.4
    cx, cy = x + fw / 2, y + fh / 2 - 0.15 * fh
    ax, ay = 0.72 * fw, 0.85 * fh
    angles = np.linspace(0, 2 * math.pi, 240, endpoint=False)
    ragged = np.ones_like(angles)
    for k in (3, 5, 9, 17):
        ragged += rng.uniform(0.005, 0.02) * np.sin(k * angles + rng.uniform(0, 2 * math.pi))
    points = np.stack([cx + ax * ragged * np.cos(angles), cy + ay * ragged * np.sin(angles)], 1)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 255)
    return np.asarray(mask.astype(np.float32) / 255, np.float32)


def print_attack(
    photo: Image,
    background: Image,
    seed: int,
    n_frames: int = 24,
    fps: float = 10.0,
    *,
    still: bool = False,
    cutout: bool = False,
    sensor: Sensor = camera,
) -> list[Image]:
    """A printed ``photo`` held up to the webcam, ``n_frames`` at ``fps``.

    Args:
        photo: The portrait to print (BGR).
        background: The scene behind the sheet, :data:`FRAME_SIZE`.
        seed: Seeds the paper, the pose and the camera noise.
        n_frames: How many frames.
        fps: Frame rate (sets the speed of the hand's drift).
        still: The sheet lies flat and perfectly still (on a stand): one fixed pose.
        cutout: Only the head, cut out along its outline, is held up: the real
            background surrounds it.
        sensor: The webcam.
    """
    rng = np.random.default_rng(seed)
    sheet = print_medium(photo, rng)
    params = drift_params(rng, (0.3, 1.0), (0.08, 0.6))
    width, height = FRAME_SIZE
    size = rng.uniform(0.75, 0.95) * height
    centre = (width / 2 + rng.uniform(-60, 60), height / 2 + rng.uniform(-20, 20))
    blur = rng.uniform(0.6, 1.2)
    base = _fixed_pose(rng) if still else STILL
    shape = np.full(sheet.shape[:2], 255, np.uint8)
    if cutout:
        small = cv2.resize(photo, (sheet.shape[1], sheet.shape[0]), interpolation=cv2.INTER_AREA)
        shape = np.round(cutout_mask(np.asarray(small, np.uint8), rng) * 255).astype(np.uint8)
    frames = []
    for i in range(n_frames):
        pose = base if still else pose_at(i / fps, params)
        h = plane_homography(sheet.shape[1], sheet.shape[0], centre, size, pose)
        warped = cv2.warpPerspective(sheet, h, FRAME_SIZE, flags=cv2.INTER_AREA)
        mask = cv2.warpPerspective(shape, h, FRAME_SIZE, flags=cv2.INTER_LINEAR)
        alpha = (mask.astype(np.float32) / 255)[:, :, None]
        frame = warped.astype(np.float32) * alpha + background.astype(np.float32) * (1 - alpha)
        frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), blur), np.float64)
        frames.append(sensor(np.clip(frame, 0, 255).astype(np.uint8), rng))
    return frames


def replay_attack(
    source: list[Image], background: Image, seed: int, fps: float = 10.0, *, sensor: Sensor = camera
) -> list[Image]:
    """``source`` video frames played on a screen moved by hand in front of the webcam.

    The screen fills the frame; what shows around it is the dimmed background.
    """
    rng = np.random.default_rng(seed)
    params = drift_params(rng, (0.1, 0.5), (0.08, 0.5))
    width, height = FRAME_SIZE
    pixels_wide = int(rng.integers(420, 640))
    size = rng.uniform(0.85, 1.05) * width
    centre = (width / 2 + rng.uniform(-20, 20), height / 2 + rng.uniform(-15, 15))
    look = ScreenLook.draw(rng)
    frames = []
    for i, frame in enumerate(source):
        t = i / fps
        panel = look.panel(frame, pixels_wide)
        h = plane_homography(panel.shape[1], panel.shape[0], centre, size, pose_at(t, params))
        lit = np.ones((*panel.shape[:2], 1), np.float32)
        seen, mask = project(panel, lit, h, look.lens)
        shade, glare = screen_light(look, t)
        scene = composite(seen * shade + glare, mask, background.astype(np.float32) * 0.8)
        frames.append(sensor(scene, rng))
    return frames


def _lit_device(
    seen: npt.NDArray[np.float32], mask: npt.NDArray[np.float32], look: ScreenLook, t: float
) -> npt.NDArray[np.float32]:
    """The filmed device with the screen's banding and glare on its lit part only."""
    shade, glare = screen_light(look, t)
    lit = mask[:, :, 1:2]
    return np.asarray(seen * (1 + (shade - 1) * lit) + glare * lit, np.float32)


def monitor_replay_attack(
    source: list[Image],
    background: Image,
    seed: int,
    *,
    bezel: bool,
    sensor: Sensor = camera,
) -> list[Image]:
    """``source`` played on a monitor on a stand: the video plays, the monitor never moves.

    Args:
        source: The video frames to play.
        background: The room around the monitor, :data:`FRAME_SIZE`.
        seed: Seeds the panel, the placement and the camera noise.
        bezel: The whole monitor, bezel and stand, is in view (it stands further
            back); otherwise the screen fills the frame's width (close up).
        sensor: The webcam.
    """
    rng = np.random.default_rng(seed)
    width, height = FRAME_SIZE
    look = ScreenLook.draw(rng, still=True)
    pixels_wide = int(rng.integers(420, 640))
    colour = (float(rng.uniform(12, 45)),) * 3
    if bezel:
        size = rng.uniform(0.6, 0.8) * width
        centre = (width / 2 + rng.uniform(-60, 60), height / 2 + rng.uniform(-40, 10))
    else:
        size = rng.uniform(1.08, 1.25) * width
        centre = (width / 2 + rng.uniform(-20, 20), height / 2 + rng.uniform(-15, 15))
    side, foot = rng.uniform(0.025, 0.05), rng.uniform(0.045, 0.08)
    pose = _fixed_pose(rng)
    shade, glare = screen_light(look, 0.0)
    first = look.panel(source[0], pixels_wide)
    pw = first.shape[1]
    border = (int(side * pw), int(side * pw), int(side * pw), int(foot * pw))
    device = device_canvas(first.shape, border, colour)
    h = plane_homography(device.canvas.shape[1], device.canvas.shape[0], centre, size, pose)
    room = background.astype(np.float32)
    if bezel:
        room = _stand(room, device.canvas.shape, h, colour)
    frames = []
    for frame in source:
        panel = look.panel(frame, pixels_wide)
        seen, warped = project(device.showing(panel), device.mask, h, look.lens)
        lit = warped[:, :, 1:2]
        front = seen * (1 + (shade - 1) * lit) + glare * lit
        frames.append(sensor(composite(front, warped[:, :, :1], room), rng))
    return frames


def _stand(
    room: npt.NDArray[np.float32],
    shape: tuple[int, ...],
    h: npt.NDArray[np.float64],
    colour: tuple[float, ...],
) -> npt.NDArray[np.float32]:
    """A monitor's neck from the middle of its bottom edge down to the frame's bottom."""
    ch, cw = shape[:2]
    corners = np.array([[[cw * 0.44, ch * 0.9], [cw * 0.56, ch * 0.9]]], np.float32)
    (left, right) = cv2.perspectiveTransform(corners, h)[0]
    bottom = FRAME_SIZE[1]
    spread = (right[0] - left[0]) * 0.35
    polygon = np.array(
        [left, right, [right[0] + spread, bottom], [left[0] - spread, bottom]], np.float32
    )
    out = room.copy()
    cv2.fillPoly(out, [np.round(polygon).astype(np.int32)], tuple(c * 0.8 for c in colour))
    return out


def _hand(
    frame: npt.NDArray[np.float32],
    shape: tuple[int, ...],
    h: npt.NDArray[np.float64],
    skin: tuple[float, float, float],
) -> npt.NDArray[np.float32]:
    """A hand holding the phone's lower half (palm below, thumb on one side) and its arm."""
    ch, cw = shape[:2]
    anchors = np.array(
        [[[cw * 0.5, ch * 1.1], [-cw * 0.01, ch * 0.74], [cw * 1.01, ch * 0.74], [cw, ch]]],
        np.float32,
    )
    palm, thumb, fingers, corner = cv2.perspectiveTransform(anchors, h)[0]
    phone_w = float(
        np.linalg.norm(
            corner - cv2.perspectiveTransform(np.array([[[0.0, ch]]], np.float32), h)[0][0]
        )
    )
    layer = np.zeros(frame.shape[:2], np.uint8)
    r = max(4, int(phone_w * 0.42))
    cv2.ellipse(layer, (int(palm[0]), int(palm[1])), (r, int(r * 0.6)), 0, 0, 360, 255, -1)
    cv2.ellipse(
        layer, (int(thumb[0]), int(thumb[1])), (int(r * 0.16), int(r * 0.4)), -15, 0, 360, 255, -1
    )
    for k in range(3):
        cv2.ellipse(
            layer,
            (int(fingers[0]), int(fingers[1] + k * r * 0.24)),
            (int(r * 0.14), int(r * 0.1)),
            0,
            0,
            360,
            255,
            -1,
        )
    arm = np.array(
        [
            [palm[0] - r * 0.6, palm[1]],
            [palm[0] + r * 0.6, palm[1]],
            [palm[0] + r * 1.1, FRAME_SIZE[1]],
            [palm[0] - r * 0.5, FRAME_SIZE[1]],
        ]
    )
    cv2.fillPoly(layer, [np.round(arm).astype(np.int32)], 255)
    alpha = cv2.GaussianBlur(layer.astype(np.float32) / 255, (0, 0), 1.5)[:, :, None]
    yy = np.linspace(1.05, 0.85, frame.shape[0], dtype=np.float32)[:, None, None]
    return np.asarray(frame * (1 - alpha) + np.asarray(skin, np.float32) * yy * alpha, np.float32)


def phone_replay_attack(
    source: list[Image],
    background: Image,
    seed: int,
    fps: float = 10.0,
    *,
    centre_x: float = 0.5,
    sensor: Sensor = camera,
) -> list[Image]:
    """``source`` played full screen on a phone held at arm's length in front of the webcam.

    The phone (portrait, its body and bezel visible, held by a hand with hand
    tremor) is small in the frame; the real background is all around it.

    Args:
        source: The video frames to play (cropped to the phone's portrait screen
            around ``centre_x``, a share of the frame width).
        background: The real scene around the phone, :data:`FRAME_SIZE`.
        seed: Seeds the phone, the hand and the camera noise.
        fps: Frame rate.
        centre_x: Where the face is across the source frames (0-1).
        sensor: The webcam.
    """
    rng = np.random.default_rng(seed)
    width, height = FRAME_SIZE
    look = ScreenLook.draw(rng)
    tremor = drift_params(rng, (0.05, 0.25), (0.8, 3.0))
    drift = drift_params(rng, (0.1, 0.5), (0.05, 0.3))
    pixels_wide = int(rng.integers(240, 360))
    size = rng.uniform(0.6, 0.85) * height
    centre = (width / 2 + rng.uniform(-90, 90), height / 2 + rng.uniform(-20, 20))
    base = (0.0, 0.0, float(rng.uniform(-0.12, 0.12)), 1.0, 0.0, 0.0)
    colour = [(26.0, 26.0, 30.0), (62.0, 60.0, 58.0), (178.0, 180.0, 184.0)][int(rng.integers(3))]
    tone = rng.uniform(0.6, 1.1)
    skin = (120.0 * tone, 150.0 * tone, 200.0 * tone)
    fh, fw = source[0].shape[:2]
    crop_w = min(fw, round(fh * 9 / 16))
    x0 = int(np.clip(centre_x * fw - crop_w / 2, 0, fw - crop_w))

    def shown(frame: Image) -> npt.NDArray[np.float32]:
        return look.panel(np.ascontiguousarray(frame[:, x0 : x0 + crop_w]), pixels_wide)

    first = shown(source[0])
    pw = first.shape[1]
    device = device_canvas(first.shape, (pw // 22, pw // 9, pw // 22, pw // 8), colour)
    canvas_h, canvas_w = device.canvas.shape[:2]
    frames = []
    for i, frame in enumerate(source):
        t = i / fps
        panel = shown(frame)
        moved = pose_at(t, tremor, 0.4)
        pose = _shifted(pose_at(t, drift, 0.6), _shifted(moved, base))
        h = plane_homography(canvas_w, canvas_h, centre, size, pose)
        seen, warped = project(device.showing(panel), device.mask, h, look.lens)
        filmed = _lit_device(seen, warped, look, t)
        scene = composite(filmed, warped[:, :, :1], background).astype(np.float32)
        held = _hand(scene, device.canvas.shape, h, skin)
        frames.append(sensor(np.clip(held, 0, 255).astype(np.uint8), rng))
    return frames
