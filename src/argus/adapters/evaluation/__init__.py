"""Evaluation of detectors on annotated sets (faster-coco-eval)."""
