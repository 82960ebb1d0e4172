"""Convert dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``) to ONNX.

The file (read by :mod:`.dlib_dnn`) stores layer parameters but not the network's
wiring: tag ids, skips and residual additions live in the C++ type of dlib's
``dnn_face_recognition_ex.cpp``, restated here as :func:`face_resnet_ops`::

    loss_metric<fc_no_bias<128, avg_pool_everything<
      alevel0<alevel1<alevel2<alevel3<alevel4<
      max_pool<3,3,2,2, relu<affine<con<32,7,7,2,2, input_rgb_image_sized<150>>>>>>>>>>>>>

with ``ares<N>`` = ``relu<add_prev1<block<N,1,tag1<>>>>``, ``ares_down<N>`` =
``relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,2,tag1<>>>>>>>`` and ``block`` =
``affine<con<N,3,3,1,1,relu<affine<con<N,3,3,stride,stride,>>>>>``. Every record
in the file is checked against that list (kind, filters, kernel, stride, padding)
and the run of wrapper versions must match its tags and skips, so a different
network fails loudly instead of converting wrongly.

Arithmetic as dlib does it: the input is ``(pixel - mean) / 256`` per RGB channel;
``affine`` (batch norm frozen into a scale and shift) is folded into the preceding
convolution; ``add_prev`` adds tensors of different shapes by treating missing
elements as zero (dlib's ``tt::add``), so the smaller operand is zero-padded at the
end of the channel, row and column axes; ``avg_pool_everything`` is a global mean.

Graph contract: input ``chips`` float32 ``(batch, 3, 150, 150)``, RGB 0..255 (an
aligned face chip, see :mod:`argus.domain.face_align`); output ``descriptors``
float32 ``(batch, 128)``, compared by Euclidean distance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from argus.adapters.modelpacks.distributions import distribution_file
from argus.adapters.modelpacks.dlib_dnn import DlibLayer, DlibNet, read_dlib_net
from argus.adapters.modelpacks.store import sha256_file
from argus.adapters.modelpacks.yolov7_onnx import IR_VERSION, OPSET, write_onnx
from argus.domain.errors import ConfigError, ModelBuildError
from argus.domain.models import ModelFile, ModelManifest

__all__ = [
    "DLIB_MODELS_DISTRIBUTION",
    "DlibResnetBuilder",
    "Op",
    "convert_dlib_resnet",
    "face_resnet_ops",
]

DLIB_MODELS_DISTRIBUTION = "face-recognition-models"
_RESNET_FILE = "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat"
INPUT_NAME = "chips"
OUTPUT_NAME = "descriptors"
CHIP_SIZE = 150
BUILDER_VERSION = "1"


@dataclass(frozen=True, slots=True)
class Op:
    """One step of the expected network, input side first.

    Attributes:
        kind: ``con``, ``affine``, ``relu``, ``max_pool``, ``avg_pool``, ``add_prev``,
            ``fc``, ``tag`` or ``skip``.
        n: Filters (``con``), outputs (``fc``) or tag id (``tag``, ``skip``, ``add_prev``).
        k: Kernel size (``con``, pools; ``0`` pools over everything).
        stride: Stride (``con``, pools).
    """

    kind: str
    n: int = 0
    k: int = 0
    stride: int = 1


def _block(n: int, stride: int) -> list[Op]:
    return [Op("con", n, 3, stride), Op("affine"), Op("relu"), Op("con", n, 3, 1), Op("affine")]


def _ares(n: int) -> list[Op]:
    return [Op("tag", 1), *_block(n, 1), Op("add_prev", 1), Op("relu")]


def _ares_down(n: int) -> list[Op]:
    tail = [Op("tag", 2), Op("skip", 1), Op("avg_pool", 0, 2, 2), Op("add_prev", 2), Op("relu")]
    return [Op("tag", 1), *_block(n, 2), *tail]


def face_resnet_ops() -> list[Op]:
    """The face-recognition ResNet of dlib's example, input side first."""
    ops = [Op("con", 32, 7, 2), Op("affine"), Op("relu"), Op("max_pool", 0, 3, 2)]
    ops += _ares(32) * 3  # alevel4
    ops += _ares_down(64) + _ares(64) * 3  # alevel3
    ops += _ares_down(128) + _ares(128) * 2  # alevel2
    ops += _ares_down(256) + _ares(256) * 2  # alevel1
    ops += _ares_down(256)  # alevel0
    return [*ops, Op("avg_pool", 0, 0, 1), Op("fc", 128)]


