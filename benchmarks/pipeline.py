"""Full pipeline fps: decode + detect + track + analytics, and the share of each stage.

The clip (``vtest.avi`` from ``../shared/eval/media`` when present, else
``bikes.mp4``) runs through ``Analyzer`` with the matching example scene
(``examples/vtest.yaml`` or ``examples/bikes.yaml``) at 416 px. The reference,
measured in the same run on the same clip and detector, is detection alone
(``detect_stream``: decode + detect): the ratio says what tracking, counting,
zones, behaviour and the heatmap cost on top. Runs alternate (reference, then
pipeline) and the medians of ``REPEATS`` runs are reported.

The yolov7-tiny pack is reused from ``$ARGUS_DATA_DIR`` when built there, else
built into a temporary directory.

    python -m benchmarks.pipeline [--quick]
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks._common import (
    Section,
    find_video,
    fmt_ratio,
    markdown_table,
    median,
    progress,
    ratio,
    run_main,
)

__all__ = ["PipelineRun", "main", "measure", "render", "run"]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REPEATS = 3
QUICK_FRAMES = 60
STAGES = ("decode", "detect", "track", "analytics")


@dataclass(frozen=True, slots=True)
class PipelineRun:
    """One pass over the clip.

    Attributes:
        frames: Frames processed.
        seconds: Wall time of the pass.
        stages: Seconds per stage (pipeline runs only).
        events: Events raised (pipeline runs only).
    """

    frames: int
    seconds: float
    stages: dict[str, float]
    events: int = 0

    @property
    def fps(self) -> float:
        """Frames per second over the pass."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def measure(
    video: Path, scene_file: Path, repeats: int, max_frames: int | None
) -> dict[str, list[PipelineRun]]:
    """Alternate detection-only and full-pipeline passes over ``video``."""
    from argus.bootstrap.container import build_container
    from argus.bootstrap.models import DetectorOptions
    from argus.config import Settings
    from argus.scene import load_scene
    from argus.services.analysis import Analyzer
    from argus.services.detection import detect_stream

    scene = load_scene(scene_file)
    runs: dict[str, list[PipelineRun]] = {"detect only": [], "pipeline": []}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(os.environ.get("ARGUS_DATA_DIR") or tmp)
        container = build_container(Settings(data_dir=data_dir))
        spec = scene.detect
        options = DetectorOptions(
            model=spec.model,
            input_size=416,
            conf_threshold=spec.confidence,
            iou_threshold=spec.iou,
            classes=spec.classes,
        )
        detector = container.detector(options)
        detector.detect(next(iter(container.open_source(video).frames())).image)
        fps = container.frame_rate(video) or 10.0
        for repeat in range(repeats):
            progress(f"pipeline: pass {repeat + 1}/{repeats}")
            started = time.perf_counter()
            frames = sum(
                1
                for _ in detect_stream(
                    container.open_source(video), detector, max_frames=max_frames
                )
            )
            runs["detect only"].append(PipelineRun(frames, time.perf_counter() - started, {}))
            analyzer = Analyzer(scene, detector, container.tracker(scene.tracker, fps))
            started = time.perf_counter()
            frames = sum(
                1 for _ in analyzer.run(container.open_source(video), max_frames=max_frames)
            )
            seconds = time.perf_counter() - started
            stages = {k: v for k, v in analyzer.times.as_dict().items() if k in STAGES}
            runs["pipeline"].append(PipelineRun(frames, seconds, stages, analyzer.events))
    return runs


def render(runs: dict[str, list[PipelineRun]], note: str, scene_name: str) -> Section:
    """Format the passes as a markdown section."""
    reference = median([r.fps for r in runs["detect only"]])
    pipeline = median([r.fps for r in runs["pipeline"]])
    rows: list[list[object]] = [
        ["detect only (decode + detect)", f"{reference:.1f}", fmt_ratio(1.0), "-"],
        [
            "pipeline (decode + detect + track + analytics)",
            f"{pipeline:.1f}",
            fmt_ratio(ratio(pipeline, reference)),
            str(runs["pipeline"][-1].events),
        ],
    ]
    stage_seconds = {s: median([r.stages[s] for r in runs["pipeline"]]) for s in STAGES}
    total = sum(stage_seconds.values()) or 1.0
    frames = runs["pipeline"][-1].frames or 1
    stage_rows = [
        [stage, f"{1000 * seconds / frames:.2f}", f"{seconds / total:.1%}"]
        for stage, seconds in stage_seconds.items()
    ]
    body = "\n".join(
        [
            f"Clip: {note}; scene `{scene_name}`; yolov7-tiny at 416 px; "
            f"median of {len(runs['pipeline'])} alternating passes of {frames} frames.",
            "",
            markdown_table(["run", "fps", "ratio vs detect only", "events"], rows),
            "",
            "Where the pipeline's time goes (per frame):",
            "",
            markdown_table(["stage", "ms/frame", "share"], stage_rows),
        ]
    )
    headline = [
        f"Full pipeline on {note.split(maxsplit=1)[0]}: {pipeline:.1f} fps, "
        f"{fmt_ratio(ratio(pipeline, reference))} of detection alone; "
        f"track + analytics {(stage_seconds['track'] + stage_seconds['analytics']) / total:.1%} "
        "of the time."
    ]
    return Section("Full pipeline", body, headline)


def run(quick: bool) -> Section:
    """Run the pipeline benchmark and return its section."""
    video, note = find_video()
    scene_file = EXAMPLES / ("vtest.yaml" if video.name == "vtest.avi" else "bikes.yaml")
    progress(f"pipeline: {note}, scene {scene_file.name}")
    runs = measure(video, scene_file, 1 if quick else REPEATS, QUICK_FRAMES if quick else None)
    return render(runs, note, f"examples/{scene_file.name}")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.pipeline``."""
    return run_main("Full pipeline fps and stage shares.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
