"""Video sources: files, RTSP cameras, HTTP MJPEG and snapshots, image directories.

Every class here implements ``argus.ports.video.VideoSource``. Pick one with
``open_source(url_or_path, **options)``, or build one directly.
"""

from argus.adapters.video.factory import HttpMode, open_source
from argus.adapters.video.file import FileSource
from argus.adapters.video.images import IMAGE_EXTENSIONS, ImageDirectorySource
from argus.adapters.video.mjpeg import MjpegSource
from argus.adapters.video.rtsp import RtspSource, Transport
from argus.adapters.video.sampled import SampledSource
from argus.adapters.video.snapshot import SnapshotSource

__all__ = [
    "IMAGE_EXTENSIONS",
    "FileSource",
    "HttpMode",
    "ImageDirectorySource",
    "MjpegSource",
    "RtspSource",
    "SampledSource",
    "SnapshotSource",
    "Transport",
    "open_source",
]
