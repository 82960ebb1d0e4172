"""``argus analyze``: detect, track, count and watch zones in a video or stream."""

from __future__ import annotations

import json
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import numpy.typing as npt
import typer
from tqdm import tqdm

from argus.bootstrap.container import Container, build_container
from argus.bootstrap.models import DetectorOptions
from argus.domain.analytics.recount import RecountLine, TrajectoryRecorder, recount
from argus.ports.render import Overlay, VideoWriter
from argus.scene import Scene, load_scene
from argus.services.analysis import AnalyzedFrame, Analyzer, SceneAnalytics

__all__ = ["analyze"]


def _detector_options(scene: Scene, container: Container) -> DetectorOptions:
    spec = scene.detect
    return DetectorOptions(
        model=spec.model or container.settings.default_model,
        input_size=spec.input_size,
        conf_threshold=spec.confidence,
        iou_threshold=spec.iou,
        classes=spec.classes,
        class_thresholds=spec.class_confidence or None,
    )


def _summary_table(analytics: SceneAnalytics | None) -> list[str]:
    if analytics is None:
        return []
    rows = []
    summary = analytics.summary()
    for overlay in analytics.line_overlays():
        stats = summary[overlay.name]
        per_class: Counter[str] = Counter()
        for label in (overlay.in_label, overlay.out_label):
            per_class.update(cast("dict[str, int]", stats[f"{label}_per_class"]))
        classes = ", ".join(f"{k} {v}" for k, v in sorted(per_class.items())) or "-"
        rows.append(
            f"  line {overlay.name:<16} {overlay.in_label} {overlay.in_count:>4}   "
            f"{overlay.out_label} {overlay.out_count:>4}   ({classes})"
        )
    for name, stats in summary.items():
        if stats["kind"] == "zone":
            rows.append(
                f"  zone {name:<16} now {stats['occupancy']:>3}   max {stats['max_occupancy']:>3}"
                f"   visits {stats['visits']:>4}"
            )
    return rows


MAX_TRAJECTORY_SAMPLES = 1_000_000
"""Boxes the re-count keeps (some 100 MB); later ones are left out and the report says so."""


def _recount_table(analytics: SceneAnalytics | None, paths: TrajectoryRecorder) -> list[str]:
    """Re-count every line over the whole run and print it beside the live count."""
    if analytics is None or not analytics.lines:
        return []
    specs = analytics.scene.lines
    tallies = recount(
        paths.trajectories(),
        [RecountLine(spec.name, spec.start, spec.end, spec.band_px) for spec in specs],
    )
    rows = []
    for spec, watched, tally in zip(specs, analytics.lines, tallies, strict=True):
        wanted = watched.class_ids
        count_in = sum(v for k, v in tally.in_per_class.items() if not wanted or k in wanted)
        count_out = sum(v for k, v in tally.out_per_class.items() if not wanted or k in wanted)
        rows.append(
            f"  line {spec.name:<16} re-counted {spec.in_label} {count_in:>4}   "
            f"{spec.out_label} {count_out:>4}   (live {watched.analytic.in_count}/"
            f"{watched.analytic.out_count})"
        )
    if paths.full_at is not None:
        rows.append(f"  re-count covers the stream up to t={paths.full_at:.1f}s (memory bound)")
    return rows


def _caption(result: AnalyzedFrame) -> str:
    return f"t={result.frame.timestamp:6.1f}s  tracks {len(result.detections)}"


class _Outputs:
    """Where each analysed frame goes: the events file, stdout, the annotated video."""

    def __init__(
        self,
        container: Container,
        stack: ExitStack,
        *,
        events_file: Path | None,
        annotate_file: Path | None,
        fps: float,
        echo_events: bool,
    ) -> None:
        self.counts: Counter[str] = Counter()
        self.last_image: npt.NDArray[np.uint8] | None = None
        self.paths = TrajectoryRecorder(MAX_TRAJECTORY_SAMPLES)
        self._echo = echo_events
        self._sink: IO[str] | None = None
        if events_file is not None:
            events_file.parent.mkdir(parents=True, exist_ok=True)
            self._sink = stack.enter_context(events_file.open("w", encoding="utf-8"))
        self._writer: VideoWriter | None = None
        if annotate_file is not None:
            self._writer = container.video_writer(annotate_file, fps)
            stack.callback(self._writer.close)
        self._annotator = container.annotator()

    def take(self, result: AnalyzedFrame, analytics: SceneAnalytics | None, bar: tqdm[Any]) -> None:
        self.paths.add(result.detections, result.frame.timestamp)
        for envelope in result.events:
            self.counts[envelope.type] += 1
            line = json.dumps(envelope.to_dict())
            if self._sink is not None:
                self._sink.write(line + "\n")
            if self._echo:
                bar.write(line)
        if self._sink is not None and result.events:
            self._sink.flush()
        if self._writer is not None and analytics is not None:
            overlay = Overlay(
                detections=result.detections,
                lines=analytics.line_overlays(),
                zones=analytics.zone_overlays(),
                caption=_caption(result),
            )
            self._writer.write(self._annotator.draw(result.frame.image, overlay))
        self.last_image = result.frame.image


