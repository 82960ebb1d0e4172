"""Convert a YOLOv7 checkpoint (read by :mod:`.torch_pickle`) to ONNX, without torch.

The topology comes from the architecture dict stored in the checkpoint
(``model.yaml``: ``backbone`` + ``head`` rows of ``[from, number, module, args]``);
each row is cross-checked against the pickled layer record, whose attributes give
the exact hyper-parameters (kernel, stride, padding, pooling, activation slope).
Weights are the pickled tensors as float32, with BatchNorm folded into the
preceding convolution and YOLOR implicit layers folded into the head convolutions.

Graph contract (what the detector relies on):

* input ``images``: float32 ``(batch, 3, S, S)``, RGB, 0..1, letterboxed (pad 114);
  ``batch`` is a dynamic dimension;
* output ``output``: float32 ``(batch, N, 5 + nc)`` with rows
  ``[cx, cy, w, h, objectness, class scores...]``, boxes in input pixels, sigmoid
  applied, no NMS; ``N = na * sum((S / stride)^2)`` over the three levels, ordered
  level, anchor, grid row, grid column (as YOLOv7's own export);
* metadata ``names`` (JSON list), ``stride`` (max stride), ``strides`` (JSON list),
  ``input_size`` and ``layout`` (``yolov5``: the box + objectness + classes layout).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from argus.adapters.modelpacks.torch_pickle import Checkpoint, ModuleRecord, load_checkpoint
from argus.domain.errors import ModelBuildError

__all__ = ["OPSET", "convert_checkpoint", "convert_yolov7", "write_onnx"]

OPSET = 17
IR_VERSION = 8  # the oldest IR that carries opset 17: loads in every onnxruntime >= 1.14
INPUT_NAME = "images"
OUTPUT_NAME = "output"


class _Graph:
    """Accumulates ONNX nodes and float32 initializers under unique names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, hint: str, value: npt.ArrayLike, dtype: type = np.float32) -> str:
        name = self._name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def split(self, x: str, sizes: Sequence[int], axis: int) -> list[str]:
        outs = [self._name("split") for _ in sizes]
        parts = self.const("sizes", list(sizes), dtype=np.int64)
        self.nodes.append(helper.make_node("Split", [x, parts], outs, name=outs[0], axis=axis))
        return outs

    def op(self, op_type: str, inputs: Sequence[str], hint: str = "", **attrs: Any) -> str:
        out = self._name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out


def _pair(value: object) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    if (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, int) for v in value)
    ):
        return int(value[0]), int(value[1])
    raise ModelBuildError(f"expected an int or a pair of ints, got {value!r}")


def _tensor(record: ModuleRecord, name: str) -> npt.NDArray[np.float64]:
    arr = record.tensors.get(name)
    if arr is None:
        raise ModelBuildError(f"{record.class_path} has no tensor {name!r}")
    return arr.astype(np.float64)


