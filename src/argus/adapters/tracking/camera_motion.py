"""Camera motion between consecutive frames from sparse optical flow (OpenCV).

The previous frame, downscaled to a fixed width and turned grey, gets a few
hundred corners away from its detections' boxes; pyramidal Lucas-Kanade finds
them in the current frame, points that land in a current box are dropped, and
a RANSAC fit of a partial affine map (rotation, uniform scale, translation)
separates the background's motion from the people's. The map is returned in
full-resolution pixel coordinates, for ``ByteTracker.update(warp=...)``.

Downscaling keeps the cost at one to two milliseconds of CPU per frame
whatever the stream's resolution, and costs little accuracy: the flow is sub-pixel at the
small scale, so the error at full scale stays well under a pixel on a
textured view (see ``tests/unit/test_frame_cues.py``).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.errors import ValidationError

__all__ = ["SparseFlowMotion"]

Image = npt.NDArray[np.uint8]
Warp = npt.NDArray[np.float64]

_LK_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.01)


class SparseFlowMotion:
    """Estimates the global affine motion between consecutive frames of one stream.

    Implements ``argus.ports.tracker.CameraMotion``.

    Args:
        width: Width in pixels the frames are downscaled to (never upscaled).
        max_corners: Most corners tracked per frame.
        min_distance: Least distance between corners, in downscaled pixels.
        ransac_threshold: Largest reprojection error of an inlier, in
            downscaled pixels.
        min_inliers: Fewest inliers that make an estimate; fewer gives ``None``.
        box_margin: Share of a box's size its mask grows by on each side
            (limbs and shadows move with the person).
        window: Side of the Lucas-Kanade window, in downscaled pixels.
        levels: Pyramid levels above the base; with ``window`` they bound
            the motion found, about ``window / 2 * 2 ** levels`` downscaled
            pixels per frame.

    Raises:
        ValidationError: A parameter out of range.
    """

    def __init__(
        self,
        *,
        width: int = 320,
        max_corners: int = 300,
        min_distance: int = 8,
        ransac_threshold: float = 1.0,
        min_inliers: int = 12,
        box_margin: float = 0.1,
        window: int = 11,
        levels: int = 3,
    ) -> None:
        if width < 32:
            raise ValidationError(f"width must be at least 32, got {width}")
        if max_corners < 4 or min_inliers < 3:
            raise ValidationError("max_corners must be at least 4 and min_inliers at least 3")
        if window < 5 or not 0 <= levels <= 6:
            raise ValidationError("window must be at least 5 and levels in [0, 6]")
        if ransac_threshold <= 0 or box_margin < 0:
            raise ValidationError("ransac_threshold must be positive and box_margin non-negative")
        self.width = width
        self.max_corners = max_corners
        self.min_distance = min_distance
        self.ransac_threshold = ransac_threshold
        self.min_inliers = min_inliers
        self.box_margin = box_margin
        self.window = window
        self.levels = levels
        self.reset()

    def reset(self) -> None:
        """Forget the previous frame."""
        self._previous: Image | None = None
        self._previous_boxes: npt.NDArray[np.float32] | None = None
        self._size: tuple[int, int] | None = None

    def estimate(self, image: Image, detections: Detections | None = None) -> Warp | None:
        """Return the affine map from the previous frame given to this one.

        Args:
            image: This frame, BGR ``(H, W, 3)`` or grey ``(H, W)``, uint8.
            detections: This frame's detections, left out of the estimate.

        Returns:
            A ``(2, 3)`` float64 map in full-resolution pixels, or ``None`` on
            the first frame, after a change of frame size, and where too few
            background points agree (a blank, blurred or covered view).
        """
        grey, scale = self._downscale(image)
        boxes = None if detections is None else detections.xyxy * np.tile(scale, 2)
        previous, previous_boxes = self._previous, self._previous_boxes
        size = (int(image.shape[0]), int(image.shape[1]))
        same_size = self._size == size
        self._previous, self._previous_boxes, self._size = grey, boxes, size
        if previous is None or not same_size:
            return None
        return self._fit(previous, grey, previous_boxes, boxes, scale)

    def _downscale(self, image: Image) -> tuple[Image, npt.NDArray[np.float32]]:
        """The grey working image and its scale ``(sx, sy)`` from full resolution."""
        if image.ndim == 3:
            grey = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        elif image.ndim == 2:
            grey = image
        else:
            raise ValidationError(f"image must be (H, W) or (H, W, 3), got {image.shape}")
        height, width = grey.shape
        if width <= self.width:
            return np.ascontiguousarray(grey), np.ones(2, dtype=np.float32)
        size = (self.width, max(1, round(height * self.width / width)))
        small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        scale = np.array([size[0] / width, size[1] / height], dtype=np.float32)
        return np.asarray(small, dtype=np.uint8), scale

    def _mask(self, shape: tuple[int, ...], boxes: npt.NDArray[np.float32] | None) -> Image | None:
        if boxes is None or not len(boxes):
            return None
        mask = np.full(shape[:2], 255, dtype=np.uint8)
        for x1, y1, x2, y2 in self._grown(boxes, shape):
            mask[y1:y2, x1:x2] = 0
        return mask

    def _grown(
        self, boxes: npt.NDArray[np.float32], shape: tuple[int, ...]
    ) -> npt.NDArray[np.int64]:
        """Boxes grown by the margin, as integer corners clipped to the image."""
        wh = boxes[:, 2:] - boxes[:, :2]
        pad = np.concatenate((wh, wh), axis=1) * self.box_margin
        grown = boxes + pad * np.array([-1, -1, 1, 1], dtype=np.float32)
        limit = np.array([shape[1], shape[0], shape[1], shape[0]], dtype=np.float32)
        return np.clip(np.rint(grown), 0, limit).astype(np.int64)

    def _fit(
        self,
        previous: Image,
        current: Image,
        previous_boxes: npt.NDArray[np.float32] | None,
        boxes: npt.NDArray[np.float32] | None,
        scale: npt.NDArray[np.float32],
    ) -> Warp | None:
        # Corners are found at half the working size (a quarter of the cost, the
        # largest part of it): the flow is computed at full working size, and it
        # follows whatever patch it is given, so a point's position need not be exact.
        half = cv2.pyrDown(previous)
        half_scale = np.float32(0.5)
        found = cv2.goodFeaturesToTrack(
            half,
            maxCorners=self.max_corners,
            qualityLevel=0.01,
            minDistance=max(1, self.min_distance // 2),
            mask=self._mask(
                half.shape, None if previous_boxes is None else previous_boxes * half_scale
            ),
            blockSize=3,
        )
        if found is None or len(found) < self.min_inliers:
            return None
        corners = np.asarray(found, dtype=np.float32) * np.float32(2.0)
        moved, status, _ = cv2.calcOpticalFlowPyrLK(
            previous,
            current,
            corners,
            np.empty_like(corners),
            winSize=(self.window, self.window),
            maxLevel=self.levels,
            criteria=_LK_CRITERIA,
        )
        ok = status.reshape(-1).astype(bool)
        src, dst = corners.reshape(-1, 2)[ok], moved.reshape(-1, 2)[ok]
        if boxes is not None and len(boxes) and len(dst):
            src, dst = self._outside(src, dst, self._grown(boxes, current.shape))
        if len(src) < self.min_inliers:
            return None
        affine, inliers = cv2.estimateAffinePartial2D(
            src,
            dst,
            method=cv2.RANSAC,
            ransacReprojThreshold=self.ransac_threshold,
            maxIters=500,
            confidence=0.99,
        )
        if affine is None or inliers is None or int(inliers.sum()) < self.min_inliers:
            return None
        # With x_small = S x (S = diag(sx, sy)), the full-resolution map is
        # S^-1 A S for the linear part and S^-1 t for the shift.
        s = scale.astype(np.float64)
        warp = np.asarray(affine, dtype=np.float64)
        warp[:, :2] *= s[None, :] / s[:, None]
        warp[:, 2] /= s
        return warp

    @staticmethod
    def _outside(
        src: npt.NDArray[np.float32], dst: npt.NDArray[np.float32], boxes: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Keep the point pairs whose current point lies in no box."""
        x, y = dst[:, 0:1], dst[:, 1:2]
        inside = (x >= boxes[:, 0]) & (x < boxes[:, 2]) & (y >= boxes[:, 1]) & (y < boxes[:, 3])
        keep = ~inside.any(axis=1)
        return src[keep], dst[keep]
