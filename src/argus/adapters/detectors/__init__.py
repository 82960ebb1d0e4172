"""Detector adapters: YOLO-family ONNX models on ONNX Runtime, SSD on OpenCV DNN."""

from argus.adapters.detectors.layouts import Layout
from argus.adapters.detectors.names import load_class_names
from argus.adapters.detectors.onnx_yolo import OnnxYoloDetector
from argus.adapters.detectors.opencv_ssd import (
    OpenCvSsdDetector,
    SsdModelFiles,
    ssd_class_names,
    ssd_model_files,
)

__all__ = [
    "Layout",
    "OnnxYoloDetector",
    "OpenCvSsdDetector",
    "SsdModelFiles",
    "load_class_names",
    "ssd_class_names",
    "ssd_model_files",
]
