"""Sub-streams: CPU per camera with the main stream alone against main + detect sub-stream.

One camera at 5 analysed fps. Two files are made at the start from the
benchmark clip, re-timed to 25 fps as cameras send: a **main stream** scaled
up to 1440x1080 and a **sub-stream** at the clip's own 480x360, both H.264
(x264 veryfast, 2 s GOP, no B-frames). Costs are CPU time, measured per part
as fast as the part runs (so other load on the machine stretches wall time,
not the figures), then added up per camera:

* **main stream read**: decoding every frame, keeping 5 fps (main only) or
  10 fps (the tap of ``DualStreamSource``, two main frames per detect frame);
* **sub-stream read**: decoding the sub-stream, keeping 5 fps;
* **analysis**: the analyzer on the kept frames (yolov7-tiny at 416 px on one
  thread, Argus's tracker, examples/vtest.yaml in main-stream pixels),
  detecting on the main picture or on the sub-stream picture with the boxes
  mapped up; times 5 frames per second.

A check runs both sources end to end in real time for a few seconds
(``open_camera`` with and without ``detect_stream_url``) and reports the share
of one core each took.

    python -m benchmarks.substreams [--quick] [--seconds S]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks._common import (
    Section,
    find_video,
    fmt_ratio,
    machine_info,
    markdown_table,
    progress,
    ratio,
    render_report,
    run_section,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from argus.domain.frames import Frame
    from argus.scene import Scene

    Image = npt.NDArray[np.uint8]

__all__ = [
    "MAIN_ONLY",
    "WITH_SUB",
    "Costs",
    "analysis_cost",
    "main",
    "make_media",
    "read_cost",
    "realtime_share",
    "render",
    "run",
]

SECONDS = 30.0
QUICK_SECONDS = 6.0
FPS = 5.0
MAIN_SIZE = (1440, 1080)
SUB_SIZE = (480, 360)
RATE = 25
ANALYSIS_FRAMES = 60
QUICK_ANALYSIS_FRAMES = 15
CHECK_SECONDS = 10.0
MAIN_ONLY = "main only"
WITH_SUB = "main + sub-stream"


@dataclass(frozen=True)
class Costs:
    """CPU seconds per stream-second of each part, for one way of reading the camera."""

    mode: str
    main_read: float
    sub_read: float
    analysis: float
    realtime_share: float = float("nan")

    @property
    def total(self) -> float:
        """CPU seconds per stream-second of the whole camera (its share of one core)."""
        return self.main_read + self.sub_read + self.analysis


def make_media(clip: Path, directory: Path, limit: int | None) -> tuple[Path, Path]:
    """Write the main (1440x1080) and sub (480x360) H.264 files of ``clip`` at 25 fps."""
    import av

    paths = (directory / "main-1440x1080.mp4", directory / "sub-480x360.mp4")
    with av.open(str(clip)) as inp:
        outs = [av.open(str(p), mode="w") for p in paths]
        streams = []
        for out, size in zip(outs, (MAIN_SIZE, SUB_SIZE), strict=True):
            stream = out.add_stream("libx264", rate=Fraction(RATE))
            stream.width, stream.height = size
            stream.pix_fmt = "yuv420p"
            stream.options = {"preset": "veryfast", "g": str(2 * RATE), "bf": "0"}
            streams.append(stream)
        try:
            for index, frame in enumerate(inp.decode(video=0)):
                if limit is not None and index >= limit:
                    break
                for out, stream in zip(outs, streams, strict=True):
                    scaled = frame.reformat(
                        width=stream.width, height=stream.height, format="yuv420p"
                    )
                    scaled.pts = index
                    scaled.time_base = Fraction(1, RATE)
                    out.mux(stream.encode(scaled))
            for out, stream in zip(outs, streams, strict=True):
                out.mux(stream.encode(None))
        finally:
            for out in outs:
                out.close()
    return paths


def _scene_x3() -> Scene:
    import yaml

    from argus.scene import parse_scene
    from benchmarks._common import REPO_ROOT

    data = yaml.safe_load((REPO_ROOT / "examples" / "vtest.yaml").read_text(encoding="utf-8"))
    k = MAIN_SIZE[0] / SUB_SIZE[0]
    for line in data["lines"]:
        line["start"] = [v * k for v in line["start"]]
        line["end"] = [v * k for v in line["end"]]
    for zone in data["zones"]:
        zone["polygon"] = [[v * k for v in p] for p in zone["polygon"]]
    data["running"]["speed_px_s"] *= k
    return parse_scene(yaml.safe_dump(data), "vtest x3")


def read_cost(path: Path, fps: float, seconds: float) -> float:
    """CPU seconds per stream-second to decode ``path`` keeping ``fps`` frames per second."""
    from argus.adapters.video.factory import open_source

    source = open_source(path, target_fps=fps, source_id="bench", realtime=False, loop=True)
    cpu0 = time.process_time()
    try:
        for frame in source.frames():
            if frame.timestamp >= seconds:
                break
    finally:
        source.close()
    return (time.process_time() - cpu0) / seconds


def _kept(path: Path, count: int) -> list[Image]:
    from argus.adapters.video.factory import open_source

    source = open_source(path, target_fps=FPS, source_id="bench", realtime=False, loop=True)
    images: list[Image] = []
    try:
        for frame in source.frames():
            images.append(frame.image)
            if len(images) >= count:
                break
    finally:
        source.close()
    return images


class _Frames:
    """An in-memory ``VideoSource`` over prepared frames."""

    def __init__(self, frames: list[Frame]) -> None:
        from argus.domain.frames import SourceStats

        self.source_id = "bench"
        self.stats = SourceStats()
        self._frames = frames

    def frames(self) -> Iterator[Frame]:
        return iter(self._frames)

    def close(self) -> None:
        return None


def analysis_cost(main: Path, sub: Path, count: int) -> tuple[float, float]:
    """CPU seconds per analysed frame, detecting on the main picture and on the sub-stream's."""
    from argus.bootstrap.container import build_container
    from argus.bootstrap.models import DetectorOptions
    from argus.config import Settings
    from argus.domain.frames import Frame
    from argus.services.analysis import Analyzer

    big, small = _kept(main, count), _kept(sub, count)
    scene = _scene_x3()
    container = build_container(Settings())
    detector = container.detector(
        DetectorOptions(
            model="yolov7-tiny",
            input_size=416,
            classes=["person"],
            intra_op_threads=1,
            inter_op_threads=1,
        )
    )
    costs = []
    for with_sub in (False, True):
        frames = [
            Frame(b, i, i / FPS, "bench", detect_image=s if with_sub else None)
            for i, (b, s) in enumerate(zip(big, small, strict=True))
        ]
        analyzer = Analyzer(scene, detector, container.tracker(scene.tracker, FPS))
        next(iter(analyzer.run(_Frames(frames[:2]))))  # warm-up: first inference
        analyzer = Analyzer(scene, detector, container.tracker(scene.tracker, FPS))
        cpu0 = time.process_time()
        for _ in analyzer.run(_Frames(frames)):
            pass
        costs.append((time.process_time() - cpu0) / len(frames))
    return costs[0], costs[1]


