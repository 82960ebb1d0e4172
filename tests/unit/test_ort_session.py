"""``open_session``: CPU sessions whose thread pools do not spin while idle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from argus.adapters.detectors.ort_session import open_session


def _identity(path: Path) -> Path:
    tensor = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])
    result = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "id", [tensor], [result]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def _spinning(session_options: object, pool: str) -> str:
    entry = getattr(session_options, "get_session_config_entry")  # noqa: B009
    value: str = entry(f"session.{pool}.allow_spinning")
    return value


def test_pool_threads_do_not_spin_unless_asked(tmp_path: Path) -> None:
    model = _identity(tmp_path / "id.onnx")
    quiet = open_session(model, intra_op_num_threads=2)
    assert _spinning(quiet.get_session_options(), "intra_op") == "0"
    assert _spinning(quiet.get_session_options(), "inter_op") == "0"
    x = np.arange(3, dtype=np.float32).reshape(1, 3)
    assert np.array_equal(quiet.run(None, {"x": x})[0], x)
    spinning = open_session(model, intra_op_num_threads=2, allow_spinning=True)
    assert _spinning(spinning.get_session_options(), "intra_op") == "1"
