"""The BERT encoder with mean pooling as an ONNX graph Argus builds (no torch export).

The graph is written node by node with ``onnx.helper`` from the safetensors
weights, as the YOLOv7 pack builder does, and computes what
:func:`argus.adapters.text.bert_numpy.encode_numpy` computes.

Graph contract:

* inputs ``input_ids`` and ``attention_mask``: int64 ``(batch, seq)``, both
  dimensions dynamic (``seq`` at most the model's position table);
* output ``embeddings``: float32 ``(batch, hidden)``, mean-pooled over the real
  tokens and L2-normalised.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from argus.adapters.text.minilm_files import BertConfig, Weights

__all__ = ["INPUTS", "OUTPUT", "build_graph"]

OPSET = 17  # LayerNormalization joined the default domain in opset 17
IR_VERSION = 8
INPUTS = ("input_ids", "attention_mask")
OUTPUT = "embeddings"


class _Builder:
    """Accumulates nodes and initializers under unique names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, hint: str, value: npt.ArrayLike, dtype: type = np.float32) -> str:
        name = self._name(hint)
        array: npt.NDArray[Any] = np.ascontiguousarray(np.asarray(value, dtype=dtype))
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str = "", **attrs: Any) -> str:
        out = self._name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def dense(self, x: str, weights: Weights, prefix: str) -> str:
        weight = self.const(f"{prefix}.weight.T", weights[f"{prefix}.weight"].T)
        bias = self.const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return self.op("Add", [self.op("MatMul", [x, weight]), bias])

    def layer_norm(self, x: str, weights: Weights, prefix: str, eps: float) -> str:
        scale = self.const(f"{prefix}.weight", weights[f"{prefix}.weight"])
        bias = self.const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return self.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=eps)


def _attention(b: _Builder, x: str, mask_bias: str, w: Weights, *, p: str, cfg: BertConfig) -> str:
    split_shape = b.const("heads_shape", [0, 0, cfg.heads, cfg.head_dim], np.int64)

    def heads(name: str, perm: list[int]) -> str:
        projected = b.dense(x, w, f"{p}.attention.self.{name}")
        return b.op("Transpose", [b.op("Reshape", [projected, split_shape])], perm=perm)

    query = heads("query", [0, 2, 1, 3])
    key_t = heads("key", [0, 2, 3, 1])
    value = heads("value", [0, 2, 1, 3])
    scale = b.const("scale", math.sqrt(cfg.head_dim))
    scores = b.op("Div", [b.op("MatMul", [query, key_t]), scale])
    probs = b.op("Softmax", [b.op("Add", [scores, mask_bias])], axis=-1)
    context = b.op("Transpose", [b.op("MatMul", [probs, value])], perm=[0, 2, 1, 3])
    merged_shape = b.const("merged_shape", [0, 0, cfg.hidden], np.int64)
    return b.op("Reshape", [context, merged_shape])


def _gelu(b: _Builder, x: str) -> str:
    erf = b.op("Erf", [b.op("Div", [x, b.const("sqrt2", math.sqrt(2.0))])])
    half_x = b.op("Mul", [x, b.const("half", 0.5)])
    return b.op("Mul", [half_x, b.op("Add", [erf, b.const("one", 1.0)])])


def _layer(b: _Builder, x: str, mask_bias: str, w: Weights, *, n: int, cfg: BertConfig) -> str:
    p = f"encoder.layer.{n}"
    attended = b.dense(
        _attention(b, x, mask_bias, w, p=p, cfg=cfg), w, f"{p}.attention.output.dense"
    )
    a = b.layer_norm(
        b.op("Add", [x, attended]), w, f"{p}.attention.output.LayerNorm", cfg.layer_norm_eps
    )
    inner = _gelu(b, b.dense(a, w, f"{p}.intermediate.dense"))
    out = b.op("Add", [a, b.dense(inner, w, f"{p}.output.dense")])
    return b.layer_norm(out, w, f"{p}.output.LayerNorm", cfg.layer_norm_eps)


def _embeddings(b: _Builder, w: Weights, cfg: BertConfig) -> str:
    words = b.op(
        "Gather", [b.const("word_embeddings", w["embeddings.word_embeddings.weight"]), INPUTS[0]]
    )
    seq = b.op("Shape", [INPUTS[0]], start=1, end=2)
    positions = b.op(
        "Slice",
        [
            b.const("position_embeddings", w["embeddings.position_embeddings.weight"]),
            b.const("zero", [0], np.int64),
            seq,
            b.const("axis0", [0], np.int64),
        ],
    )
    token_type = b.const("token_type_0", w["embeddings.token_type_embeddings.weight"][0])
    summed = b.op("Add", [b.op("Add", [words, positions]), token_type])
    return b.layer_norm(summed, w, "embeddings.LayerNorm", cfg.layer_norm_eps)


def build_graph(weights: Weights, config: BertConfig) -> onnx.ModelProto:
    """The encoder + mean pooling + L2 normalisation as a checked ONNX model."""
    b = _Builder()
    mask = b.op("Cast", [INPUTS[1]], to=TensorProto.FLOAT)
    padding = b.op("Sub", [b.const("one", 1.0), mask])
    smallest = b.const("smallest", np.finfo(np.float32).min)
    mask_bias = b.op(
        "Unsqueeze", [b.op("Mul", [padding, smallest]), b.const("axes12", [1, 2], np.int64)]
    )
    x = _embeddings(b, weights, config)
    for n in range(config.layers):
        x = _layer(b, x, mask_bias, weights, n=n, cfg=config)
    mask3 = b.op("Unsqueeze", [mask, b.const("axis2", [2], np.int64)])
    axis1 = b.const("axis1", [1], np.int64)
    summed = b.op("ReduceSum", [b.op("Mul", [x, mask3]), axis1], keepdims=0)
    count = b.op("Max", [b.op("ReduceSum", [mask, axis1], keepdims=1), b.const("tiny", 1e-9)])
    pooled = b.op("Div", [summed, count])
    norm = b.op("ReduceL2", [pooled], axes=[1], keepdims=1)  # axes an input from opset 18
    b.nodes.append(
        helper.make_node(
            "Div", [pooled, b.op("Max", [norm, b.const("eps", 1e-12)])], [OUTPUT], name=OUTPUT
        )
    )
    graph = helper.make_graph(
        b.nodes,
        "minilm_mean_pooled",
        [
            helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "seq"])
            for name in INPUTS
        ],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", config.hidden])],
        b.initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="argus",
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model, full_check=True)
    return model
