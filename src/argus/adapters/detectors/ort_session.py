"""Opening ONNX Runtime sessions on the CPU, with its errors translated."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

from argus.domain.errors import ConfigError, ModelError

__all__ = ["ORT_ERRORS", "PROVIDERS", "open_session"]

PROVIDERS = ("CPUExecutionProvider",)
"""Argus runs detection on the CPU only; no other provider is ever tried."""

# ONNX Runtime's own exceptions derive from Exception directly, so they are listed.
ORT_ERRORS: tuple[type[BaseException], ...] = (
    ort_state.Fail,
    ort_state.InvalidArgument,
    ort_state.NoSuchFile,
    ort_state.NoModel,
    ort_state.EngineError,
    ort_state.RuntimeException,
    ort_state.InvalidProtobuf,
    ort_state.ModelLoaded,
    ort_state.NotImplemented,
    ort_state.InvalidGraph,
    ort_state.EPFail,
    RuntimeError,
    ValueError,
)


def open_session(
    model_path: str | Path,
    intra_op_num_threads: int | None = None,
    inter_op_num_threads: int | None = None,
    optimize: bool = True,
    allow_spinning: bool = False,
) -> ort.InferenceSession:
    """Open an ONNX model on the CPU execution provider.

    Args:
        model_path: The ``.onnx`` file.
        intra_op_num_threads: Threads inside an operator (``None`` or 0: one per core).
        inter_op_num_threads: Threads across operators (``None`` or 0: default).
        optimize: Apply every graph optimisation (off when only metadata is read).
        allow_spinning: Let the runtime's pool threads spin between operators and runs.
            Off by default: with two threads on a 2-core box, spinning cost 1.3 to 1.5
            times the CPU per image for the same images (benchmarks/shared_inference.py),
            time the other cameras' pipelines need.

    Returns:
        The session.

    Raises:
        ConfigError: A thread count is negative.
        ModelError: ONNX Runtime cannot load the model.
    """
    threads = (
        ("intra_op_num_threads", intra_op_num_threads),
        ("inter_op_num_threads", inter_op_num_threads),
    )
    for name, value in threads:
        if value is not None and value < 0:
            raise ConfigError(f"{name} must be >= 0, got {value}")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if optimize
        else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    if intra_op_num_threads is not None:
        options.intra_op_num_threads = intra_op_num_threads
    if inter_op_num_threads is not None:
        options.inter_op_num_threads = inter_op_num_threads
    spin = "1" if allow_spinning else "0"
    options.add_session_config_entry("session.intra_op.allow_spinning", spin)
    options.add_session_config_entry("session.inter_op.allow_spinning", spin)
    try:
        return ort.InferenceSession(str(model_path), options, providers=list(PROVIDERS))
    except ORT_ERRORS as exc:
        raise ModelError(f"cannot load ONNX model {model_path}: {exc}") from exc
