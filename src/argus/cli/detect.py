"""``argus detect``: detections in an image, a video file or a stream."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from tqdm import tqdm

from argus.bootstrap.container import Container, build_container
from argus.bootstrap.models import DetectorOptions
from argus.domain.detections import Detections
from argus.domain.errors import ConfigError
from argus.services.detection import detect_stream

__all__ = ["detect"]

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})


def _parse_thresholds(values: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for value in values:
        name, sep, number = value.partition("=")
        try:
            out[name.strip()] = float(number)
        except ValueError:
            sep = ""
        if not sep or not 0 <= out.get(name.strip(), -1) <= 1:
            raise ConfigError(f"--class-conf takes NAME=SCORE with SCORE in [0, 1], got {value!r}")
    return out


def _lines(detections: Detections) -> list[str]:
    return [
        f"  {d.label:<14} {d.confidence:.2f}  [{', '.join(f'{v:.0f}' for v in d.xyxy)}]"
        for d in detections
    ]


def _detect_image(
    container: Container, path: Path, options: DetectorOptions, as_json: bool
) -> None:
    detections = container.detector(options).detect(container.read_image(path))
    if as_json:
        typer.echo(json.dumps({"source": str(path), "detections": detections.to_records()}))
        return
    typer.echo(f"{path}: {len(detections)} detections ({detections.model})")
    for line in _lines(detections):
        typer.echo(line)


def detect(
    target: str = typer.Argument(
        ..., help="Image, video file, directory of images, rtsp:// or http:// URL, or 'demo'."
    ),
    model: str = typer.Option(
        None, "--model", "-m", help="Pack name or path to an .onnx file (default: yolov7-tiny)."
    ),
    size: int = typer.Option(None, "--size", "-s", help="Network input size (320, 416, 640)."),
    conf: float = typer.Option(0.25, "--conf", min=0.0, max=1.0, help="Minimum score."),
    iou: float = typer.Option(0.45, "--iou", min=0.0, max=1.0, help="NMS IoU threshold."),
    classes: str = typer.Option(None, "--classes", help="Comma-separated class names to keep."),
    class_conf: list[str] = typer.Option(
        None, "--class-conf", help="Per-class minimum score, NAME=SCORE (repeatable)."
    ),
    names_file: Path = typer.Option(None, "--names", help="Class names for a bare .onnx file."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per frame."),
    max_frames: int = typer.Option(None, "--max-frames", min=1, help="Stop after N frames."),
    fps: float = typer.Option(None, "--fps", min=0.01, help="Sample the source to this rate."),
    batch: int = typer.Option(1, "--batch", min=1, max=64, help="Frames per inference call."),
    realtime: bool = typer.Option(False, "--realtime", help="Pace a file to real time."),
    loop: bool = typer.Option(False, "--loop", help="Loop a file forever (demo)."),
    transport: str = typer.Option(None, "--transport", help="RTSP transport: tcp or udp."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Print detections (label, score, xyxy) for an image or every frame of a video."""
    container = build_container()
    options = DetectorOptions(
        model=model or container.settings.default_model,
        input_size=size,
        conf_threshold=conf,
        iou_threshold=iou,
        classes=[c.strip() for c in classes.split(",") if c.strip()] if classes else None,
        class_thresholds=_parse_thresholds(class_conf) if class_conf else None,
        names_file=names_file,
    )
    source_target: str | Path = container.demo_video() if target == "demo" else target
    if Path(source_target).suffix.lower() in IMAGE_SUFFIXES and Path(source_target).is_file():
        _detect_image(container, Path(source_target), options, as_json)
        return
    source_options: dict[str, Any] = {}
    if realtime:
        source_options["realtime"] = True
    if loop:
        source_options["loop"] = True
    if transport:
        source_options["transport"] = transport
    source = container.open_source(source_target, target_fps=fps, **source_options)
    detector = container.detector(options)
    total = None if loop else container.frame_count(source_target)
    if max_frames is not None:
        total = min(total or max_frames, max_frames)
    totals: Counter[str] = Counter()
    frames = 0
    bar = tqdm(total=total, unit="frame", disable=not progress or as_json, dynamic_ncols=True)
    with bar:
        for result in detect_stream(source, detector, batch_size=batch, max_frames=max_frames):
            frames += 1
            totals.update(result.detections.labels)
            bar.update(1)
            if as_json:
                record = {
                    "frame": result.frame.index,
                    "timestamp": round(result.frame.timestamp, 3),
                    "detections": result.detections.to_records(),
                }
                typer.echo(json.dumps(record))
            else:
                bar.write(
                    f"frame {result.frame.index} t={result.frame.timestamp:.2f}s: "
                    f"{len(result.detections)} detections"
                )
                for line in _lines(result.detections):
                    bar.write(line)
    if not as_json:
        summary = ", ".join(f"{label} {n}" for label, n in totals.most_common()) or "nothing"
        typer.echo(f"{frames} frames with {detector.model_ref}: {summary}")
        typer.echo(f"source stats: {json.dumps(source.stats.snapshot())}")
