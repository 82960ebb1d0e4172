"""Motion detection on small grey frames (OpenCV), for motion-gated detection."""

from argus.adapters.motion.detector import Motion, MotionDetector, MotionSettings, Polygon

__all__ = ["Motion", "MotionDetector", "MotionSettings", "Polygon"]
