"""The segments on disk: names, JSON sidecars, a scan of the recordings root, deletion.

Layout under the recordings root::

    <camera_id>/<YYYY-MM-DD>/<camera_id>-<YYYYmmddTHHMMSS.fff>Z.mp4
    <camera_id>/<YYYY-MM-DD>/<camera_id>-<YYYYmmddTHHMMSS.fff>Z.mp4.json   (sidecar)

A recorder writes a segment under a ``.part`` name, writes the sidecar, then
renames the segment: a crash leaves at most a ``.part`` file (never listed)
or a sidecar without its segment (ignored), never a listed half segment.
A segment without a sidecar (copied in by hand, or from an older version) is
probed with PyAV; files that are neither are foreign and left alone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import av

from argus.domain.errors import ConfigError, ValidationError
from argus.domain.recording import Segment

__all__ = [
    "PART_SUFFIX",
    "SIDECAR_SUFFIX",
    "SegmentIndex",
    "check_camera_id",
    "read_sidecar",
    "segment_path",
    "write_sidecar",
]

_log = logging.getLogger(__name__)

PART_SUFFIX = ".part"
"""Suffix of a segment still being written."""
SIDECAR_SUFFIX = ".json"
"""Suffix appended to a segment's name for its metadata."""

_CAMERA_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_NAME = re.compile(r"^(?P<camera>.+)-(?P<stamp>\d{8}T\d{6}\.\d{3})Z\.mp4$")
_STAMP = "%Y%m%dT%H%M%S.%f"


def check_camera_id(camera_id: str) -> str:
    """Return ``camera_id`` if it is safe as a directory name.

    Raises:
        ConfigError: It is empty, too long, or holds characters other than
            letters, digits, ``_``, ``.`` and ``-`` (or starts with ``.``/``-``).
    """
    if not _CAMERA_ID.match(camera_id):
        raise ConfigError(f"camera id {camera_id!r} cannot name a recordings directory")
    return camera_id


def segment_path(camera_id: str, start: datetime) -> str:
    """Return the relative path of a segment of ``camera_id`` that starts at ``start``."""
    utc = start.astimezone(UTC)
    stamp = utc.strftime("%Y%m%dT%H%M%S") + f".{utc.microsecond // 1000:03d}"
    return f"{check_camera_id(camera_id)}/{utc:%Y-%m-%d}/{camera_id}-{stamp}Z.mp4"


def write_sidecar(root: Path, segment: Segment) -> Path:
    """Write the sidecar of ``segment`` atomically (temporary name, then rename)."""
    target = root / (segment.path + SIDECAR_SUFFIX)
    document = {
        "camera_id": segment.camera_id,
        "start": segment.start.isoformat(),
        "end": segment.end.isoformat(),
        "bytes": segment.bytes,
        "codec": segment.codec,
    }
    temporary = target.with_name(target.name + PART_SUFFIX)
    temporary.write_text(json.dumps(document, sort_keys=True), encoding="utf-8")
    temporary.replace(target)
    return target


def read_sidecar(root: Path, relative: str) -> Segment | None:
    """Return the segment described by the sidecar of ``relative``; ``None`` if unusable."""
    try:
        document = json.loads((root / (relative + SIDECAR_SUFFIX)).read_text(encoding="utf-8"))
        return Segment(
            camera_id=str(document["camera_id"]),
            start=datetime.fromisoformat(str(document["start"])),
            end=datetime.fromisoformat(str(document["end"])),
            path=relative,
            bytes=int(document["bytes"]),
            codec=str(document["codec"]),
        )
    except (OSError, ValueError, KeyError, TypeError, ValidationError):
        return None


def _probe(root: Path, relative: str, camera_id: str) -> Segment | None:
    """Describe a segment without a sidecar from its name and its header."""
    match = _NAME.match(Path(relative).name)
    if match is None or match["camera"] != camera_id:
        return None
    try:
        start = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
        path = root / relative
        with av.open(str(path), mode="r") as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            if stream.duration is not None and stream.time_base is not None:
                seconds = float(stream.duration * stream.time_base)
            else:
                seconds = (container.duration or 0) / 1_000_000
            codec = stream.codec_context.name
        return Segment(
            camera_id,
            start,
            start + timedelta(seconds=seconds),
            relative,
            path.stat().st_size,
            codec,
        )
    except (av.FFmpegError, OSError, ValueError, ValidationError):
        return None


class SegmentIndex:
    """The segments under one recordings root, found by scanning the directory.

    Args:
        root: The recordings root; created when missing.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        root.mkdir(parents=True, exist_ok=True)

    @property
    def root(self) -> Path:
        """The recordings root."""
        return self._root

    def scan(
        self, camera_id: str | None = None, *, days: Iterable[date] | None = None
    ) -> list[Segment]:
        """Return the closed segments (of one camera, or all), oldest first.

        Files that are not segments (foreign files, ``.part`` leftovers,
        unreadable MP4s, sidecars of deleted segments) are skipped.

        Args:
            camera_id: Only this camera's segments.
            days: Only the segments filed under these UTC dates (the day each
                starts on); ``None`` for every day. A timeline query reads a
                day or two of sidecars instead of the whole retention period.
        """
        cameras = [check_camera_id(camera_id)] if camera_id is not None else self._cameras()
        patterns = ["*/*.mp4"] if days is None else [f"{d:%Y-%m-%d}/*.mp4" for d in set(days)]
        found: list[Segment] = []
        for camera in cameras:
            base = self._root / camera
            if not base.is_dir():
                continue
            paths = sorted(p for pattern in patterns for p in base.glob(pattern))
            for path in paths:
                if not path.is_file():
                    continue
                relative = path.relative_to(self._root).as_posix()
                segment = read_sidecar(self._root, relative) or _probe(self._root, relative, camera)
                if segment is not None and segment.camera_id == camera:
                    found.append(segment)
        return sorted(found, key=lambda s: (s.start, s.path))

    def partials(self) -> list[Path]:
        """Return the ``.part`` files a crashed recorder left behind."""
        return sorted(p for p in self._root.glob(f"*/*/*{PART_SUFFIX}") if p.is_file())

    def discard_partials(self) -> tuple[int, int]:
        """Delete every ``.part`` file: call it only while nothing records or erases (at
        start). A crashed recorder's part has no MP4 index, so nothing can play it.

        Returns:
            The files deleted and the bytes freed.
        """
        files = freed = 0
        for path in self.partials():
            if path.is_symlink():
                continue  # never followed out of the root
            with contextlib.suppress(FileNotFoundError):
                size = path.stat().st_size
                path.unlink()
                files += 1
                freed += size
        return files, freed

    def delete(self, segments: Iterable[Segment]) -> int:
        """Delete segments and their sidecars; return the bytes freed.

        A segment already gone is skipped; a path that would leave the root
        is refused. Date directories left empty are removed.
        """
        root = self._root.resolve()
        freed = 0
        for segment in segments:
            path = (self._root / segment.path).resolve()
            if not path.is_relative_to(root) or path.suffix != ".mp4":
                _log.warning("refusing to delete %s: not a segment under %s", segment.path, root)
                continue
            try:
                size = path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                size = 0
            freed += size
            path.with_name(path.name + SIDECAR_SUFFIX).unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # not empty, or already removed
                path.parent.rmdir()
        return freed

    def _cameras(self) -> list[str]:
        return sorted(
            p.name for p in self._root.iterdir() if p.is_dir() and _CAMERA_ID.match(p.name)
        )