def _check(net: DlibNet, ops: Sequence[Op]) -> None:
    """Raise unless the file's wrappers and records are exactly ``ops``."""
    expected = [1 if op.kind in ("tag", "skip") else 2 for op in reversed(ops)]
    found = [1 if v == 1 else 2 for v in net.wrappers]
    if found != expected:
        raise ModelBuildError(
            f"the file's {len(found)} layers and tags do not match the face ResNet's "
            f"{len(expected)}: not dlib_face_recognition_resnet_model_v1"
        )
    computational = [op for op in ops if op.kind not in ("tag", "skip")]
    for i, (op, layer) in enumerate(zip(computational, net.layers, strict=True)):
        got = layer.ints
        ok = op.kind == layer.kind
        if ok and op.kind == "con":
            pad = op.k // 2 if op.stride == 1 else 0
            ok = (got["num_filters"], got["nr"], got["nc"]) == (op.n, op.k, op.k)
            ok = ok and (got["stride_y"], got["stride_x"]) == (op.stride, op.stride)
            ok = ok and (got["padding_y"], got["padding_x"]) == (pad, pad)
        elif ok and op.kind in ("max_pool", "avg_pool"):
            ok = (got["nr"], got["nc"], got["stride_y"], got["stride_x"]) == (
                op.k,
                op.k,
                op.stride,
                op.stride,
            ) and (got["padding_y"], got["padding_x"]) == (0, 0)
        elif ok and op.kind == "fc":
            ok = got["num_outputs"] == op.n and "biases" not in layer.arrays
        elif ok and op.kind == "affine":
            ok = layer.arrays["gamma"].shape[2:] == (1, 1)  # per channel (conv mode)
        if not ok:
            raise ModelBuildError(f"layer {i}: expected {op}, file has {layer.tag} {got}")
    if (net.input.rows, net.input.cols) != (CHIP_SIZE, CHIP_SIZE):
        raise ModelBuildError(f"input is {net.input.rows}x{net.input.cols}, expected 150x150")


