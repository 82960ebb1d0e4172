"""Scores MOTChallenge result files with TrackEval (HOTA, CLEAR/MOTA, Identity/IDF1).

TrackEval reads a fixed folder layout; this adapter builds it from symbolic
links in a temporary folder, turns every printout and output file off, and
captures what TrackEval still prints. It reads local files only (it has no
download path).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from argus.domain.errors import ValidationError
from argus.ports.tracker import MotScores

__all__ = ["TrackEvalScorer"]

_COMBINED = "COMBINED_SEQ"


def _import_trackeval() -> Any:
    # TrackEval prints a notice about optional dependencies on import and uses
    # deprecated numpy/matplotlib spellings: keep both out of the caller's output.
    with (
        contextlib.redirect_stdout(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        import trackeval  # type: ignore[import-untyped]  # no stubs nor py.typed

    return trackeval


class TrackEvalScorer:
    """Implements ``MotScorer`` with TrackEval 1.3's MOTChallenge 2D box dataset."""

    def score(
        self,
        benchmark: str,
        sequences: Mapping[str, Path],
        results: Mapping[str, Mapping[str, Path]],
    ) -> dict[str, dict[str, MotScores]]:
        """Score every tracker on every sequence (see ``MotScorer.score``)."""
        trackeval = _import_trackeval()
        with tempfile.TemporaryDirectory(prefix="argus-trackeval-") as tmp:
            root = Path(tmp)
            gt_root, trackers_root = root / "gt", root / "trackers"
            lengths: dict[str, int] = {}
            for name, directory in sequences.items():
                gt = directory / "gt" / "gt.txt"
                if not gt.is_file():
                    raise ValidationError(f"{gt}: missing (ground truth is needed to score)")
                (gt_root / name).mkdir(parents=True)
                (gt_root / name / "gt").symlink_to(gt.parent.resolve(), target_is_directory=True)
                (gt_root / name / "seqinfo.ini").symlink_to((directory / "seqinfo.ini").resolve())
                lengths[name] = _seq_length(directory / "seqinfo.ini")
            for tracker, files in results.items():
                data = trackers_root / tracker / "data"
                data.mkdir(parents=True)
                for name in sequences:
                    (data / f"{name}.txt").symlink_to(files[name].resolve())
            dataset_config = {
                "GT_FOLDER": str(gt_root),
                "TRACKERS_FOLDER": str(trackers_root),
                "OUTPUT_FOLDER": str(root / "output"),
                "TRACKERS_TO_EVAL": list(results),
                "BENCHMARK": benchmark,
                "SPLIT_TO_EVAL": "train",
                "SKIP_SPLIT_FOL": True,
                "SEQ_INFO": lengths,
                "PRINT_CONFIG": False,
            }
            eval_config = {
                "USE_PARALLEL": False,
                "BREAK_ON_ERROR": True,
                "LOG_ON_ERROR": None,
                "PRINT_RESULTS": False,
                "PRINT_ONLY_COMBINED": True,
                "PRINT_CONFIG": False,
                "TIME_PROGRESS": False,
                "DISPLAY_LESS_PROGRESS": True,
                "OUTPUT_SUMMARY": False,
                "OUTPUT_EMPTY_CLASSES": False,
                "OUTPUT_DETAILED": False,
                "PLOT_CURVES": False,
            }
            metric_config = {"PRINT_CONFIG": False, "THRESHOLD": 0.5}
            with contextlib.redirect_stdout(io.StringIO()) as captured, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    evaluator = trackeval.Evaluator(eval_config)
                    dataset = trackeval.datasets.MotChallenge2DBox(dataset_config)
                    metrics = [
                        trackeval.metrics.HOTA(metric_config),
                        trackeval.metrics.CLEAR(metric_config),
                        trackeval.metrics.Identity(metric_config),
                    ]
                    output, _ = evaluator.evaluate([dataset], metrics)
                except Exception as exc:  # TrackEval raises bare Exception subclasses
                    printed = captured.getvalue()[-2000:]
                    raise ValidationError(
                        f"TrackEval could not score the results: {exc}\n{printed}"
                    ) from exc
        per_tracker = output["MotChallenge2DBox"]
        scored: dict[str, dict[str, MotScores]] = {}
        for tracker in results:
            if tracker not in per_tracker:
                raise ValidationError(f"TrackEval did not score tracker {tracker}")
            scored[tracker] = {
                ("COMBINED" if seq == _COMBINED else seq): _scores(res["pedestrian"])
                for seq, res in per_tracker[tracker].items()
            }
        return scored


def _seq_length(path: Path) -> int:
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "seqLength":
            return int(value.strip())
    raise ValidationError(f"{path}: no seqLength")


def _scores(metrics: Mapping[str, Mapping[str, Any]]) -> MotScores:
    hota = metrics["HOTA"]["HOTA"]
    return MotScores(
        hota=100.0 * float(sum(hota) / len(hota)),
        mota=100.0 * float(metrics["CLEAR"]["MOTA"]),
        idf1=100.0 * float(metrics["Identity"]["IDF1"]),
        id_switches=int(metrics["CLEAR"]["IDSW"]),
    )