def realtime_share(main: Path, sub: Path | None, seconds: float) -> float:
    """Share of one core the camera's source takes, played in real time for ``seconds``."""
    from argus.adapters.pipelines import SourceOptions, open_camera
    from argus.domain.cameras import Camera

    camera = Camera(
        id="bench",
        name="bench",
        stream_url=str(main),
        detect_stream_url=None if sub is None else str(sub),
        detect_fps=FPS,
    )
    source = open_camera(camera, SourceOptions(realtime_files=True, loop_files=True))
    started, cpu0 = time.perf_counter(), time.process_time()
    try:
        for _ in source.frames():
            if time.perf_counter() - started >= seconds:
                break
    finally:
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
        source.close()
    return cpu / wall


def render(results: Sequence[Costs], clip_note: str, seconds: float, frames: int) -> Section:
    """Turn the parts into a table per camera with the sub-stream's ratio to main-only."""
    by_mode = {c.mode: c for c in results}
    base = by_mode.get(MAIN_ONLY)

    def ms(value: float) -> str:
        return f"{value * 1e3:.1f}" if value else "-"

    rows = []
    for c in results:
        rows.append(
            [
                c.mode,
                ms(c.main_read),
                ms(c.sub_read),
                ms(c.analysis),
                ms(c.total),
                f"{100 * c.total:.1f}",
                fmt_ratio(ratio(c.total, base.total)) if base else "n/a",
                "n/a" if math.isnan(c.realtime_share) else f"{100 * c.realtime_share:.1f}",
            ]
        )
    table = markdown_table(
        [
            "camera read as",
            "main read",
            "sub-stream read",
            f"analysis ({FPS:g} fps)",
            "total",
            "% of one core",
            "vs main only",
            "sources in real time, % of a core",
        ],
        rows,
    )
    body = (
        f"Clip: {clip_note}, re-timed to {RATE} fps; main stream {MAIN_SIZE[0]}x{MAIN_SIZE[1]}, "
        f"sub-stream {SUB_SIZE[0]}x{SUB_SIZE[1]}; one camera at {FPS:g} analysed fps. Parts in "
        f"CPU-ms per stream-second: reads over {seconds:g} s of stream, analysis over {frames} "
        "frames. The main stream is decoded whole either way (every frame of an H.264 stream "
        "is needed to decode the next); what a sub-stream changes is the picture detection "
        "resizes, the frames the main tap keeps, and the sub-stream's own decoding.\n\n"
        + table
        + "\n"
    )
    headline = []
    sub = by_mode.get(WITH_SUB)
    if base and sub:
        headline.append(
            f"substreams: one {MAIN_SIZE[0]}x{MAIN_SIZE[1]} camera at {FPS:g} fps costs "
            f"{100 * base.total:.0f} % of a core main-only, {100 * sub.total:.0f} % with a "
            f"{SUB_SIZE[0]}x{SUB_SIZE[1]} sub-stream ({fmt_ratio(ratio(sub.total, base.total))})"
        )
    return Section("Sub-streams: CPU per camera, main only vs main + sub-stream", body, headline)


