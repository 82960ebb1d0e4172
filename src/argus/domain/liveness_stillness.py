"""A frozen face: a window whose face region changes no more than the camera's own noise.

A print lying still in front of a webcam (on a stand, against a wall) shows the
same picture in every frame: what changes between its frames is the sensor's
noise and the compression's requantisation of it, nothing else. A live person
never holds that still: over the 0.8 s of a window the head drifts (posture,
breathing, pulse), the eyes move and the lids and lips twitch, and each of these
moves image structure by a fraction of a pixel or more, which changes the pixels
along the face's edges far more than the noise does. The motion cues
(``coupling``, ``residual``) are unmeasured exactly then: they only count frame
pairs where the face moved against its surround.

:func:`face_change` measures that change in units of the noise estimated from the
same frames, so a noisy dark webcam and a clean bright one are judged alike. It
returns the log of a signal-to-noise ratio: well below 0 for pure noise, about
0 and above for a live face. The OpenCV side (cutting the same region out of
every frame) is ``argus.adapters.face.liveness``; the fusion is
:func:`argus.domain.liveness.liveness_score` (cue ``face_change``).

What it cannot see: a still medium showing a moving picture (a replayed video:
its face changes), and a print moved by hand (the motion cues see that). Heavy
compression of a low-noise picture makes a frozen face flicker along its edges
and look a little less frozen. What would make a live user look frozen: a user
motionless to a fraction of a pixel for the whole window, or a client that
resends one frame (which is frozen, honestly).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError

__all__ = ["MIN_SNR", "NOISE_FLOOR", "face_change"]

NOISE_FLOOR = 0.5
"""Smallest noise level assumed (grey levels, before smoothing): 8-bit quantisation's."""

MIN_SNR = 0.01
"""Smallest change-to-noise ratio returned (its log bounds the cue from below)."""


def face_change(crops: npt.ArrayLike, *, quantile: float = 98.0, blur: float = 1.0) -> float:
    """Log of the face region's change across the window over its noise, noise removed.

    Args:
        crops: ``(T, H, W)`` grey images, ``T >= 3``: the same region of the frame
            (fixed frame coordinates, not the detected box of each frame, so the
            detector's jitter does not count as change) in each frame of the window.
        quantile: Percentile of the per-pixel change that is compared (a high
            one: the change of a still live face is concentrated on its edges,
            eyes and mouth).
        blur: Gaussian smoothing (pixels) of every crop first: it averages
            pixel noise away while the change of a moving edge, which spans
            several pixels, stays.

    The change is the difference between two frames of the window, after
    removing a global gain and offset (auto exposure, a light dimming: a print in
    changing light is still a print); the largest ``quantile`` percentile of its
    absolute value over every pair of frames is kept (``C``). The noise
    reference is the second temporal difference ``I[t+1] - 2 I[t] + I[t-1]``
    divided by ``sqrt(3)``: for noise that is independent from frame to frame it
    has, pixel by pixel, the distribution of a two-frame difference (variance
    ``2 sigma^2`` where a pixel's noise is ``sigma``), whatever the noise's level
    and however unevenly the camera's compression spreads it (more on edges
    than on flat skin); its ``quantile`` percentile at the quietest of the
    window's frame triples is ``N`` (steady motion cancels in it, so a moving
    face inflates it less). Then ``C / N`` is about 1 for a frozen face (a little
    more: ``C`` is a maximum over pairs), and the face's own change stands
    ``sqrt((C / N)^2 - 1)`` noise levels above the noise. Its natural log is
    returned (at least ``log 0.01``): well below 0 for a frozen face, around 0
    and above for a live one.
    """
    stack = np.asarray(crops, np.float64)
    if stack.ndim != 3 or stack.shape[0] < 3 or min(stack.shape[1:]) < 8:
        raise ValidationError(f"need (T>=3, H>=8, W>=8) crops, got {stack.shape}")
    if not 50.0 <= quantile < 100.0 or blur < 0:
        raise ValidationError(f"bad quantile {quantile} or blur {blur}")
    stack = _smoothed(stack, blur)
    second = np.abs(stack[2:] - 2.0 * stack[1:-1] + stack[:-2]).reshape(len(stack) - 2, -1)
    quietest = float(np.percentile(second, quantile, axis=1).min())
    floor = NOISE_FLOOR / max(1.0, math.sqrt(4.0 * math.pi) * blur)
    noise = max(quietest / math.sqrt(3.0), floor)
    flat = stack.reshape(len(stack), -1)
    means = np.maximum(flat.mean(axis=1), 1e-6)
    first, second_of = np.array(list(itertools.combinations(range(len(stack)), 2))).T
    change = flat[second_of] - flat[first] * (means[second_of] / means[first])[:, None]
    change -= np.median(change, axis=1, keepdims=True)
    largest = float(np.percentile(np.abs(change), quantile, axis=1).max())
    ratio = largest / noise
    return 0.5 * math.log(max(ratio * ratio - 1.0, MIN_SNR**2))


def _smoothed(stack: npt.NDArray[np.float64], sigma: float) -> npt.NDArray[np.float64]:
    """Each ``(H, W)`` image of ``stack`` smoothed by a Gaussian (edges padded by copying)."""
    if sigma <= 0:
        return stack
    radius = max(1, math.ceil(3 * sigma))
    taps = np.exp(-(np.arange(-radius, radius + 1) ** 2) / (2 * sigma * sigma))
    taps /= taps.sum()
    out = stack
    for axis in (1, 2):
        pad = [(0, 0)] * 3
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="edge")
        size = out.shape[axis]
        out = sum(
            (
                float(t) * np.take(padded, np.arange(i, i + size), axis=axis)
                for i, t in enumerate(taps)
            ),
            start=np.zeros_like(out),
        )
    return out
