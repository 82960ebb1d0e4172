"""Faulted MOTChallenge folders: read a source's ground truth, write a ``FaultedSequence``.

A written folder holds ``seqinfo.ini``, ``det/det.txt`` and ``gt/gt.txt`` in
the MOTChallenge layout, so ``load_sequence`` and TrackEval read it like any
sequence. Ground-truth rows that are not scored as pedestrians (MOT17
distractors) keep their ``considered`` flag and class, so MOT17 rules treat
them as in the source.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from argus.adapters.mot.format import read_frame_size, read_seqinfo
from argus.domain.errors import ValidationError
from argus.services.mot_faults import FaultedSequence, FaultLevel, corrupt

__all__ = ["fault_sequence", "read_truth_rows", "write_faulted"]


def read_truth_rows(seq_dir: Path) -> npt.NDArray[np.float64]:
    """Read ``gt/gt.txt`` as rows ``frame, id, x, y, w, h, considered, class, visibility``.

    Missing trailing columns default to 1 (MOT15 files have placeholders).

    Raises:
        ValidationError: The file is missing or a line is malformed.
    """
    path = Path(seq_dir) / "gt" / "gt.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ValidationError(f"{path}: missing (no ground truth to fault)") from exc
    rows: list[list[float]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        fields = line.replace(" ", "").split(",")
        try:
            values = [float(v) for v in fields[:9]]
        except ValueError as exc:
            raise ValidationError(f"{path}:{number}: not a number in {line!r}") from exc
        if len(values) < 6:
            raise ValidationError(f"{path}:{number}: expected frame,id,x,y,w,h,... got {line!r}")
        values += [1.0] * (9 - len(values))
        rows.append([1.0 if v == -1.0 and k >= 7 else v for k, v in enumerate(values)])
    return np.asarray(rows, dtype=np.float64).reshape(-1, 9)


def fault_sequence(seq_dir: Path, level: FaultLevel, seed: int) -> FaultedSequence:
    """Fault a MOTChallenge sequence folder's ground truth (see ``mot_faults.corrupt``)."""
    name, frame_rate, length = read_seqinfo(Path(seq_dir))
    width, height = read_frame_size(Path(seq_dir))
    return corrupt(
        read_truth_rows(Path(seq_dir)),
        name=name,
        frame_rate=frame_rate,
        width=width,
        height=height,
        level=level,
        seed=seed,
        length=length,
    )


def write_faulted(seq: FaultedSequence, root: Path) -> Path:
    """Write ``root/<seq.name>/`` (``seqinfo.ini``, ``det/det.txt``, ``gt/gt.txt``).

    Args:
        seq: The faulted sequence.
        root: Parent folder (created when missing).

    Returns:
        The sequence folder.
    """
    folder = Path(root) / seq.name
    (folder / "det").mkdir(parents=True, exist_ok=True)
    (folder / "gt").mkdir(parents=True, exist_ok=True)
    (folder / "seqinfo.ini").write_text(
        "[Sequence]\n"
        f"name={seq.name}\n"
        "imDir=img1\n"
        f"frameRate={seq.frame_rate:g}\n"
        f"seqLength={seq.length}\n"
        f"imWidth={seq.width}\n"
        f"imHeight={seq.height}\n"
        "imExt=.jpg\n",
        encoding="utf-8",
    )
    det = [
        f"{int(f)},-1,{x:.2f},{y:.2f},{w:.2f},{h:.2f},{s:.4f},-1,-1,-1\n"
        for f, x, y, w, h, s in seq.detections.tolist()
    ]
    (folder / "det" / "det.txt").write_text("".join(det), encoding="utf-8")
    gt = [(f, i, x, y, w, h, 1, 1) for f, i, x, y, w, h in seq.truth.tolist()]
    gt += [tuple(row) for row in seq.ignored.tolist()]
    gt.sort(key=lambda r: (r[0], r[1]))
    lines = [
        f"{int(f)},{int(i)},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{int(c)},{int(k)},1\n"
        for f, i, x, y, w, h, c, k in gt
    ]
    (folder / "gt" / "gt.txt").write_text("".join(lines), encoding="utf-8")
    return folder
