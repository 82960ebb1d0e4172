"""Annotated frames and the video writer, checked by decoding what they produce."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from argus.adapters.render.annotate import OpenCvAnnotator, track_colour
from argus.adapters.video.file import FileSource, probe_frame_count, probe_frame_rate
from argus.adapters.video.writer import VideoFileWriter
from argus.domain.errors import ConfigError
from argus.ports.render import LineOverlay, Overlay, ZoneOverlay
from tests.factories import make_detections


def _blank(height: int = 120, width: int = 160) -> np.ndarray:
    return np.zeros((height, width, 3), dtype=np.uint8)


def test_annotator_draws_boxes_lines_and_zones_on_a_copy() -> None:
    image = _blank()
    image.setflags(write=False)
    detections = make_detections([[20, 20, 60, 80]], class_id=[0]).with_tracker_ids(
        np.array([7], dtype=np.int64)
    )
    overlay = Overlay(
        detections=detections,
        lines=(LineOverlay("gate", (0, 100), (160, 100), "in", "out", 3, 1),),
        zones=(ZoneOverlay("yard", ((100, 10), (150, 10), (150, 60), (100, 60)), 2, alert=True),),
        caption="t=1.0s",
    )
    out = OpenCvAnnotator().draw(image, overlay)
    assert out.shape == image.shape
    assert not np.any(image)
    assert tuple(out[50, 20]) == track_colour(7)
    assert np.any(out[100, 40:120])
    assert np.any(out[30, 120])


def test_track_colours_are_stable_and_distinct() -> None:
    colours = {track_colour(i) for i in range(30)}
    assert len(colours) >= 25
    assert track_colour(5) == track_colour(5)
    assert track_colour(-1) == (160, 160, 160)


@pytest.mark.parametrize(("width", "height"), [(160, 120), (161, 121)], ids=["even", "odd"])
def test_writer_output_decodes_with_the_same_frame_count(
    tmp_path: Path, width: int, height: int
) -> None:
    path = tmp_path / "out.mp4"
    writer = VideoFileWriter(path, fps=10)
    for i in range(12):
        frame = _blank(height, width)
        frame[:, : (i + 1) * 10] = 200
        writer.write(frame)
    writer.close()
    writer.close()
    assert probe_frame_count(path) == 12
    assert probe_frame_rate(path) == pytest.approx(10)
    frames = list(FileSource(path).frames())
    assert len(frames) == 12
    assert frames[0].width == width + width % 2
    assert frames[5].image[height // 2, 30].mean() > 150


def test_writer_refuses_a_frame_of_another_size(tmp_path: Path) -> None:
    writer = VideoFileWriter(tmp_path / "out.mp4", fps=5)
    writer.write(_blank())
    with pytest.raises(ConfigError, match="differs"):
        writer.write(_blank(60, 80))
    writer.close()


@pytest.mark.parametrize(
    ("name", "fps", "message"),
    [("out.gif", 5.0, "write .mp4"), ("out.mp4", 0.0, "fps must be positive")],
    ids=["suffix", "fps"],
)
def test_writer_refuses_bad_options(tmp_path: Path, name: str, fps: float, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        VideoFileWriter(tmp_path / name, fps=fps)