def _report(analyzer: Analyzer, model_ref: str, fps: float, outputs: _Outputs) -> None:
    times = analyzer.times
    counts = outputs.counts
    typer.echo(f"{times.frames} frames analysed with {model_ref} at {fps:g} fps")
    for row in _summary_table(analyzer.analytics):
        typer.echo(row)
    for row in _recount_table(analyzer.analytics, outputs.paths):
        typer.echo(row)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    typer.echo(f"events: {summary}")
    if times.total > 0:
        shares = ", ".join(f"{k} {v / times.total:.0%}" for k, v in times.as_dict().items())
        typer.echo(f"pipeline: {times.frames / times.total:.1f} frames/s ({shares})")


def analyze(
    target: str = typer.Argument(..., help="Video file, rtsp:// or http:// URL, or 'demo'."),
    scene_file: Path = typer.Option(
        None, "--scene", help="Scene YAML: lines, zones, thresholds, model (see examples/)."
    ),
    events_file: Path = typer.Option(None, "--events", help="Write events here as JSON lines."),
    annotate_file: Path = typer.Option(
        None, "--annotate", help="Write an annotated video here (.mp4)."
    ),
    heatmap_file: Path = typer.Option(None, "--heatmap", help="Write the heatmap here (.png)."),
    max_frames: int = typer.Option(None, "--max-frames", min=1, help="Stop after N frames."),
    realtime: bool = typer.Option(False, "--realtime", help="Pace a file to real time."),
    loop: bool = typer.Option(False, "--loop", help="Loop a file forever (demo)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    as_json: bool = typer.Option(False, "--json", help="Print events as JSON lines on stdout."),
) -> None:
    """Run source -> detect -> track -> lines/zones/behaviour and report events and counts."""
    container = build_container()
    scene = load_scene(scene_file) if scene_file is not None else Scene()
    source_target: str | Path = container.demo_video() if target == "demo" else target
    if heatmap_file is not None and not scene.heatmap.enabled:
        raise typer.BadParameter("the scene disables the heatmap", param_hint="--heatmap")
    source_fps = container.frame_rate(source_target)
    fps = scene.detect.fps or source_fps or 10.0
    options: dict[str, Any] = {"realtime": True} if realtime else {}
    if loop:
        options["loop"] = True
    detector = container.gated(
        container.detector(_detector_options(scene, container)), scene.detect
    )
    analyzer = Analyzer(scene, detector, container.tracker(scene.tracker, fps))
    source = container.open_source(source_target, target_fps=scene.detect.fps, **options)
    total = None if loop else container.frame_count(source_target)
    if total is not None and scene.detect.fps and source_fps:
        total = int(total * min(1.0, scene.detect.fps / source_fps))
    if max_frames is not None:
        total = min(total or max_frames, max_frames)
    with ExitStack() as stack:
        outputs = _Outputs(
            container,
            stack,
            events_file=events_file,
            annotate_file=annotate_file,
            fps=fps,
            echo_events=as_json,
        )
        bar = stack.enter_context(
            tqdm(total=total, unit="frame", disable=not progress, dynamic_ncols=True)
        )
        for result in analyzer.run(source, max_frames=max_frames):
            bar.update(1)
            outputs.take(result, analyzer.analytics, bar)
    heatmap = analyzer.analytics.heatmap if analyzer.analytics is not None else None
    if heatmap_file is not None and heatmap is not None and outputs.last_image is not None:
        container.write_heatmap(heatmap_file, outputs.last_image, heatmap.values())
    _report(analyzer, detector.model_ref, fps, outputs)
    for label, path in (
        ("events", events_file),
        ("video", annotate_file),
        ("heatmap", heatmap_file),
    ):
        if path is not None:
            typer.echo(f"{label}: {path}")
