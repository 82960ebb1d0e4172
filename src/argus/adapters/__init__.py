"""Adapters: concrete implementations of the ports (files, ONNX Runtime, PyAV, OpenCV)."""
