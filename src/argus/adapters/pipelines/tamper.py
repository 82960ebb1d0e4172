"""Camera tamper checks on downscaled frames: features with OpenCV, decisions in the domain.

``TamperMonitor`` is one camera's monitor. Each ``check`` scales the frame to
``width`` pixels (160 by default), turns it grey and measures:

- mean and spread of brightness (black / white frames);
- correlation of neighbouring pixels, across and down (noise frames);
- sharpness as mean |Laplacian| over the mean gradient of a smoothed copy,
  a ratio of fine to coarse detail that brightness does not change (blur);
- per block of a 8x6 grid, against a slowly updated reference view (a running
  average of good frames): whether a block that had texture became flat
  (covered), and whether the normalised correlation of its gradient map with
  the reference's still holds (moved, scene replaced). Blocks compare
  structure, not brightness, so lights switching changes nothing; a bus that
  fills part of the view lowers the share of matching blocks only where it is;
- the displacement of the whole view from the reference by phase correlation,
  counted only with a clear peak (a camera nudged by a few degrees);
- whether the frame is identical to the previous check's (frozen).

The numbers go to ``argus.domain.tamper.TamperTracker`` (learning, hysteresis,
baseline adaptation). Time is the frames' timestamps only. One check costs
about a millisecond on a 2-core VM (``benchmarks/tamper.py``).

The monitor keeps the frames it is given by reference (no copy): callers must
not modify a frame after passing it. ``reference_jpeg`` and ``current_jpeg``
encode on request (the before/after evidence of a tamper alert).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

import cv2
import numpy as np
import numpy.typing as npt

from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.tamper import TamperChange, TamperFeatures, TamperPolicy, TamperTracker

__all__ = ["GRID", "TAMPER_CLEARED", "TAMPER_RAISED", "TamperHook", "TamperMonitor", "measure"]

log = logging.getLogger(__name__)

TAMPER_RAISED = "camera.tamper"
TAMPER_CLEARED = "camera.tamper_cleared"

GRID = (6, 8)
"""Rows and columns of the blocks compared with the reference view."""

_Grey = npt.NDArray[np.float32]
_TEXTURED = 10.0  # a reference block with less mean gradient has no texture to lose
_FLAT = 5.0  # a block with less mean gradient (or a fifth of its reference's) is flat
_STRUCTURED = 2.0  # reference gradient spread above which a block has structure to match
_MATCH_NCC = 0.35  # normalised correlation above which a block's structure still matches
_STILL = 0.02  # mean absolute difference (grey levels) below which a frame did not change
_PEAK = 0.08  # phase-correlation response below which a displacement is not trusted
_JPEG_WIDTH = 640


def _blocks(image: _Grey) -> npt.NDArray[np.float32]:
    """Split ``image`` (cropped to the grid) into ``(rows, cols, bh*bw)`` block pixels."""
    rows, cols = GRID
    bh, bw = image.shape[0] // rows, image.shape[1] // cols
    cropped = image[: bh * rows, : bw * cols]
    return cropped.reshape(rows, bh, cols, bw).transpose(0, 2, 1, 3).reshape(rows, cols, bh * bw)


def _gradient(image: _Grey) -> _Grey:
    """Gradient magnitude (L1) of a lightly smoothed copy of ``image``."""
    smooth = cv2.GaussianBlur(image, (5, 5), 1.0)
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    return np.asarray(np.abs(gx) + np.abs(gy), dtype=np.float32)


class _Reference:
    """The reference view: a running average of good grey frames and its block statistics."""

    def __init__(self, grey: _Grey) -> None:
        self.image = grey.copy()
        self.window = cv2.createHanningWindow((grey.shape[1], grey.shape[0]), cv2.CV_32F)
        self.count = 1
        self._derive()

    def _derive(self) -> None:
        grad = _blocks(_gradient(self.image))
        self.texture = grad.mean(axis=2)
        self.grad_centered = grad - grad.mean(axis=2, keepdims=True)
        self.grad_norm = np.sqrt((self.grad_centered**2).sum(axis=2))
        self.grad_std = grad.std(axis=2)

    def follow(self, grey: _Grey, weight: float) -> None:
        cv2.accumulateWeighted(grey, self.image, weight)
        self.count += 1
        self._derive()


def measure(
    grey: _Grey, reference: _Reference | None, previous: _Grey | None
) -> tuple[TamperFeatures, _Grey]:
    """Measure one downscaled grey frame (float32) against the reference and the previous check.

    Returns:
        The features and the frame's gradient map (kept for nothing else; cheap).
    """
    mean, std = (float(v[0][0]) for v in cv2.meanStdDev(grey))
    var = std * std
    if var > 1e-6:
        centred = grey - mean
        across = float((centred[:, 1:] * centred[:, :-1]).mean())
        down = float((centred[1:, :] * centred[:-1, :]).mean())
        autocorr = (across + down) / (2.0 * var)
    else:
        autocorr = 1.0
    grad = _gradient(grey)
    fine = float(np.abs(cv2.Laplacian(grey, cv2.CV_32F, ksize=1)).mean())
    coarse = float(grad.mean())
    sharpness = fine / (coarse + 1e-3) if coarse > 0.05 else 0.0
    flat, match, shift = 0.0, 1.0, 0.0
    if reference is not None:
        flat, match = _compare(grad, reference)
        # phaseCorrelate applies the window to its inputs in place: hand it copies.
        (dx, dy), peak = cv2.phaseCorrelate(reference.image.copy(), grey.copy(), reference.window)
        if peak >= _PEAK:
            shift = float(np.hypot(dx, dy)) / grey.shape[1]
    still = previous is not None and float(cv2.absdiff(grey, previous).mean()) < _STILL
    features = TamperFeatures(
        mean=mean,
        std=std,
        sharpness=sharpness,
        autocorr=autocorr,
        flat=flat,
        match=match,
        still=still,
        shift=shift,
    )
    return features, grad


def _compare(grad: _Grey, reference: _Reference) -> tuple[float, float]:
    """Shares of the reference's textured blocks now flat, and of structured blocks matching."""
    blocks = _blocks(grad)
    texture = blocks.mean(axis=2)
    textured = reference.texture > _TEXTURED
    flat_now = texture < np.maximum(_FLAT, 0.2 * reference.texture)
    flat = float((flat_now & textured).sum() / textured.sum()) if textured.any() else 0.0
    centred = blocks - blocks.mean(axis=2, keepdims=True)
    norm = np.sqrt((centred**2).sum(axis=2)) * reference.grad_norm
    ncc = (centred * reference.grad_centered).sum(axis=2) / np.maximum(norm, 1e-6)
    structured = reference.grad_std > _STRUCTURED
    if not structured.any():
        return flat, 1.0
    match = float(((ncc > _MATCH_NCC) & structured).sum() / structured.sum())
    return flat, match