class _Graph:
    """ONNX nodes and initializers with unique names, tracking static (C, H, W) shapes."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, hint: str, value: npt.ArrayLike, dtype: type = np.float32) -> str:
        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], **attrs: Any) -> str:
        out = self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out


Shape = tuple[int, int, int]


def _pool_out(size: int, k: int, stride: int) -> int:
    return 1 + (size - k) // stride


def _conv(g: _Graph, x: str, shape: Shape, con: DlibLayer, affine: DlibLayer) -> tuple[str, Shape]:
    w = con.arrays["filters"].astype(np.float64)
    b = con.arrays.get("biases", np.zeros(w.shape[0], np.float32)).astype(np.float64)
    gamma = affine.arrays["gamma"].reshape(-1).astype(np.float64)
    beta = affine.arrays["beta"].reshape(-1).astype(np.float64)
    if w.shape[1] != shape[0] or gamma.size != w.shape[0]:
        raise ModelBuildError(f"filters {w.shape} do not fit input {shape} / affine {gamma.size}")
    k, s, p = con.ints["nr"], con.ints["stride_y"], con.ints["padding_y"]
    y = g.op(
        "Conv",
        [x, g.const("w", w * gamma[:, None, None, None]), g.const("b", b * gamma + beta)],
        kernel_shape=[k, k],
        strides=[s, s],
        pads=[p, p, p, p],
    )
    return y, (w.shape[0], _pool_out(shape[1] + 2 * p, k, s), _pool_out(shape[2] + 2 * p, k, s))


def _pad_to(g: _Graph, x: str, shape: Shape, target: Shape) -> str:
    extra = [t - s for s, t in zip(shape, target, strict=True)]
    if not any(extra):
        return x
    pads = g.const("pads", [0, 0, 0, 0, 0, *extra], np.int64)
    return g.op("Pad", [x, pads], mode="constant")


def _emit(net: DlibNet, ops: Sequence[Op]) -> _Graph:
    g = _Graph()
    mean = np.asarray(net.input.mean_rgb, np.float32).reshape(1, 3, 1, 1)
    x = g.op("Mul", [g.op("Sub", [INPUT_NAME, g.const("mean", mean)]), g.const("inv256", 1 / 256)])
    shape: Shape = (3, CHIP_SIZE, CHIP_SIZE)
    tags: dict[int, tuple[str, Shape]] = {}
    layers = iter(net.layers)
    pending: DlibLayer | None = None
    for op in ops:
        if op.kind == "tag":
            tags[op.n] = (x, shape)
            continue
        if op.kind == "skip":
            x, shape = tags[op.n]
            continue
        layer = next(layers)
        if op.kind == "con":
            pending = layer
            continue
        if op.kind == "affine":
            if pending is None:
                raise ModelBuildError("an affine layer that does not follow a convolution")
            x, shape = _conv(g, x, shape, pending, layer)
            pending = None
        elif op.kind == "relu":
            x = g.op("Relu", [x])
        elif op.kind in ("max_pool", "avg_pool") and op.k:
            kind = "MaxPool" if op.kind == "max_pool" else "AveragePool"
            x = g.op(kind, [x], kernel_shape=[op.k, op.k], strides=[op.stride, op.stride])
            shape = (
                shape[0],
                _pool_out(shape[1], op.k, op.stride),
                _pool_out(shape[2], op.k, op.stride),
            )
        elif op.kind == "avg_pool":
            x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
            shape = (shape[0], 1, 1)
        elif op.kind == "add_prev":
            other, other_shape = tags[op.n]
            target = (
                max(shape[0], other_shape[0]),
                max(shape[1], other_shape[1]),
                max(shape[2], other_shape[2]),
            )
            x = g.op("Add", [_pad_to(g, x, shape, target), _pad_to(g, other, other_shape, target)])
            shape = target
        elif op.kind == "fc":
            weights = layer.arrays["weights"]
            if weights.shape[0] != shape[0] * shape[1] * shape[2]:
                raise ModelBuildError(f"fc takes {weights.shape[0]} inputs, gets {shape}")
            x = g.op("MatMul", [x, g.const("fc", weights)])
    g.nodes.append(helper.make_node("Identity", [x], [OUTPUT_NAME], name=OUTPUT_NAME))
    return g


def convert_dlib_resnet(net: DlibNet) -> onnx.ModelProto:
    """Build the ONNX graph of the face ResNet; see the module doc for the contract.

    Raises:
        ModelBuildError: ``net`` is not the expected network.
    """
    ops = face_resnet_ops()
    _check(net, ops)
    g = _emit(net, ops)
    n_out = int(net.layers[-1].ints["num_outputs"])
    graph = helper.make_graph(
        g.nodes,
        "dlib_face_resnet",
        [
            helper.make_tensor_value_info(
                INPUT_NAME, TensorProto.FLOAT, ["batch", 3, CHIP_SIZE, CHIP_SIZE]
            )
        ],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", n_out])],
        initializer=g.inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="argus",
        ir_version=IR_VERSION,
    )
    helper.set_model_props(
        model,
        {
            "chip_size": str(CHIP_SIZE),
            "descriptor_size": str(n_out),
            "source": "dlib_face_recognition_resnet_model_v1",
            "training_distance_threshold": f"{net.loss_params.get('distance_threshold', 0.6):.4f}",
        },
    )
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise ModelBuildError(f"generated ONNX graph is invalid: {exc}") from exc
    return model


class DlibResnetBuilder:
    """dlib's 128-d face descriptor ResNet (CC0), converted from ``face-recognition-models``."""

    name = "dlib-face-resnet"
    description = "dlib ResNet face descriptor, 128-d, 150x150 chips, ONNX Runtime (converted)"
    licence = "CC0-1.0"
    default_sizes: tuple[int, ...] = (CHIP_SIZE,)

    def build(self, out_dir: Path, sizes: Sequence[int]) -> ModelManifest:
        """Parse the dlib file, convert it and write ``dlib-face-resnet.onnx``."""
        if set(sizes) != {CHIP_SIZE}:
            raise ConfigError(f"{self.name} takes {CHIP_SIZE}x{CHIP_SIZE} chips only")
        source, version = distribution_file(DLIB_MODELS_DISTRIBUTION, _RESNET_FILE)
        model = convert_dlib_resnet(read_dlib_net(source))
        target = out_dir / f"{self.name}.onnx"
        write_onnx(model, target)
        return ModelManifest(
            name=self.name,
            version=f"1.0.{BUILDER_VERSION}",
            kind="face-embedder-onnx",
            source_package=DLIB_MODELS_DISTRIBUTION,
            source_version=version,
            licence=self.licence,
            class_names=(),
            files=(ModelFile(target.name, sha256_file(target), CHIP_SIZE, "model"),),
            created=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            notes=self.description,
            extra={"source_file": _RESNET_FILE, "source_sha256": sha256_file(source)},
        )