def _fold_bn(
    weight: npt.NDArray[np.float64], bias: npt.NDArray[np.float64], bn: ModuleRecord
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    eps = float(bn.get("eps", 1e-5))
    mean, var = _tensor(bn, "running_mean"), _tensor(bn, "running_var")
    gamma = _tensor(bn, "weight") if "weight" in bn.tensors else np.ones_like(mean)
    beta = _tensor(bn, "bias") if "bias" in bn.tensors else np.zeros_like(mean)
    scale = gamma / np.sqrt(var + eps)
    return weight * scale[:, None, None, None], (bias - mean) * scale + beta


def _conv2d(
    g: _Graph,
    x: str,
    conv: ModuleRecord,
    *,
    bn: ModuleRecord | None = None,
    weight: npt.NDArray[np.float64] | None = None,
    bias: npt.NDArray[np.float64] | None = None,
) -> str:
    """Emit one Conv node for an ``nn.Conv2d`` record, folding ``bn`` if given."""
    if conv.class_name != "Conv2d" or conv.get("padding_mode", "zeros") != "zeros":
        raise ModelBuildError(f"unsupported convolution {conv.class_path}")
    w = _tensor(conv, "weight") if weight is None else weight
    if bias is None:
        bias = _tensor(conv, "bias") if "bias" in conv.tensors else np.zeros(w.shape[0])
    if bn is not None:
        w, bias = _fold_bn(w, bias, bn)
    ph, pw = _pair(conv.get("padding"))
    return g.op(
        "Conv",
        [x, g.const("w", w), g.const("b", bias)],
        kernel_shape=list(w.shape[2:]),
        strides=list(_pair(conv.get("stride"))),
        pads=[ph, pw, ph, pw],
        dilations=list(_pair(conv.get("dilation", 1))),
        group=int(conv.get("groups", 1)),
    )


def _activation(g: _Graph, x: str, act: ModuleRecord | None) -> str:
    kind = "Identity" if act is None else act.class_name
    if kind == "LeakyReLU":
        assert act is not None
        return g.op("LeakyRelu", [x], alpha=float(act.get("negative_slope", 0.01)))
    if kind == "SiLU":
        return g.op("Mul", [x, g.op("Sigmoid", [x])], hint="silu")
    if kind in ("ReLU", "Sigmoid"):
        return g.op("Relu" if kind == "ReLU" else "Sigmoid", [x])
    if kind == "Identity":
        return x
    raise ModelBuildError(f"unsupported activation {kind}")


def _conv_block(g: _Graph, x: str, rec: ModuleRecord) -> str:
    """``models.common.Conv``: Conv2d (+ BatchNorm2d, unless already fused) + activation."""
    kids = rec.children
    if "conv" not in kids:
        raise ModelBuildError(f"{rec.class_path} has no conv child")
    return _activation(g, _conv2d(g, x, kids["conv"], bn=kids.get("bn")), kids.get("act"))


def _maxpool(g: _Graph, x: str, pool: ModuleRecord) -> str:
    if pool.class_name != "MaxPool2d" or _pair(pool.get("dilation", 1)) != (1, 1):
        raise ModelBuildError(f"unsupported pooling {pool.class_path}")
    ph, pw = _pair(pool.get("padding", 0))
    kernel = _pair(pool.get("kernel_size"))
    stride = pool.get("stride")
    return g.op(
        "MaxPool",
        [x],
        kernel_shape=list(kernel),
        strides=list(_pair(kernel if stride is None else stride)),
        pads=[ph, pw, ph, pw],
        ceil_mode=int(bool(pool.get("ceil_mode", False))),
    )


def _upsample(g: _Graph, x: str, rec: ModuleRecord) -> str:
    scale = rec.get("scale_factor")
    if rec.get("mode") != "nearest" or rec.get("size") is not None or scale is None:
        raise ModelBuildError(f"unsupported upsample {rec.state!r:.200}")
    sh, sw = (scale, scale) if isinstance(scale, int | float) else scale
    scales = g.const("scales", [1.0, 1.0, float(sh), float(sw)])
    return g.op(
        "Resize",
        [x, "", scales],
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )


def _sppcspc(g: _Graph, x: str, rec: ModuleRecord) -> str:
    k = rec.children
    x1 = _conv_block(g, _conv_block(g, _conv_block(g, x, k["cv1"]), k["cv3"]), k["cv4"])
    pools = [_maxpool(g, x1, p) for p in k["m"].children.values()]
    y1 = g.op("Concat", [x1, *pools], axis=1)
    y1 = _conv_block(g, _conv_block(g, y1, k["cv5"]), k["cv6"])
    y2 = _conv_block(g, x, k["cv2"])
    return _conv_block(g, g.op("Concat", [y1, y2], axis=1), k["cv7"])


def _head_weights(
    rec: ModuleRecord, level: int
) -> tuple[ModuleRecord, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The level's 1x1 conv with IDetect's ImplicitA (add) / ImplicitM (mul) folded in."""
    kids = rec.children
    conv = list(kids["m"].children.values())[level]
    w = _tensor(conv, "weight")
    b = _tensor(conv, "bias") if "bias" in conv.tensors else np.zeros(w.shape[0])
    if "ia" in kids:  # conv(x + a) = conv(x) + W @ a
        a = _tensor(list(kids["ia"].children.values())[level], "implicit").reshape(-1)
        b = b + w.reshape(w.shape[0], -1) @ a
    if "im" in kids:  # conv(x) * m
        m = _tensor(list(kids["im"].children.values())[level], "implicit").reshape(-1)
        w, b = w * m[:, None, None, None], b * m
    return conv, w, b


def _detect(g: _Graph, xs: list[str], rec: ModuleRecord, size: int) -> tuple[str, list[float]]:
    """Detect/IDetect: per level conv, sigmoid, grid decode; rows concatenated over levels."""
    na, no = int(rec.get("na")), int(rec.get("no"))
    strides = [float(s) for s in np.asarray(rec.get("stride")).reshape(-1)]
    tensors = rec.tensors
    if "anchor_grid" in tensors:
        anchor_px = tensors["anchor_grid"].astype(np.float32).reshape(len(strides), na, 2)
    else:
        anchors = tensors["anchors"].astype(np.float32).reshape(len(strides), na, 2)
        anchor_px = anchors * np.asarray(strides, np.float32)[:, None, None]
    if len(xs) != len(strides):
        raise ModelBuildError(f"head has {len(xs)} inputs but {len(strides)} strides")
    rows = []
    for level, (x, stride) in enumerate(zip(xs, strides, strict=True)):
        if size % stride:
            raise ModelBuildError(f"input size {size} is not a multiple of stride {stride:g}")
        ny = nx = int(size // stride)
        conv, w, b = _head_weights(rec, level)
        y = _conv2d(g, x, conv, weight=w, bias=b)
        y = g.op("Reshape", [y, g.const("shape", [0, na, no, ny, nx], np.int64)])
        y = g.op("Sigmoid", [g.op("Transpose", [y], perm=[0, 1, 3, 4, 2])])
        yv, xv = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
        grid = np.stack((xv, yv), 2).reshape(1, 1, ny, nx, 2)
        anchor = anchor_px[level].reshape(1, na, 1, 1, 2)
        xy, wh, conf = g.split(y, [2, 2, no - 4], axis=4)
        two = g.const("two", 2.0)
        xy = g.op("Sub", [g.op("Mul", [xy, two]), g.const("half", 0.5)])
        xy = g.op("Mul", [g.op("Add", [xy, g.const("grid", grid)]), g.const("stride", stride)])
        wh2 = g.op("Mul", [wh, two])
        wh = g.op("Mul", [g.op("Mul", [wh2, wh2]), g.const("anchor", anchor)])
        y = g.op("Concat", [xy, wh, conf], axis=4)
        rows.append(g.op("Reshape", [y, g.const("shape", [0, -1, no], np.int64)]))
    return g.op("Concat", rows, hint="detections", axis=1), strides


def _check_row(index: int, row: object, rec: ModuleRecord) -> object:
    """Return the row's ``from`` after checking the record was built from it."""
    if not isinstance(row, list | tuple) or len(row) != 4:
        raise ModelBuildError(f"architecture row {index} is malformed: {row!r:.80}")
    source, _number, module, _args = row
    name = str(module).rsplit(".", 1)[-1]
    if name != rec.class_name or rec.get("f", source) != source:
        raise ModelBuildError(
            f"layer {index}: architecture says {module} from {source}, "
            f"checkpoint has {rec.class_path} from {rec.get('f')}"
        )
    return source


def _mp_sp(g: _Graph, x: str, rec: ModuleRecord) -> str:
    return _maxpool(g, x, rec.children["m"])


def _bare_conv2d(g: _Graph, x: str, rec: ModuleRecord) -> str:
    return _conv2d(g, x, rec)


_SINGLE_INPUT: dict[str, Callable[[_Graph, str, ModuleRecord], str]] = {
    "Conv": _conv_block,
    "Conv2d": _bare_conv2d,
    "MP": _mp_sp,
    "SP": _mp_sp,
    "MaxPool2d": _maxpool,
    "Upsample": _upsample,
    "SPPCSPC": _sppcspc,
}


def _inputs(source: object, x: str, outputs: list[str], index: int) -> str | list[str]:
    """Resolve a layer's ``from`` (-1, an earlier index, or a list of them) to tensor names."""
    try:
        if isinstance(source, int):
            return x if source == -1 else outputs[source]
        if isinstance(source, list) and all(isinstance(j, int) for j in source):
            return [x if j == -1 else outputs[j] for j in source]
    except IndexError:
        pass
    raise ModelBuildError(f"layer {index}: bad 'from' {source!r:.40}")


def convert_checkpoint(ckpt: Checkpoint, input_size: int) -> onnx.ModelProto:
    """Build the ONNX graph for ``ckpt`` at a square ``input_size``; see the module doc."""
    arch = ckpt.yaml
    rows = list(arch.get("backbone", [])) + list(arch.get("head", []))
    layers = ckpt.layers
    if len(rows) != len(layers):
        raise ModelBuildError(f"architecture has {len(rows)} rows, checkpoint {len(layers)} layers")
    g = _Graph()
    outputs: list[str] = []
    x = INPUT_NAME
    strides: list[float] = []
    for i, (row, rec) in enumerate(zip(rows, layers, strict=True)):
        x_in = _inputs(_check_row(i, row, rec), x, outputs, i)
        kind = rec.class_name
        if kind in ("Concat", "Detect", "IDetect"):
            if not isinstance(x_in, list):
                raise ModelBuildError(f"layer {i} ({kind}) needs several inputs")
            if kind == "Concat":
                x = g.op("Concat", x_in, axis=int(rec.get("d", 1)))
            else:
                x, strides = _detect(g, x_in, rec, input_size)
        elif kind not in _SINGLE_INPUT:
            raise ModelBuildError(f"layer {i}: unsupported module {rec.class_path}")
        elif isinstance(x_in, list):
            raise ModelBuildError(f"layer {i} ({kind}) takes one input, got {len(x_in)}")
        else:
            x = _SINGLE_INPUT[kind](g, x_in, rec)
        outputs.append(x)
    if not strides:
        raise ModelBuildError("architecture has no Detect/IDetect head")
    g.nodes.append(helper.make_node("Identity", [x], [OUTPUT_NAME], name=OUTPUT_NAME))
    return _model(g, ckpt, input_size, strides)


def _model(g: _Graph, ckpt: Checkpoint, size: int, strides: list[float]) -> onnx.ModelProto:
    names = ckpt.names
    no = 5 + len(names)
    n_rows = sum(3 * int(size // s) ** 2 for s in strides)
    graph = helper.make_graph(
        g.nodes,
        "yolov7",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", 3, size, size])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", n_rows, no])],
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="argus",
        ir_version=IR_VERSION,
    )
    meta = {
        "names": json.dumps(names),
        "stride": str(int(max(strides))),
        "strides": json.dumps([int(s) for s in strides]),
        "input_size": str(size),
        "layout": "yolov5",
    }
    helper.set_model_props(model, meta)
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise ModelBuildError(f"generated ONNX graph is invalid: {exc}") from exc
    return model


def convert_yolov7(checkpoint_path: Path, input_size: int) -> onnx.ModelProto:
    """Load a YOLOv7 ``.pt`` checkpoint safely and convert it for ``input_size``.

    Raises:
        UnsafePickleError: the checkpoint references a global outside the allow-list.
        ModelBuildError: the checkpoint or its architecture is not understood.
    """
    if input_size <= 0 or input_size % 32:
        raise ModelBuildError(f"input size must be a positive multiple of 32, got {input_size}")
    return convert_checkpoint(load_checkpoint(checkpoint_path), input_size)


def write_onnx(model: onnx.ModelProto, path: Path) -> None:
    """Write ``model`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(model.SerializeToString())
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