class TamperMonitor:
    """One camera's tamper monitor: call ``check`` a few times per second.

    Args:
        policy: Thresholds and timing of the decisions.
        width: Width in pixels the frames are scaled to before measuring.
        reference_s: Time constant (seconds) of the reference view's running
            average once learned (it follows only good checks).
    """

    def __init__(
        self, policy: TamperPolicy | None = None, *, width: int = 160, reference_s: float = 120.0
    ) -> None:
        self.tracker = TamperTracker(policy)
        self._width = width
        self._reference_s = reference_s
        self._reference: _Reference | None = None
        self._previous: _Grey | None = None
        self._last_at: datetime | None = None
        self._current_frame: npt.NDArray[np.uint8] | None = None
        self._reference_frame: npt.NDArray[np.uint8] | None = None
        self._reference_frame_at: datetime | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        """``learning``, ``ok`` or the raised kind (a ``TamperState`` value)."""
        return self.tracker.state

    @property
    def score(self) -> float:
        """How far the latest check was from normal, 0..1."""
        return self.tracker.score

    def grey(self, frame_bgr: npt.NDArray[np.uint8]) -> _Grey:
        """The frame scaled to ``width`` and turned grey, as float32."""
        height, width = frame_bgr.shape[:2]
        size = (self._width, max(GRID[0], round(height * self._width / max(width, 1))))
        small = cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA)
        if small.ndim == 3:
            small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        return np.asarray(small, dtype=np.float32)

    def check(self, frame_bgr: npt.NDArray[np.uint8], at: datetime) -> list[TamperChange]:
        """Check one frame (BGR or grey, any size) taken at ``at``; return raised/cleared kinds."""
        grey = self.grey(frame_bgr)
        if self._reference is not None and self._reference.image.shape != grey.shape:
            self._reference = None  # the stream changed resolution: learn again
            self.tracker.reset()
        if self._previous is not None and self._previous.shape != grey.shape:
            self._previous = None
        features, _ = measure(grey, self._reference, self._previous)
        samples = self.tracker.baseline.samples
        changes = self.tracker.update(features, at)
        relearned = self.tracker.baseline.samples <= 1 and samples > 1
        dt = 0.0 if self._last_at is None else max(0.0, (at - self._last_at).total_seconds())
        self._last_at = at
        self._follow(grey, frame_bgr, at, dt, relearned)
        self._previous = grey
        with self._lock:
            self._current_frame = frame_bgr
        return changes

    def _follow(
        self,
        grey: _Grey,
        frame_bgr: npt.NDArray[np.uint8],
        at: datetime,
        dt: float,
        relearned: bool,
    ) -> None:
        """Let the reference view follow a good check (learning: a plain running mean)."""
        tracker = self.tracker
        if self._reference is None or relearned:
            self._reference = _Reference(grey)
        elif tracker.adapting:
            learning = tracker.learning
            weight = 1.0 / (self._reference.count + 1) if learning else dt / self._reference_s
            self._reference.follow(grey, min(1.0, weight))
        else:
            return
        keep = self._reference_frame_at is None or relearned
        if not keep and self._reference_frame_at is not None:
            keep = (at - self._reference_frame_at).total_seconds() >= 60.0
        if keep and tracker.state in ("ok", "learning"):
            with self._lock:
                self._reference_frame, self._reference_frame_at = frame_bgr, at

    def reference_jpeg(self) -> bytes | None:
        """A recent good frame (the "before" evidence) as JPEG, ``None`` before the first."""
        with self._lock:
            frame = self._reference_frame
        return None if frame is None else _jpeg(frame)

    def current_jpeg(self) -> bytes | None:
        """The latest checked frame (the "after" evidence) as JPEG, ``None`` before the first."""
        with self._lock:
            frame = self._current_frame
        return None if frame is None else _jpeg(frame)


