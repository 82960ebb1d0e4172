"""Output layouts of YOLO-family ONNX models, and how to decode them.

Every layout describes the first output of the model, a float tensor with a
batch dimension ``B``, ``N`` candidate boxes and ``C`` classes. Boxes are
``(cx, cy, w, h)`` in pixels of the square network input.

``yolov5`` (alias ``yolov7``)
    Shape ``(B, N, 5 + C)``; each row is ``[cx, cy, w, h, obj, s_0 .. s_C-1]``.
    The score of class ``k`` is ``obj * s_k`` (sigmoids already applied).
``yolov8`` (aliases ``yolov11``, ``yolo11``)
    Shape ``(B, 4 + C, N)``, transposed and without objectness: column ``i`` is
    ``[cx, cy, w, h, s_0 .. s_C-1]`` and the score of class ``k`` is ``s_k``.
``yolov8-rows``
    The same values as ``yolov8`` exported un-transposed, ``(B, N, 4 + C)``.

Auto-detection compares the last two dimensions with ``5 + C`` and ``4 + C``
(``C`` from the class names). Exactly one layout must match: a shape that fits
two (for example ``(1, 84, 85)`` with 80 classes) or none is refused with a
``DetectorError`` naming the shape seen and the shapes expected; pass the layout
explicitly in that case. Each box takes its best class only (no multi-label).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from argus.domain.errors import DetectorError

__all__ = ["DecodedBoxes", "Layout", "decode", "detect_layout", "parse_layout"]

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
Dim = int | str | None


class Layout(enum.StrEnum):
    """The output layouts Argus can decode."""

    YOLOV5 = "yolov5"
    YOLOV8 = "yolov8"
    YOLOV8_ROWS = "yolov8-rows"


_ALIASES: dict[str, Layout] = {
    "yolov5": Layout.YOLOV5,
    "yolov7": Layout.YOLOV5,
    "yolov8": Layout.YOLOV8,
    "yolov11": Layout.YOLOV8,
    "yolo11": Layout.YOLOV8,
    "yolov8-rows": Layout.YOLOV8_ROWS,
}


@dataclass(frozen=True, slots=True)
class DecodedBoxes:
    """Candidate boxes of one image, before thresholds and NMS.

    Attributes:
        xyxy: Corners ``(N, 4)`` float32 in network-input pixels.
        scores: Best class score per box, ``(N,)`` float32.
        class_id: Best class per box, ``(N,)`` int64.
    """

    xyxy: FloatArray
    scores: FloatArray
    class_id: IntArray


def parse_layout(name: str) -> Layout:
    """Return the layout for a name or alias (``yolov7``, ``yolov11``...).

    Raises:
        DetectorError: The name is unknown.
    """
    try:
        return _ALIASES[name.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(_ALIASES))
        raise DetectorError(f"unknown output layout {name!r}; known: {known}") from None


def _expected(num_classes: int) -> str:
    return (
        f"(B, N, {5 + num_classes}) for yolov5/yolov7, "
        f"(B, {4 + num_classes}, N) for yolov8/yolov11 or "
        f"(B, N, {4 + num_classes}) for yolov8-rows"
    )


def _matches(layout: Layout, shape: Sequence[Dim], num_classes: int) -> bool:
    middle, last = shape[1], shape[2]
    if layout is Layout.YOLOV5:
        return last == 5 + num_classes
    if layout is Layout.YOLOV8:
        return middle == 4 + num_classes
    return last == 4 + num_classes


def detect_layout(
    shape: Sequence[Dim], num_classes: int, layout: Layout | None = None
) -> Layout | None:
    """Work out (or check) the layout of an output shape.

    Args:
        shape: The output shape; symbolic or unknown dimensions may be strings or
            ``None`` (as ONNX Runtime reports dynamic axes).
        num_classes: Number of classes ``C``.
        layout: A layout chosen by the user, to be checked instead of guessed.

    Returns:
        The layout, or ``None`` when the dimensions that decide it are still
        unknown (a dynamic axis); decide again on a real output.

    Raises:
        DetectorError: The shape is not 3-D, fits no layout, or fits several.
    """
    if len(shape) != 3:
        raise DetectorError(
            f"model output has shape {tuple(shape)}, expected 3 dimensions: "
            f"{_expected(num_classes)}"
        )
    candidates = [layout] if layout is not None else list(Layout)
    fits = [c for c in candidates if _matches(c, shape, num_classes)]
    if len(fits) == 1:
        return fits[0]
    if not fits and not all(isinstance(d, int) for d in shape[1:]):
        return None
    problem = (
        "is ambiguous between " + " and ".join(f.value for f in fits)
        if fits
        else ("fits no known layout" if layout is None else f"does not fit layout {layout.value}")
    )
    hint = "; pass the layout explicitly" if fits else ""
    raise DetectorError(
        f"model output shape {tuple(shape)} {problem} for {num_classes} classes; "
        f"expected {_expected(num_classes)}{hint}"
    )


def decode(
    raw: npt.NDArray[np.floating],
    layout: Layout,
    num_classes: int,
    min_score: float = 0.0,
) -> DecodedBoxes:
    """Decode one image's slice of the model output.

    Args:
        raw: Output for one image: ``(N, 5 + C)``, ``(4 + C, N)`` or
            ``(N, 4 + C)`` depending on ``layout``.
        layout: The output layout.
        num_classes: Number of classes ``C``.
        min_score: Drop boxes whose best score is below this early (for
            ``yolov5`` rows are first screened on objectness, which bounds the
            score, so most of the work is skipped).

    Returns:
        The candidate boxes with their best class and score.

    Raises:
        DetectorError: The slice does not have the layout's shape.
    """
    width = (5 if layout is Layout.YOLOV5 else 4) + num_classes
    rows = raw.T if layout is Layout.YOLOV8 else raw
    if rows.ndim != 2 or rows.shape[1] != width:
        wanted = f"({width}, N)" if layout is Layout.YOLOV8 else f"(N, {width})"
        raise DetectorError(
            f"output slice has shape {raw.shape}, layout {layout.value} needs {wanted}"
        )
    rows = np.asarray(rows, dtype=np.float32)
    if layout is Layout.YOLOV5:
        rows = rows[rows[:, 4] >= min_score]
        class_scores = rows[:, 5:] * rows[:, 4:5]
    else:
        class_scores = rows[:, 4:]
    class_id = np.argmax(class_scores, axis=1).astype(np.int64)
    scores = np.take_along_axis(class_scores, class_id[:, None], axis=1)[:, 0]
    keep = scores >= min_score
    boxes, scores, class_id = rows[keep, :4], scores[keep], class_id[keep]
    half = boxes[:, 2:4] / 2
    xyxy = np.concatenate([boxes[:, 0:2] - half, boxes[:, 0:2] + half], axis=1)
    return DecodedBoxes(
        xyxy=xyxy.astype(np.float32),
        scores=scores.astype(np.float32),
        class_id=class_id,
    )
