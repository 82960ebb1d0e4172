"""A directory of still images (JPEG, PNG) read in natural sort order."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from argus.adapters.video._base import BaseSource, Image
from argus.adapters.video._imaging import decode_image
from argus.domain.errors import ConfigError, SourceDecodeError, SourceOpenError
from argus.domain.frames import SourceState

__all__ = ["IMAGE_EXTENSIONS", "ImageDirectorySource"]

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png")
"""File name endings read by default (compared case-insensitively)."""

_DIGITS = re.compile(r"(\d+)")


def _natural_key(path: Path) -> tuple[tuple[int, int | str], ...]:
    """Sort key so that ``frame2.jpg`` comes before ``frame10.jpg``."""
    return tuple(
        (0, int(piece)) if piece.isdigit() else (1, piece)
        for piece in _DIGITS.split(path.name)
        if piece
    )


def _inside(path: Path, home: Path) -> bool:
    """Whether ``path``, with symlinks resolved, still lies in ``home``.

    A link to a file elsewhere is skipped: whoever may write into an image
    folder must not make the server read (and show) images from outside it.
    """
    try:
        return path.resolve(strict=True).parent == home
    except (OSError, RuntimeError):
        return False


class ImageDirectorySource(BaseSource):
    """Frames read from the image files of one directory (not recursive).

    Files are taken in natural order of their names (``2.jpg`` before
    ``10.jpg``). Symbolic links to files outside the directory are skipped.
    A file that cannot be read or decoded is counted as dropped
    with ``stats.last_error`` and skipped. Timestamps are ``position / fps``,
    where position counts every listed file, readable or not.

    Args:
        directory: The directory holding the images.
        source_id: Name in logs and frames; the directory name when ``None``.
        fps: Frame rate the images were taken at, for timestamps (> 0).
        extensions: File name endings to read, case-insensitive.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        source_id: str | None = None,
        fps: float = 25.0,
        extensions: Iterable[str] = IMAGE_EXTENSIONS,
    ) -> None:
        self._directory = Path(directory)
        super().__init__(source_id or self._directory.name or str(self._directory))
        if not (math.isfinite(fps) and fps > 0):
            raise ConfigError(f"fps must be a finite number > 0, got {fps}")
        self._fps = float(fps)
        self._extensions = frozenset(ext.lower() for ext in extensions)
        if not self._extensions:
            raise ConfigError("extensions must name at least one file type")

    @property
    def directory(self) -> Path:
        """The directory holding the images."""
        return self._directory

    def list_images(self) -> list[Path]:
        """Return the image files that will be read, in reading order.

        Raises:
            SourceOpenError: The directory does not exist or cannot be listed.
        """
        try:
            entries = list(self._directory.iterdir())
        except OSError as exc:
            raise SourceOpenError(f"{self._directory}: {exc.strerror or exc}") from exc
        home = self._directory.resolve()
        images = [
            p
            for p in entries
            if p.suffix.lower() in self._extensions and p.is_file() and _inside(p, home)
        ]
        return sorted(images, key=_natural_key)

    def _produce(self) -> Iterator[tuple[Image, float]]:
        paths = self.list_images()
        if not paths:
            raise SourceOpenError(
                f"{self._directory}: no image files ({', '.join(sorted(self._extensions))})"
            )
        self._set_state(SourceState.OPEN)
        for position, path in enumerate(paths):
            if self._stopped():
                return
            self._stats.frames_in += 1
            try:
                data = path.read_bytes()
            except OSError as exc:
                self._drop(f"{path.name}: {exc.strerror or exc}")
                continue
            image = decode_image(data)
            if image is None:
                self._drop(f"{path.name}: not a readable image")
                continue
            self._stats.frames_decoded += 1
            yield image, position / self._fps
        if self._stats.frames_decoded == 0:
            raise SourceDecodeError(
                f"{self._directory}: none of {len(paths)} images could be read "
                f"({self._stats.last_error})"
            )
