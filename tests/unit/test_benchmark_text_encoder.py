"""The text encoder benchmark is registered and renders fixed numbers (nothing timed)."""

from __future__ import annotations

import importlib

from benchmarks import text_encoder
from benchmarks.text_encoder import EncoderResult, IndexResult, descriptions, render


def test_registered_and_descriptions_are_deterministic() -> None:
    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["text_encoder"] is text_encoder.run
    assert descriptions(5) == descriptions(5)
    assert len(set(descriptions(200))) > 150


def test_render_gives_ratios_against_numpy_and_brute_force() -> None:
    encoders = [
        EncoderResult("numpy (reference)", 100.0, [0.02, 0.02], 0.0),
        EncoderResult("ONNX Runtime, 1 thread", 250.0, [0.01, 0.01], 2e-7),
    ]
    indexes = [
        IndexResult("memory", 10_000, 1.0, [0.002, 0.002], 1.0),
        IndexResult("usearch", 10_000, 2.0, [0.0005, 0.0005], 0.95),
    ]
    section = render(encoders, indexes)
    assert "2.50x" in section.body
    assert "0.25x" in section.body
    assert "| usearch, 10,000" in section.body
    assert section.headline == [
        "text_encoder: ONNX Runtime, 1 thread 250 sentences/s = 2.50x numpy",
        "text_encoder: usearch at 10,000 vectors p50 0.5 ms, recall@10 0.950",
    ]
