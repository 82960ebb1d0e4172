"""``argus analyze``: detect, track, count and watch zones in a video or stream."""

from __future__ import annotations

import json
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import typer
from tqdm import tqdm

from argus.bootstrap import Container, DetectorOptions, bootstrap
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
    for overlay in analytics.line_overlays():
        line = next(w for w in analytics.lines if w.name == overlay.name).analytic
        per_class = Counter(dict(line.in_count_per_class)) + Counter(dict(line.out_count_per_class))
        classes = ", ".join(f"{k} {v}" for k, v in sorted(per_class.items())) or "-"
        rows.append(
            f"  line {overlay.name:<16} {overlay.in_label} {overlay.in_count:>4}   "
            f"{overlay.out_label} {overlay.out_count:>4}   ({classes})"
        )
    for name, stats in analytics.summary().items():
        if stats["kind"] == "zone":
            rows.append(
                f"  zone {name:<16} now {stats['occupancy']:>3}   max {stats['max_occupancy']:>3}"
                f"   visits {stats['visits']:>4}"
            )
    return rows


def _caption(result: AnalyzedFrame) -> str:
    return f"t={result.frame.timestamp:6.1f}s  tracks {len(result.detections)}"


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
    container = bootstrap()
    scene = load_scene(scene_file) if scene_file is not None else Scene()
    source_target: str | Path = container.demo_video() if target == "demo" else target
    if heatmap_file is not None and not scene.heatmap.enabled:
        raise typer.BadParameter("the scene disables the heatmap", param_hint="--heatmap")
    source_fps = container.frame_rate(source_target)
    fps = scene.detect.fps or source_fps or 10.0
    options: dict[str, Any] = {"realtime": True} if realtime else {}
    if loop:
        options["loop"] = True
    detector = container.detector(_detector_options(scene, container))
    tracker = container.tracker(scene.tracker, fps)
    source = container.open_source(source_target, target_fps=scene.detect.fps, **options)
    analyzer = Analyzer(scene, detector, tracker)
    total = None if loop else container.frame_count(source_target)
    if total is not None and scene.detect.fps and source_fps:
        total = int(total * min(1.0, scene.detect.fps / source_fps))
    if max_frames is not None:
        total = min(total or max_frames, max_frames)
    counts: Counter[str] = Counter()
    last_image = None
    with ExitStack() as stack:
        sink: IO[str] | None = None
        if events_file is not None:
            events_file.parent.mkdir(parents=True, exist_ok=True)
            sink = stack.enter_context(events_file.open("w", encoding="utf-8"))
        writer: VideoWriter | None = None
        if annotate_file is not None:
            writer = container.video_writer(annotate_file, fps)
            stack.callback(writer.close)
        annotator = container.annotator()
        bar = stack.enter_context(
            tqdm(total=total, unit="frame", disable=not progress, dynamic_ncols=True)
        )
        for result in analyzer.run(source, max_frames=max_frames):
            bar.update(1)
            for envelope in result.events:
                counts[envelope.type] += 1
                line = json.dumps(envelope.to_dict())
                if sink is not None:
                    sink.write(line + "\n")
                if as_json:
                    bar.write(line)
            if sink is not None and result.events:
                sink.flush()
            if writer is not None and analyzer.analytics is not None:
                overlay = Overlay(
                    detections=result.detections,
                    lines=analyzer.analytics.line_overlays(),
                    zones=analyzer.analytics.zone_overlays(),
                    caption=_caption(result),
                )
                writer.write(annotator.draw(result.frame.image, overlay))
            last_image = result.frame.image
    analytics = analyzer.analytics
    if heatmap_file is not None and analytics is not None and analytics.heatmap is not None:
        if last_image is not None:
            container.write_heatmap(heatmap_file, last_image, analytics.heatmap.values())
    times = analyzer.times
    typer.echo(f"{times.frames} frames analysed with {detector.model_ref} at {fps:g} fps")
    for row in _summary_table(analytics):
        typer.echo(row)
    if counts:
        typer.echo("events: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    else:
        typer.echo("events: none")
    if times.total > 0:
        shares = ", ".join(f"{k} {v / times.total:.0%}" for k, v in times.as_dict().items())
        typer.echo(f"pipeline: {times.frames / times.total:.1f} frames/s ({shares})")
    for label, path in (("events", events_file), ("video", annotate_file), ("heatmap", heatmap_file)):
        if path is not None:
            typer.echo(f"{label}: {path}")
