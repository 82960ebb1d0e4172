"""Liveness (anti-spoofing) from several frames: the cues' maths and how they are combined.

No registry package ships a validated face anti-spoofing model, so Argus combines
three kinds of evidence measured over a short window of frames (the OpenCV side is
``argus.adapters.face.liveness``):

* **planar motion** (``coupling``): a printed photo or a phone/monitor held up to
  the camera is one plane, so the face and its surround on the medium move under
  one homography; a live head moves against its background. High coupling = spoof.
* **screen and print texture** (``peak_prominence``): a pixel grid filmed by a
  camera aliases into moiré, and halftone screens are periodic too; both show as
  isolated peaks in the face's amplitude spectrum above the smooth ``1/f`` fall-off
  of natural skin. High prominence = spoof.
* **non-rigid motion** (``residual``): a talking, blinking, turning head moves in
  ways no single plane explains; a sheet's face tracks fit one homography to
  within tracking noise. Low residual = spoof. The landmark ``deformation`` is
  measured and reported but not scored: on the development set it did not
  separate (0.01-0.04 for both), CenterFace's landmark jitter dominates it.

:func:`liveness_score` maps each available cue through a logistic around its
threshold (the cue's "spoof point") and takes the *minimum* over the spoof cues:
any one convincing sign of a flat medium condemns the window (the two motion
cues are averaged first: they measure the same plane). The
thresholds in :class:`LivenessModel` were set on the development seeds of the
simulated attack set (``benchmarks/liveness.py``) and are reported on held-out
seeds there: they are calibrated to simulations, not to real prints and screens.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError
from argus.domain.face_align import similarity_transform

__all__ = [
    "LivenessCues",
    "LivenessModel",
    "LivenessScore",
    "landmark_deformation",
    "liveness_score",
    "spectral_peak_prominence",
]


@dataclass(frozen=True, slots=True)
class LivenessCues:
    """What one window of frames showed; ``None`` where a cue could not be measured.

    Attributes:
        frames: Frames in the window.
        moving_pairs: Frame pairs where the face moved against its surround (the
            pairs the motion cues come from).
        coupling: Median share of surround tracks that follow the face's homography.
        residual: Median error (px at a 112 px face) of the face's tracks under it.
        peak_prominence: Median spectral peak prominence of the face (log amplitude).
        deformation: Median landmark deformation between frames (share of eye distance).
    """

    frames: int
    moving_pairs: int
    coupling: float | None
    residual: float | None
    peak_prominence: float | None
    deformation: float | None


@dataclass(frozen=True, slots=True)
class LivenessModel:
    """Thresholds of the liveness cues and of the final decision.

    Each cue goes through a logistic centred on its "spoof point" (where it says
    50 % live). The defaults sit in the gap between bona fide and attack windows of
    the development seeds (``benchmarks/liveness.py``): face residual 0.03-0.14 for
    prints against 0.24-0.90 live, coupling 0.37-1.00 against 0.00-0.26, spectral
    prominence at most 1.96 on anything but one print (2.5).

    Attributes:
        min_relative_motion: Face-against-surround motion (px at a 112 px face)
            below which a frame pair is not used for the motion cues.
        residual_spoof: Face residual (px) at which the planarity cue says 50 % live.
        residual_scale: Logistic width of the residual cue.
        coupling_spoof: Coupling at which the coupling cue says 50 % live.
        coupling_scale: Logistic width of the coupling cue.
        peak_spoof: Spectral peak prominence at which the texture cue says 50 % live.
        peak_scale: Logistic width of the texture cue.
        threshold: Scores below this are spoofs.
    """

    min_relative_motion: float = 0.7
    residual_spoof: float = 0.19
    residual_scale: float = 0.03
    coupling_spoof: float = 0.32
    coupling_scale: float = 0.05
    peak_spoof: float = 2.2
    peak_scale: float = 0.1
    threshold: float = 0.5

    def __post_init__(self) -> None:
        if min(self.residual_scale, self.coupling_scale, self.peak_scale) <= 0:
            raise ValidationError("logistic scales must be positive")
        if not 0 < self.threshold < 1:
            raise ValidationError(f"threshold must lie in (0, 1), got {self.threshold}")


@dataclass(frozen=True, slots=True)
class LivenessScore:
    """A liveness verdict with its parts.

    Attributes:
        score: 0 (certainly a presentation attack) to 1 (certainly live).
        live: ``score >= threshold``.
        motion: The motion cue's score, or ``None`` when the face did not move enough.
        texture: The texture cue's score, or ``None`` when the face was too small.
        cues: The measurements behind it.
    """

    score: float
    live: bool
    motion: float | None
    texture: float | None
    cues: LivenessCues


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


def liveness_score(cues: LivenessCues, model: LivenessModel | None = None) -> LivenessScore:
    """Combine the cues into one score (see the module doc).

    The motion score is the mean of the planarity (residual) and coupling cues;
    the final score is the minimum of the motion and texture scores. With no
    measurable cue at all the score is the threshold itself (``live`` is ``True``):
    an unmeasurable window is not evidence of an attack.
    """
    m = model if model is not None else LivenessModel()
    motion = None
    if cues.coupling is not None and cues.residual is not None:
        planar = _logistic((cues.residual - m.residual_spoof) / m.residual_scale)
        coupled = _logistic((m.coupling_spoof - cues.coupling) / m.coupling_scale)
        motion = (planar + coupled) / 2
    texture = None
    if cues.peak_prominence is not None:
        texture = _logistic((m.peak_spoof - cues.peak_prominence) / m.peak_scale)
    parts = [p for p in (motion, texture) if p is not None]
    score = min(parts) if parts else m.threshold
    return LivenessScore(score, score >= m.threshold, motion, texture, cues)


def spectral_peak_prominence(grey: npt.NDArray[np.float32], low: float = 0.1) -> float:
    """How far the strongest periodic component stands above the face's smooth spectrum.

    Args:
        grey: A face crop ``(H, W)``, any float range, at its native resolution.
        low: Lowest radial frequency (cycles per pixel) searched for peaks.

    Returns:
        The largest excess of the log amplitude over the median log amplitude at
        the same radial frequency, for frequencies in ``[low, 0.5]`` away from the
        two axes (where JPEG/H.264 block edges and frame borders put their energy).
    """
    image = np.asarray(grey, np.float64)
    if image.ndim != 2 or min(image.shape) < 16:
        raise ValidationError(f"need a 2-d crop of at least 16x16, got {image.shape}")
    h, w = image.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    spectrum = np.log1p(np.abs(np.fft.fft2((image - image.mean()) * window)))
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    radius = np.sqrt(fx**2 + fy**2)
    bins = np.minimum((radius / 0.5 * 24).astype(np.int64), 24)
    profile = np.zeros(25)
    for b in range(25):
        values = spectrum[bins == b]
        profile[b] = np.median(values) if values.size else 0.0
    excess = spectrum - profile[bins]
    off_axis = (np.abs(fx) > 1.5 / w) & (np.abs(fy) > 1.5 / h)
    band = (radius >= low) & (radius <= 0.5) & off_axis
    return float(excess[band].max()) if band.any() else 0.0


def landmark_deformation(landmarks: npt.ArrayLike) -> float:
    """Median change of the five landmarks' shape between consecutive frames.

    Each frame's landmarks are aligned to the previous frame's by a similarity
    transform (rotation, scale, shift: what a rigid photo moving in its plane
    does); what remains, RMS over the points, is divided by the eye distance.

    Args:
        landmarks: ``(T, 5, 2)`` points, ``T >= 2``.
    """
    points = np.asarray(landmarks, np.float64)
    if points.ndim != 3 or points.shape[1:] != (5, 2) or points.shape[0] < 2:
        raise ValidationError(f"landmarks must have shape (T>=2, 5, 2), got {points.shape}")
    changes = []
    for prev, cur in itertools.pairwise(points):
        eyes = float(np.linalg.norm(prev[1] - prev[0]))
        if eyes <= 1e-6:
            continue
        matrix = similarity_transform(cur, prev)
        moved = cur @ matrix[:, :2].T + matrix[:, 2]
        changes.append(float(np.sqrt(((moved - prev) ** 2).sum(axis=1).mean())) / eyes)
    return float(np.median(changes)) if changes else 0.0
