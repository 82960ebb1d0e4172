"""MOTChallenge sequence folders: ``seqinfo.ini``, ``det/det.txt``, ``gt/gt.txt``.

Detection and result lines are ``frame,id,x,y,w,h,conf,...`` with 1-based
frames and top-left boxes in pixels. Malformed lines raise ``ValidationError``
naming the file and line.
"""

from __future__ import annotations

import configparser
from pathlib import Path

import numpy as np
import numpy.typing as npt

from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.services.mot import MotSequence, TrackRows

__all__ = [
    "load_ground_truth",
    "load_sequence",
    "parse_detections",
    "read_frame_size",
    "read_seqinfo",
    "write_tracks",
]

PERSON = ("person",)
MIN_FIELDS = 7


def read_seqinfo(seq_dir: Path) -> tuple[str, float, int]:
    """Return the name, frame rate and length declared by ``seq_dir/seqinfo.ini``."""
    path = seq_dir / "seqinfo.ini"
    parser = configparser.ConfigParser()
    try:
        text = path.read_text(encoding="utf-8")
        parser.read_string(text, source=str(path))
        section = parser["Sequence"]
        name = section.get("name", seq_dir.name)
        frame_rate = float(section["frameRate"])
        length = int(section["seqLength"])
    except FileNotFoundError as exc:
        raise ValidationError(f"{path}: missing (not a MOTChallenge sequence folder)") from exc
    except (configparser.Error, KeyError, ValueError) as exc:
        raise ValidationError(
            f"{path}: needs a [Sequence] section with name, frameRate and seqLength ({exc})"
        ) from exc
    if frame_rate <= 0 or length < 0:
        raise ValidationError(f"{path}: frameRate must be positive and seqLength non-negative")
    return name, frame_rate, length


