"""The directory-of-images source."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pytest

from argus.adapters.video import ImageDirectorySource
from argus.domain.errors import ConfigError, SourceDecodeError, SourceOpenError
from argus.domain.frames import SourceState
from argus.ports.video import VideoSource

if TYPE_CHECKING:
    from tests.integration.conftest import Media


def test_reads_jpg_and_png_in_natural_order(media: Media, tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    names = ["frame10.png", "frame2.jpg", "frame1.JPG", "frame3.jpeg", "notes.txt"]
    for index, name in zip([10, 2, 1, 3, 0], names, strict=True):
        if name.endswith(".txt"):
            (folder / name).write_text("not an image")
        else:
            media.image(folder / name, index)
    source = ImageDirectorySource(folder, fps=10.0)
    assert isinstance(source, VideoSource)
    ordered = ["frame1.JPG", "frame2.jpg", "frame3.jpeg", "frame10.png"]
    assert [p.name for p in source.list_images()] == ordered
    with source:
        frames = list(source.frames())
    assert [f.index for f in frames] == [0, 1, 2, 3]
    assert [f.timestamp for f in frames] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    levels = [float(f.image.mean()) for f in frames]
    assert levels == pytest.approx([media.level(i) for i in (1, 2, 3, 10)], abs=3)
    assert all(f.image.shape == (120, 160, 3) and f.image.dtype == np.uint8 for f in frames)
    assert frames[0].source_id == "frames"
    assert source.stats.state is SourceState.ENDED
    assert (source.stats.frames_in, source.stats.frames_decoded) == (4, 4)


def test_unreadable_images_are_dropped_not_fatal(media: Media, tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    for index in range(5):
        media.image(folder / f"{index:03d}.jpg", index)
    (folder / "001.jpg").write_bytes(b"\xff\xd8 truncated jpeg")
    (folder / "003.jpg").write_bytes(np.random.default_rng(3).bytes(5000))
    (folder / "005.png").write_bytes(b"")
    source = ImageDirectorySource(folder)
    with source:
        frames = list(source.frames())
    assert len(frames) == 3
    assert [f.timestamp * 25 for f in frames] == pytest.approx([0, 2, 4])
    stats = source.stats
    assert (stats.frames_in, stats.frames_decoded, stats.frames_dropped) == (6, 3, 3)
    assert stats.last_error is not None
    assert "005.png" in stats.last_error
    assert stats.state is SourceState.ENDED


def test_grey_and_alpha_images_become_bgr(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), np.full((8, 8), 99, dtype=np.uint8))
    cv2.imwrite(str(folder / "b.png"), np.full((8, 8, 4), 77, dtype=np.uint8))
    cv2.imwrite(str(folder / "c.png"), np.full((8, 8, 3), 5000, dtype=np.uint16))
    with ImageDirectorySource(folder) as source:
        frames = list(source.frames())
    assert [f.image.shape for f in frames] == [(8, 8, 3)] * 3
    assert [int(f.image[0, 0, 0]) for f in frames] == [99, 77, 5000 >> 8]


def test_only_broken_images_is_a_decode_error(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"nope")
    source = ImageDirectorySource(folder)
    with source, pytest.raises(SourceDecodeError, match="none of 1 images"):
        list(source.frames())
    assert source.stats.state is SourceState.FAILED


def test_empty_or_missing_directory_is_an_open_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "missing"):
        source = ImageDirectorySource(folder)
        with source, pytest.raises(SourceOpenError):
            list(source.frames())
        assert source.stats.state is SourceState.FAILED


def test_extensions_can_be_chosen(media: Media, tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    media.image(folder / "a.jpg", 0)
    media.image(folder / "b.bmp", 1)
    with ImageDirectorySource(folder, extensions=[".BMP"]) as source:
        assert [p.name for p in source.list_images()] == ["b.bmp"]
        assert len(list(source.frames())) == 1


@pytest.mark.parametrize(
    "options",
    [{"fps": 0.0}, {"fps": float("inf")}, {"extensions": []}],
    ids=["zero-fps", "infinite-fps", "no-extensions"],
)
def test_bad_options_are_config_errors(tmp_path: Path, options: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        ImageDirectorySource(tmp_path, **options)  # type: ignore[arg-type]
