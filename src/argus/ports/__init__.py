"""Ports: the small interfaces services depend on; adapters implement them."""

from argus.ports.detector import Detector
from argus.ports.modelstore import FileProblem, ModelStore, PackBuilder
from argus.ports.video import VideoSource

__all__ = ["Detector", "FileProblem", "ModelStore", "PackBuilder", "VideoSource"]