def parse_detections(text: str, source: str, length: int) -> list[Detections]:
    """Parse ``det.txt`` text into one ``Detections`` per frame ``1..length``.

    Scores are clipped into ``[0, 1]`` (some public detectors emit raw
    logits); ids in the file are ignored. Frames beyond ``length`` are an error.

    Args:
        text: The file's content.
        source: File name for error messages.
        length: Number of frames of the sequence.

    Raises:
        ValidationError: A line is malformed; the message names it.
    """
    frames: list[int] = []
    rows: list[tuple[float, float, float, float, float]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.replace(" ", "").split(",")
        if len(fields) < MIN_FIELDS:
            raise ValidationError(
                f"{source}:{number}: expected frame,id,x,y,w,h,conf,... got {line!r}"
            )
        try:
            frame = int(float(fields[0]))
            x, y, w, h, conf = (float(v) for v in fields[2:7])
        except ValueError as exc:
            raise ValidationError(f"{source}:{number}: not a number in {line!r}") from exc
        if not all(np.isfinite((x, y, w, h, conf))):
            raise ValidationError(f"{source}:{number}: NaN or infinite value in {line!r}")
        if frame < 1 or frame > length:
            raise ValidationError(f"{source}:{number}: frame {frame} outside 1..{length}")
        if w < 0 or h < 0:
            raise ValidationError(f"{source}:{number}: negative width or height in {line!r}")
        frames.append(frame)
        rows.append((x, y, w, h, conf))
    return _split(np.asarray(frames, dtype=np.int64), np.asarray(rows).reshape(-1, 5), length)


def _split(
    frames: npt.NDArray[np.int64], rows: npt.NDArray[np.float64], length: int
) -> list[Detections]:
    order = np.argsort(frames, kind="stable")
    frames, rows = frames[order], rows[order]
    xyxy = np.concatenate((rows[:, :2], rows[:, :2] + rows[:, 2:4]), axis=1).astype(np.float32)
    conf = np.clip(rows[:, 4], 0.0, 1.0).astype(np.float32)
    bounds = np.searchsorted(frames, np.arange(1, length + 2))
    out = []
    for i in range(length):
        lo, hi = int(bounds[i]), int(bounds[i + 1])
        out.append(
            Detections(
                xyxy=xyxy[lo:hi],
                confidence=conf[lo:hi],
                class_id=np.zeros(hi - lo, dtype=np.int64),
                class_names=PERSON,
                model="mot-public",
            )
        )
    return out


def _read(path: Path, missing: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ValidationError(f"{path}: missing ({missing})") from exc


def load_sequence(seq_dir: Path) -> MotSequence:
    """Read a MOTChallenge sequence folder (``seqinfo.ini`` and ``det/det.txt``)."""
    seq_dir = Path(seq_dir)
    name, frame_rate, length = read_seqinfo(seq_dir)
    det_path = seq_dir / "det" / "det.txt"
    text = _read(det_path, "no public detections")
    gt_path = seq_dir / "gt" / "gt.txt"
    return MotSequence(
        name=name,
        directory=seq_dir,
        frame_rate=frame_rate,
        frames=tuple(parse_detections(text, str(det_path), length)),
        has_ground_truth=gt_path.is_file(),
    )


def write_tracks(path: Path, rows: TrackRows) -> None:
    """Write tracker output as MOTChallenge result lines ``frame,id,x,y,w,h,1,-1,-1,-1``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{f},{i},{x1:.2f},{y1:.2f},{x2 - x1:.2f},{y2 - y1:.2f},1,-1,-1,-1\n"
        for f, i, (x1, y1, x2, y2) in zip(
            rows.frame.tolist(), rows.track_id.tolist(), rows.xyxy.tolist(), strict=True
        )
    ]
    path.write_text("".join(lines), encoding="utf-8")


def read_frame_size(seq_dir: Path) -> tuple[int, int]:
    """Return ``(width, height)`` declared by ``seq_dir/seqinfo.ini``."""
    path = Path(seq_dir) / "seqinfo.ini"
    parser = configparser.ConfigParser()
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
        return int(parser["Sequence"]["imWidth"]), int(parser["Sequence"]["imHeight"])
    except FileNotFoundError as exc:
        raise ValidationError(f"{path}: missing (not a MOTChallenge sequence folder)") from exc
    except (configparser.Error, KeyError, ValueError) as exc:
        raise ValidationError(f"{path}: needs imWidth and imHeight in [Sequence] ({exc})") from exc


def load_ground_truth(seq_dir: Path) -> list[Detections]:
    """Read ``gt/gt.txt`` as one ``Detections`` per frame, ground-truth ids as tracker ids.

    Rows marked as not to be considered (``conf`` column 0, e.g. MOT17's
    distractors) are left out.

    Raises:
        ValidationError: The file is missing or a line is malformed.
    """
    seq_dir = Path(seq_dir)
    _, _, length = read_seqinfo(seq_dir)
    path = seq_dir / "gt" / "gt.txt"
    text = _read(path, "no ground truth")
    frames: list[Detections] = []
    by_frame: dict[int, list[tuple[int, float, float, float, float]]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        fields = raw.replace(" ", "").split(",")
        if not raw.strip():
            continue
        if len(fields) < MIN_FIELDS:
            raise ValidationError(
                f"{path}:{number}: expected frame,id,x,y,w,h,conf,... got {raw!r}"
            )
        try:
            frame, track = int(float(fields[0])), int(float(fields[1]))
            x, y, w, h, considered = (float(v) for v in fields[2:7])
        except ValueError as exc:
            raise ValidationError(f"{path}:{number}: not a number in {raw!r}") from exc
        if not 1 <= frame <= length or w < 0 or h < 0:
            raise ValidationError(f"{path}:{number}: frame outside 1..{length} or negative size")
        if considered > 0:
            by_frame.setdefault(frame, []).append((track, x, y, w, h))
    for frame in range(1, length + 1):
        rows = np.asarray(by_frame.get(frame, []), dtype=np.float64).reshape(-1, 5)
        frames.append(
            Detections(
                xyxy=np.concatenate((rows[:, 1:3], rows[:, 1:3] + rows[:, 3:5]), axis=1),
                confidence=np.ones(len(rows), dtype=np.float32),
                class_id=np.zeros(len(rows), dtype=np.int64),
                tracker_id=rows[:, 0].astype(np.int64),
                class_names=PERSON,
                model="mot-ground-truth",
            )
        )
    return frames
