"""File cameras for the edge node tests: vtest.avi as it is, and a copy whose view is covered.

``vtest.avi`` (PETS 2009, 480x360, 10 fps, 79.5 s) is a fixed campus view
with people walking across it; ``covered_clip`` keeps its first seconds and
then shows what a hand or a cap over the lens shows (an almost black,
featureless frame, with a little sensor noise so the image is not frozen), so
the node's tamper check raises ``camera.tamper`` once per loop of the file
and clears it when the view comes back.
"""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from tests.e2e.conftest import eval_media

__all__ = ["SQUARE_LINES", "SQUARE_ZONE", "covered_clip", "vtest_copy"]

SQUARE_LINES = {
    "middle": ((250.0, 80.0), (250.0, 300.0)),
    "west": ((150.0, 80.0), (150.0, 300.0)),
    "east": ((350.0, 80.0), (350.0, 300.0)),
}
"""Counting lines across the path: ``middle`` is that of ``examples/vtest.yaml``; the
other two add crossings (about one every 3 s of the clip at 5 fps, all three together)."""

SQUARE_ZONE = ((60.0, 150.0), (420.0, 150.0), (420.0, 330.0), (60.0, 330.0))
"""A zone over the busy middle of the square (more events per second than the line alone)."""


def vtest_copy(directory: Path) -> Path:
    """``vtest.avi`` copied into ``directory`` (a media directory of the test).

    Skips the test when ``../shared/eval`` is absent.
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "vtest.avi"
    if not target.exists():
        shutil.copyfile(eval_media("vtest.avi"), target)
    return target


def covered_clip(directory: Path, *, normal_s: float = 25.0, covered_s: float = 15.0) -> Path:
    """An H.264 mp4 of ``vtest.avi``'s first ``normal_s`` seconds, then ``covered_s`` covered.

    The covered frames are dark grey (level about 8) with faint random noise:
    uniform and black to the tamper check, but never two identical frames.
    Skips the test when ``../shared/eval`` is absent.
    """
    source = eval_media("vtest.avi")
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "vtest-covered.mp4"
    rng = np.random.default_rng(17)
    with av.open(str(source)) as reader, av.open(str(target), mode="w") as writer:
        video = reader.streams.video[0]
        fps = round(float(video.average_rate or 10))
        stream = writer.add_stream("libx264", rate=Fraction(fps))
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = video.codec_context.width, video.codec_context.height
        stream.pix_fmt = "yuv420p"
        stream.options = {"g": str(fps), "bf": "0", "crf": "20"}
        index = 0
        for frame in reader.decode(video):
            if index >= round(normal_s * fps):
                break
            image = np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)
            _write(writer, stream, image, index, fps)
            index += 1
        shape = (stream.height, stream.width, 3)
        for _ in range(round(covered_s * fps)):
            dark = rng.integers(5, 12, size=shape).astype(np.uint8)
            _write(writer, stream, dark, index, fps)
            index += 1
        for packet in stream.encode(None):
            writer.mux(packet)
    return target


def _write(
    writer: av.container.OutputContainer,
    stream: av.VideoStream,
    image: npt.NDArray[np.uint8],
    index: int,
    fps: int,
) -> None:
    frame = av.VideoFrame.from_ndarray(image, format="bgr24")
    frame.pts = index
    frame.time_base = Fraction(1, fps)
    for packet in stream.encode(frame):
        writer.mux(packet)
