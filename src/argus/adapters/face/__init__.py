"""Face adapters: CenterFace detection and dlib ResNet descriptors on ONNX Runtime."""

from argus.adapters.face.align import extract_chip
from argus.adapters.face.centerface import CenterFaceDetector
from argus.adapters.face.dlib_resnet import DlibResnetEmbedder

__all__ = ["CenterFaceDetector", "DlibResnetEmbedder", "extract_chip"]