def run(quick: bool, seconds: float | None = None) -> Section:
    """Make the media, measure every part and return the section."""
    from argus.adapters.pipelines.sources import MAIN_TAP_RATIO

    clip, note = find_video()
    span = seconds if seconds is not None else (QUICK_SECONDS if quick else SECONDS)
    count = QUICK_ANALYSIS_FRAMES if quick else ANALYSIS_FRAMES
    check = min(span, CHECK_SECONDS)
    with tempfile.TemporaryDirectory(prefix="argus-substreams-") as tmp:
        progress(f"substreams: encoding the main and sub-stream files from {clip.name}")
        limit = int(RATE * max(span, count / FPS)) + RATE
        main, sub = make_media(clip, Path(tmp), limit=limit)
        progress("substreams: reads")
        main_5 = read_cost(main, FPS, span)
        main_10 = read_cost(main, FPS * MAIN_TAP_RATIO, span)
        sub_5 = read_cost(sub, FPS, span)
        progress("substreams: analysis")
        on_main, on_sub = analysis_cost(main, sub, count)
        progress("substreams: real-time check")
        share_main = realtime_share(main, None, check)
        share_sub = realtime_share(main, sub, check)
    results = [
        Costs(MAIN_ONLY, main_5, 0.0, on_main * FPS, share_main),
        Costs(WITH_SUB, main_10, sub_5, on_sub * FPS, share_sub),
    ]
    return render(results, note, span, count)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.substreams``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="shorter cases (noisier numbers)")
    parser.add_argument("--seconds", type=float, default=None, help="seconds of stream per case")
    args = parser.parse_args(argv)
    section = run_section(lambda quick: run(quick, args.seconds), bool(args.quick))
    print(render_report([section], machine_info(), bool(args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
