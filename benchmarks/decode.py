"""Decode speed: PyAV (raw and through Argus's FileSource) against OpenCV.

Every reader decodes the whole clip to BGR ``uint8`` arrays, open and close
included. The readers run in a rotating order inside each repetition (so a
slow moment of the machine hits all of them alike) after one untimed warm-up
pass each; the median fps over the repetitions is reported, and its ratio to
``cv2.VideoCapture`` measured in the same run.

    python -m benchmarks.decode [--quick]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._common import (
    Section,
    find_video,
    fmt_ratio,
    markdown_table,
    median,
    progress,
    quantile,
    ratio,
    run_main,
)

__all__ = ["READERS", "REFERENCE", "DecodeResult", "measure", "render", "run"]

REPEATS = 7
QUICK_REPEATS = 2

REFERENCE = "OpenCV cv2.VideoCapture"


def _opencv(path: Path) -> int:
    import cv2

    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise RuntimeError(f"OpenCV cannot open {path}")
    frames = 0
    try:
        while True:
            ok, _image = capture.read()
            if not ok:
                break
            frames += 1
    finally:
        capture.release()
    return frames


def _pyav(path: Path, thread_type: str | None) -> int:
    import av

    frames = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if thread_type is not None:
            stream.thread_type = thread_type
        for video_frame in container.decode(stream):
            video_frame.to_ndarray(format="bgr24")
            frames += 1
    return frames


def _pyav_shared_reformatter(path: Path) -> int:
    import av
    from av.video.reformatter import VideoReformatter

    reformatter = VideoReformatter()  # keeps its SwsContext from frame to frame
    frames = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for video_frame in container.decode(stream):
            reformatter.reformat(video_frame, format="bgr24").to_ndarray()
            frames += 1
    return frames


def _pyav_auto(path: Path) -> int:
    return _pyav(path, "AUTO")


def _pyav_default(path: Path) -> int:
    return _pyav(path, None)


def _file_source(path: Path) -> int:
    from argus.adapters.video.file import FileSource

    frames = 0
    with FileSource(path) as source:
        for _frame in source.frames():
            frames += 1
    return frames


READERS: dict[str, Callable[[Path], int]] = {
    REFERENCE: _opencv,
    "PyAV raw, to_ndarray(bgr24), thread_type=AUTO": _pyav_auto,
    "PyAV raw, to_ndarray(bgr24), default threading": _pyav_default,
    "Argus FileSource (PyAV, thread_type=AUTO)": _file_source,
    "PyAV raw, shared VideoReformatter (bgr24), thread_type=AUTO": _pyav_shared_reformatter,
}
"""The readers timed, reference first; each returns how many frames it decoded."""


@dataclass
class DecodeResult:
    """Timings of one reader: the frames of each pass and its seconds."""

    name: str
    frames: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def fps(self) -> list[float]:
        """Frames per second of each pass."""
        return [n / s for n, s in zip(self.frames, self.seconds, strict=True) if s > 0]


def measure(
    path: Path, repeats: int, readers: dict[str, Callable[[Path], int]] | None = None
) -> list[DecodeResult]:
    """Time every reader ``repeats`` times on ``path``, in rotating order."""
    readers = READERS if readers is None else readers
    names = list(readers)
    results = {name: DecodeResult(name) for name in names}
    for name in names:  # warm-up: page cache, codec and library initialisation
        readers[name](path)
    for rep in range(repeats):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            frames = readers[name](path)
            elapsed = time.perf_counter() - started
            results[name].frames.append(frames)
            results[name].seconds.append(elapsed)
        progress(f"decode: repetition {rep + 1}/{repeats} done")
    return [results[name] for name in names]


def render(results: Sequence[DecodeResult], clip_note: str, details: str = "") -> Section:
    """Turn timings into a markdown table of median fps and ratio to the reference."""
    reference = next((r for r in results if r.name == REFERENCE), results[0])
    ref_fps = median(reference.fps)
    rows = []
    for result in results:
        fps = median(result.fps)
        frames = sorted(set(result.frames))
        rows.append(
            [
                result.name + (" (reference)" if result is reference else ""),
                "/".join(map(str, frames)) or "0",
                f"{fps:.0f}",
                f"{quantile(result.fps, 0.25):.0f}-{quantile(result.fps, 0.75):.0f}",
                f"{1e3 / fps:.2f}" if fps > 0 else "n/a",
                fmt_ratio(ratio(fps, ref_fps)),
            ]
        )
    table = markdown_table(
        ["reader", "frames", "median fps", "fps p25-p75", "ms/frame", "fps vs OpenCV"], rows
    )
    repeats = len(reference.seconds)
    body = (
        f"Clip: {clip_note}{details}. {repeats} timed passes per reader (rotating order, "
        "after one warm-up pass each), whole clip decoded to BGR uint8, open and close "
        "included. Ratio > 1 means faster than OpenCV. `frame.to_ndarray(format=...)` "
        "makes a new swscale context for every frame; the last row reuses one "
        "`VideoReformatter` (same pixels) to show what that costs.\n\n" + table + "\n"
    )
    headline = []
    for result in results:
        if result is reference:
            continue
        if result.name.startswith("Argus") or "AUTO" in result.name:
            headline.append(
                f"decode: {result.name} {median(result.fps):.0f} fps = "
                f"{fmt_ratio(ratio(median(result.fps), ref_fps))} OpenCV ({ref_fps:.0f} fps)"
            )
    return Section("Decode (PyAV vs OpenCV)", body, headline)


def _clip_details(path: Path) -> str:
    try:
        import av

        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            return (
                f", {stream.codec_context.name} {stream.width}x{stream.height} "
                f"@ {float(stream.average_rate or 0):g} fps"
            )
    except Exception:  # noqa: BLE001 - a description only; the benchmark reports failures
        return ""


def run(quick: bool) -> Section:
    """Run the decode benchmark and return its section."""
    path, note = find_video()
    progress(f"decode: {note}")
    results = measure(path, QUICK_REPEATS if quick else REPEATS)
    return render(results, note, _clip_details(path))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.decode``."""
    return run_main("Decode fps: PyAV and FileSource vs OpenCV.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