class TamperHook:
    """Runs a camera's monitor every ``every_s`` seconds of frame time and wraps its changes.

    Args:
        monitor: The camera's monitor.
        source: The edge node and camera written into the envelopes.
        every_s: Seconds of frame time between checks.
    """

    def __init__(self, monitor: TamperMonitor, source: EventSource, *, every_s: float) -> None:
        self.monitor = monitor
        self._source = source
        self._every = every_s
        self._last: datetime | None = None

    def check(self, frame_bgr: npt.NDArray[np.uint8], at: datetime) -> tuple[Envelope, ...]:
        """Check the frame when a check is due; return ``camera.tamper[_cleared]`` envelopes."""
        last = self._last
        if last is not None and 0.0 <= (at - last).total_seconds() < self._every:
            return ()
        self._last = at
        return tuple(self._envelope(change) for change in self.monitor.check(frame_bgr, at))

    def _envelope(self, change: TamperChange) -> Envelope:
        raised = change.state == "raised"
        log.info("camera %s: tamper %s %s", self._source.camera_id, change.kind, change.state)
        return Envelope(
            event_id=new_event_id(change.at),
            type=TAMPER_RAISED if raised else TAMPER_CLEARED,
            timestamp=change.at,
            source=self._source,
            payload={"kind": change.kind, "score": change.score, "state": change.state},
        )


def _jpeg(frame: npt.NDArray[np.uint8]) -> bytes:
    height, width = frame.shape[:2]
    if width > _JPEG_WIDTH:
        size = (_JPEG_WIDTH, max(1, round(height * _JPEG_WIDTH / width)))
        frame = np.asarray(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    ok, buffer = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(buffer)
