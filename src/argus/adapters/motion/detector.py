"""Where a camera's picture changed: a cheap motion detector on small grey frames.

Each frame is turned grey, scaled down (320 px wide by default) and blurred,
then compared with a running-average background. The difference threshold
follows the noise of the camera: a robust estimate of the per-frame noise
(the median absolute difference, scaled to a standard deviation) is smoothed
over frames and the threshold sits ``z`` noise levels above it, never below a
floor; ``sensitivity`` moves both. Changed pixels inside ignore masks are
dropped, the rest are dilated into blobs whose bounding boxes (large enough)
are merged and scaled back to frame pixels.

When most of the picture changes at once (lights switched, the camera
re-exposing, a moved camera) the boxes would be one useless huge region: the
detector re-learns its background from that frame and reports a global
change, meaning "run on the full frame". The first frame (and the first one
after a change of frame size) reports a global change too: there is no
background to compare with yet.

Not thread-safe: one instance per camera, used from that camera's thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError
from argus.domain.regions import merge_boxes

__all__ = ["Motion", "MotionDetector", "MotionSettings", "Polygon"]

Polygon = Sequence[tuple[float, float]]
"""A polygon of ``(x, y)`` points in normalised frame coordinates (0..1)."""

_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True, slots=True)
class MotionSettings:
    """How the motion detector looks at frames.

    Attributes:
        width: Width of the grey frame compared, in pixels (narrower frames stay as they are).
        sensitivity: 0 (only strong changes) .. 1 (faint ones too).
        background_rate: Weight of each new frame in the running-average background.
        noise_rate: Weight of each new frame in the smoothed noise level.
        min_area: Smallest blob kept, as a share of the small frame's area.
        global_share: A frame with more than this share of changed pixels is a
            global change (lighting), not motion.
        dilate: Dilation passes (3x3, after one erosion that removes specks of
            noise) that join the pieces of one moving object.
        merge_gap: Blobs closer than this share of the small frame's width are merged.
    """

    width: int = 320
    sensitivity: float = 0.5
    background_rate: float = 0.05
    noise_rate: float = 0.1
    min_area: float = 0.0005
    global_share: float = 0.5
    dilate: int = 2
    merge_gap: float = 0.02

    def __post_init__(self) -> None:
        if self.width < 16:
            raise ValidationError(f"width must be >= 16, got {self.width}")
        if not 0.0 <= self.sensitivity <= 1.0:
            raise ValidationError(f"sensitivity must lie in [0, 1], got {self.sensitivity}")
        for name in ("background_rate", "noise_rate", "global_share"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValidationError(f"{name} must lie in (0, 1], got {value}")
        if not 0.0 <= self.min_area < 1.0 or self.dilate < 0 or self.merge_gap < 0:
            raise ValidationError("min_area must lie in [0, 1), dilate and merge_gap >= 0")

    @property
    def floor(self) -> float:
        """Smallest grey-level difference that counts as change."""
        return 40.0 - 30.0 * self.sensitivity

    @property
    def z(self) -> float:
        """How many noise levels above the noise a change must be."""
        return 5.0 - 2.0 * self.sensitivity


@dataclass(frozen=True, slots=True)
class Motion:
    """What moved in one frame.

    Attributes:
        boxes: Boxes of the moving blobs ``(N, 4)`` in frame pixels, float32.
        global_change: No usable motion: the first frame, or most of the
            picture changed at once; detect on the full frame.
        changed_share: Share of (not ignored) pixels that changed.
        threshold: Grey-level difference used on this frame.
    """

    boxes: npt.NDArray[np.float32]
    global_change: bool
    changed_share: float
    threshold: float


def _validate_polygon(polygon: Polygon) -> npt.NDArray[np.float64]:
    points = np.asarray(polygon, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] < 3:
        raise ValidationError(f"an ignore polygon needs >= 3 (x, y) points, got {points.shape}")
    if np.any(points < 0) or np.any(points > 1):
        raise ValidationError("ignore polygon points must be normalised to [0, 1]")
    return points


class MotionDetector:
    """Finds moving blobs frame after frame (keeps a background: one per camera, one thread).

    Args:
        settings: Thresholds and sizes.
        ignore: Polygons (normalised coordinates) where change never counts,
            e.g. a clock, a road outside the fence, trees in the wind.
    """

    def __init__(
        self, settings: MotionSettings | None = None, ignore: Sequence[Polygon] = ()
    ) -> None:
        self.settings = settings if settings is not None else MotionSettings()
        self._ignore = tuple(_validate_polygon(p) for p in ignore)
        self._background: npt.NDArray[np.float32] | None = None
        self._frame_shape: tuple[int, int] = (0, 0)
        self._keep: npt.NDArray[np.bool_] | None = None
        self._noise: float | None = None

    def reset(self) -> None:
        """Forget the background; the next frame is a global change."""
        self._background = None
        self._noise = None

    def _small(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        height, width = grey.shape[:2]
        if width > self.settings.width:
            size = (self.settings.width, max(1, round(height * self.settings.width / width)))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        blurred = cv2.GaussianBlur(grey, (5, 5), 0)
        return np.asarray(blurred, dtype=np.float32)

    def _keep_mask(self, shape: tuple[int, int]) -> npt.NDArray[np.bool_]:
        mask = np.zeros(shape, dtype=np.uint8)
        height, width = shape
        scale = np.asarray([width, height], dtype=np.float64)
        for polygon in self._ignore:
            points = np.round(polygon * scale).astype(np.int32)
            cv2.fillPoly(mask, [points], 1)
        return np.asarray(mask == 0, dtype=np.bool_)

    def update(self, image: npt.NDArray[np.uint8]) -> Motion:
        """Compare a frame (BGR or grey uint8, any size) with the background and learn from it."""
        if image.ndim not in (2, 3) or image.size == 0:
            raise ValidationError(f"image must be a non-empty (H, W[, 3]) array, got {image.shape}")
        small = self._small(image)
        frame_h, frame_w = image.shape[:2]
        empty = np.zeros((0, 4), dtype=np.float32)
        if self._background is None or self._frame_shape != (frame_h, frame_w):
            self._frame_shape = (frame_h, frame_w)
            self._background = small.copy()
            self._keep = self._keep_mask(small.shape[:2])
            self._noise = None
            return Motion(empty, global_change=True, changed_share=1.0, threshold=0.0)
        keep = self._keep if self._keep is not None else self._keep_mask(small.shape[:2])
        diff = np.abs(small - self._background)
        settings = self.settings
        kept = diff[keep]
        noise_now = float(np.median(kept)) * _MAD_TO_SIGMA if kept.size else 0.0
        noise = noise_now if self._noise is None else self._noise
        threshold = min(max(settings.floor, settings.z * noise), 3.0 * settings.floor)
        changed = (diff > threshold) & keep
        share = float(changed.sum()) / max(1, int(keep.sum()))
        # Half the pixels changing by more than the floor is no noise: a moving camera.
        if share > settings.global_share or noise_now > settings.floor:
            # Lighting changed or the camera moved, not the scene: start again from this picture.
            self._background = small.copy()
            self._noise = None
            return Motion(empty, global_change=True, changed_share=share, threshold=threshold)
        self._noise = noise + settings.noise_rate * (noise_now - noise)
        cv2.accumulateWeighted(small, self._background, settings.background_rate)
        boxes = self._blobs(changed)
        scale = np.asarray(
            [frame_w / small.shape[1], frame_h / small.shape[0]] * 2, dtype=np.float32
        )
        return Motion(
            boxes=(boxes * scale).astype(np.float32),
            global_change=False,
            changed_share=share,
            threshold=threshold,
        )

    def _blobs(self, changed: npt.NDArray[np.bool_]) -> npt.NDArray[np.float32]:
        settings = self.settings
        mask: npt.NDArray[np.uint8] = np.where(changed, 255, 0).astype(np.uint8)
        kernel = np.ones((3, 3), np.uint8)
        # An opening first: specks of noise vanish, objects lose a pixel the dilation gives back.
        mask = np.asarray(cv2.erode(mask, kernel), dtype=np.uint8)
        if settings.dilate:
            mask = np.asarray(cv2.dilate(mask, kernel, iterations=settings.dilate), dtype=np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_area = settings.min_area * mask.shape[0] * mask.shape[1]
        boxes = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if w * h >= min_area:
                boxes.append((x, y, x + w, y + h))
        found = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        return merge_boxes(found, settings.merge_gap * mask.shape[1])
