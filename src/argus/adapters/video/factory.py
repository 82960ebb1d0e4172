"""Choose the video adapter from a URL or a path."""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from argus.adapters.video._base import redact_url
from argus.adapters.video.file import FileSource
from argus.adapters.video.images import IMAGE_EXTENSIONS, ImageDirectorySource
from argus.adapters.video.mjpeg import MjpegSource
from argus.adapters.video.rtsp import RtspSource
from argus.adapters.video.sampled import SampledSource
from argus.adapters.video.snapshot import SnapshotSource
from argus.domain.errors import ConfigError, SourceOpenError
from argus.ports.video import VideoSource

__all__ = ["HttpMode", "open_source"]

HttpMode = Literal["auto", "mjpeg", "snapshot"]

_SOURCE_OPTIONS: dict[type, frozenset[str]] = {
    cls: frozenset(inspect.signature(cls).parameters) - {"self"}
    for cls in (FileSource, ImageDirectorySource, MjpegSource, RtspSource, SnapshotSource)
}


def open_source(
    target: str | os.PathLike[str],
    *,
    mode: HttpMode = "auto",
    target_fps: float | None = None,
    **options: Any,
) -> VideoSource:
    """Return the source that reads ``target``; no I/O happens until ``frames()``.

    The adapter follows from the target:

    * ``rtsp://``, ``rtsps://``: ``RtspSource`` (``transport="udp"`` or ``"tcp"``);
    * ``http://``, ``https://``: ``SnapshotSource`` with ``mode="snapshot"``, or
      in ``"auto"`` mode when the URL path ends in an image file name or in
      ``snapshot``; ``MjpegSource`` otherwise;
    * a directory: ``ImageDirectorySource``;
    * any other path (or ``file://`` URL): ``FileSource``.

    Args:
        target: URL or filesystem path.
        mode: How to read an HTTP URL.
        target_fps: Wrap the source in ``SampledSource`` at this rate when given.
        **options: Keyword arguments of the chosen adapter (``source_id``,
            ``transport``, ``max_retries``, ``realtime``, ``loop``...); the
            option ``rtsp_transport`` is accepted as ``transport``.

    Returns:
        A ``VideoSource``; the caller closes it.

    Raises:
        ConfigError: Unknown scheme, unknown option or bad option value.
        SourceOpenError: A local path that does not exist.
    """
    if mode not in ("auto", "mjpeg", "snapshot"):
        raise ConfigError(f"mode must be 'auto', 'mjpeg' or 'snapshot', got {mode!r}")
    text = os.fspath(target)
    scheme = urlsplit(text).scheme.lower()
    if mode != "auto" and scheme not in {"http", "https"}:
        raise ConfigError(f"mode={mode!r} applies to http(s) URLs only")
    if "rtsp_transport" in options:
        options["transport"] = options.pop("rtsp_transport")
    source: VideoSource
    if scheme in {"rtsp", "rtsps"}:
        source = _build(RtspSource, text, options)
    elif scheme in {"http", "https"}:
        adapter = _http_adapter(text, mode)
        source = _build(adapter, text, options)
    elif scheme == "file":
        source = _local_source(Path(unquote(urlsplit(text).path)), options)
    elif len(scheme) <= 1 or Path(text).exists():
        source = _local_source(Path(text), options)
    else:
        raise ConfigError(
            f"unsupported source {redact_url(text)!r}: use rtsp(s)://, http(s)://, "
            "a video file or a directory of images"
        )
    return SampledSource(source, target_fps) if target_fps is not None else source


def _http_adapter(url: str, mode: HttpMode) -> type[MjpegSource] | type[SnapshotSource]:
    if mode == "snapshot":
        return SnapshotSource
    if mode == "mjpeg":
        return MjpegSource
    path = urlsplit(url).path.lower().rstrip("/")
    is_still = path.endswith((*IMAGE_EXTENSIONS, "snapshot"))
    return SnapshotSource if is_still else MjpegSource


def _local_source(path: Path, options: dict[str, Any]) -> VideoSource:
    if path.is_dir():
        return _build(ImageDirectorySource, path, options)
    if not path.exists():
        raise SourceOpenError(f"{path}: no such file or directory")
    return _build(FileSource, path, options)


def _build(cls: type[Any], target: str | Path, options: dict[str, Any]) -> VideoSource:
    unknown = sorted(set(options) - _SOURCE_OPTIONS[cls])
    if unknown:
        accepted = ", ".join(sorted(_SOURCE_OPTIONS[cls] - {"url", "path", "directory"}))
        raise ConfigError(
            f"{cls.__name__} does not take option(s) {', '.join(unknown)}; it takes: {accepted}"
        )
    source: VideoSource = cls(target, **options)
    return source
