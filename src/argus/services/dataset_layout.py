"""The files of a dataset export: COCO JSON, YOLO text labels, ``data.yaml``, the manifest.

One set of images serves both layouts: ``images/{train,val}/<example id>.jpg``
(the frames as they were sealed, byte for byte). Beside them:

* COCO: ``annotations/train.json`` and ``annotations/val.json`` (``file_name``
  relative to ``images/<split>/``; ``bbox`` is ``[x, y, width, height]`` in
  pixels; category ids start at 1, in the export's class order; each image
  names its licence);
* YOLO: ``labels/{train,val}/<example id>.txt``, one ``class cx cy w h`` line a
  box with coordinates divided by the frame's size (an empty file for a frame
  marked "nothing here": a negative), class numbers from 0 in the same order,
  and ``data.yaml`` (``path``, ``train``, ``val``, ``nc``, ``names``);
* ``manifest.json``: every other file's sha256 and size, each image's source
  camera, capture time, model, licence, split and near-duplicate group, the
  split rule, the classes and the counts.

Everything here is computed from values; ``DatasetExporter`` reads the frames
and writes the ZIP.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from argus.domain.dataset_split import SplitResult, SplitRule
from argus.domain.hard_examples import HardExample, LabelBox

__all__ = ["DatasetFiles", "ExportSummary", "Split", "build_files", "class_order"]

Split = Literal["train", "val"]
SPLITS: tuple[Split, ...] = ("train", "val")
FORMAT = "argus-dataset/1"


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What an export holds (its preview, and the manifest's counts).

    Attributes:
        images: Frames per split.
        boxes: Boxes per split.
        negatives: Frames marked "nothing here", per split.
        boxes_per_class: Boxes per class and split.
        classes: The classes in export order (YOLO class 0 first; COCO id 1 first).
        cameras: Frames per camera.
        model_refs: Frames per model (``name@version``) that produced their boxes.
        groups: Groups of frames kept on one side (time blocks, near duplicates).
        near_duplicates: Near-duplicate pairs found.
        dropped_boxes: Labelled boxes of classes outside the export's classes.
        skipped: Examples left out, by example id, with the reason.
    """

    images: dict[str, int]
    boxes: dict[str, int]
    negatives: dict[str, int]
    boxes_per_class: dict[str, dict[str, int]]
    classes: tuple[str, ...]
    cameras: dict[str, int]
    model_refs: dict[str, int]
    groups: int
    near_duplicates: int
    dropped_boxes: int
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "images": self.images,
            "boxes": self.boxes,
            "negatives": self.negatives,
            "boxes_per_class": self.boxes_per_class,
            "classes": list(self.classes),
            "cameras": self.cameras,
            "model_refs": self.model_refs,
            "groups": self.groups,
            "near_duplicates": self.near_duplicates,
            "dropped_boxes": self.dropped_boxes,
            "skipped": self.skipped,
        }


@dataclass(frozen=True, slots=True)
class DatasetFiles:
    """An export's files by path (manifest last) and its summary."""

    files: dict[str, bytes]
    summary: ExportSummary


def class_order(examples: Sequence[HardExample], wanted: Sequence[str] | None) -> tuple[str, ...]:
    """The export's classes: ``wanted`` in its order, else every labelled class sorted."""
    if wanted:
        return tuple(dict.fromkeys(wanted))
    return tuple(sorted({box.class_name for e in examples for box in e.labels}))


def _kept(example: HardExample, classes: Sequence[str]) -> list[LabelBox]:
    allowed = set(classes)
    return [box for box in example.labels if box.class_name in allowed]


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=1, ensure_ascii=False, sort_keys=False) + "\n").encode()


def _coco(
    split: Split,
    examples: Sequence[HardExample],
    classes: Sequence[str],
    licences: Mapping[str, str],
    info: Mapping[str, Any],
) -> bytes:
    licence_ids = {text: n for n, text in enumerate(sorted(set(licences.values())), start=1)}
    category = {name: n for n, name in enumerate(classes, start=1)}
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image_id, example in enumerate(examples, start=1):
        images.append(
            {
                "id": image_id,
                "file_name": f"{example.id}.jpg",
                "width": example.width,
                "height": example.height,
                "license": licence_ids[licences[example.camera_id]],
                "date_captured": example.captured_at.isoformat(),
                "argus_example_id": example.id,
                "argus_camera_id": example.camera_id,
            }
        )
        for box in _kept(example, classes):
            width, height = box.x2 - box.x1, box.y2 - box.y1
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": category[box.class_name],
                    "bbox": [round(box.x1, 2), round(box.y1, 2), round(width, 2), round(height, 2)],
                    "area": round(width * height, 2),
                    "iscrowd": 0,
                }
            )
    document: dict[str, Any] = {
        "info": dict(info) | {"split": split},
        "licenses": [{"id": n, "name": text, "url": ""} for text, n in licence_ids.items()],
        "images": images,
        "annotations": annotations,
        "categories": [
            {"id": n, "name": name, "supercategory": "object"} for name, n in category.items()
        ],
    }
    return _json(document)


def _yolo(example: HardExample, classes: Sequence[str]) -> bytes:
    number = {name: n for n, name in enumerate(classes)}
    lines = []
    for box in _kept(example, classes):
        cx = (box.x1 + box.x2) / 2 / example.width
        cy = (box.y1 + box.y2) / 2 / example.height
        w = (box.x2 - box.x1) / example.width
        h = (box.y2 - box.y1) / example.height
        lines.append(f"{number[box.class_name]} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
    return "".join(lines).encode()


def _data_yaml(classes: Sequence[str]) -> bytes:
    names = ", ".join(_yaml_string(name) for name in classes)
    return (
        "# Argus dataset export, YOLO layout\n"
        "path: .\ntrain: images/train\nval: images/val\n"
        f"nc: {len(classes)}\nnames: [{names}]\n"
    ).encode()


def _yaml_string(text: str) -> str:
    """``text`` as a YAML double-quoted scalar of printable ASCII only.

    Class names are free text: a colon, quote or line break must stay inside one
    name, and YAML refuses some characters raw (C1 controls, DEL, U+FEFF) and
    reads others (NEL, U+2028) as line breaks, so every character outside
    printable ASCII is escaped.
    """
    out = []
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def build_files(
    examples: Sequence[HardExample],
    frames: Mapping[str, bytes],
    hashes: Mapping[str, int],
    split: SplitResult,
    rule: SplitRule,
    *,
    classes: Sequence[str],
    licences: Mapping[str, str],
    header: Mapping[str, Any],
    skipped: Mapping[str, str],
) -> DatasetFiles:
    """Every file of the export, ``manifest.json`` last.

    Args:
        examples: The exported examples (each has its frame in ``frames``).
        frames: JPEG bytes by example id.
        hashes: Difference hash by example id.
        split: Where each example went.
        rule: The split rule (recorded in the manifest).
        classes: The export's classes, in order.
        licences: The licence text by camera id (every exported camera).
        header: Name, creation time and creator for ``info`` and the manifest.
        skipped: Examples left out, with the reason.
    """
    side: dict[str, Split] = dict.fromkeys(split.val, "val")
    side.update(dict.fromkeys(split.train, "train"))
    by_split: dict[Split, list[HardExample]] = {s: [] for s in SPLITS}
    for example in examples:
        by_split[side[example.id]].append(example)

    files: dict[str, bytes] = {}
    entries = []
    for name in SPLITS:
        for example in by_split[name]:
            image = f"images/{name}/{example.id}.jpg"
            files[image] = frames[example.id]
            files[f"labels/{name}/{example.id}.txt"] = _yolo(example, classes)
            entries.append(
                {
                    "file": image,
                    "sha256": hashlib.sha256(frames[example.id]).hexdigest(),
                    "example_id": example.id,
                    "camera_id": example.camera_id,
                    "captured_at": example.captured_at.isoformat(),
                    "source": str(example.source),
                    "model_ref": example.model_ref,
                    "licence": licences[example.camera_id],
                    "split": name,
                    "group": split.group_of[example.id],
                    "dhash": f"{hashes[example.id]:064x}",
                    "width": example.width,
                    "height": example.height,
                    "empty": example.empty,
                    "labelled_by": example.labelled_by,
                    "reviewed_by": example.reviewed_by,
                }
            )
        files[f"annotations/{name}.json"] = _coco(
            name, by_split[name], classes, licences, _info(header)
        )
    files["data.yaml"] = _data_yaml(classes)

    summary = _summary(by_split, classes, split, skipped)
    manifest = {
        "format": FORMAT,
        **header,
        "split_rule": rule.describe(),
        "classes": list(classes),
        "licences": dict(sorted(licences.items())),
        "counts": summary.to_dict(),
        "images": entries,
        "files": [
            {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for path, data in sorted(files.items())
        ],
    }
    files["manifest.json"] = _json(manifest)
    return DatasetFiles(files=files, summary=summary)


def _info(header: Mapping[str, Any]) -> dict[str, Any]:
    created = header.get("created_at", "")
    return {
        "description": str(header.get("name", "")),
        "version": FORMAT,
        "year": int(created[:4]) if isinstance(created, str) and created[:4].isdigit() else 0,
        "date_created": created,
        "contributor": str(header.get("created_by", "")),
        "url": "",
    }


def _summary(
    by_split: Mapping[Split, Sequence[HardExample]],
    classes: Sequence[str],
    split: SplitResult,
    skipped: Mapping[str, str],
) -> ExportSummary:
    every = [e for name in SPLITS for e in by_split[name]]
    per_class: dict[str, dict[str, int]] = {
        name: {
            s: sum(1 for e in by_split[s] for b in _kept(e, classes) if b.class_name == name)
            for s in SPLITS
        }
        for name in classes
    }
    return ExportSummary(
        images={s: len(by_split[s]) for s in SPLITS},
        boxes={s: sum(len(_kept(e, classes)) for e in by_split[s]) for s in SPLITS},
        negatives={s: sum(1 for e in by_split[s] if e.empty) for s in SPLITS},
        boxes_per_class=per_class,
        classes=tuple(classes),
        cameras=dict(sorted(Counter(e.camera_id for e in every).items())),
        model_refs=dict(sorted(Counter(e.model_ref for e in every).items())),
        groups=split.groups,
        near_duplicates=split.near_duplicates,
        dropped_boxes=sum(len(e.labels) - len(_kept(e, classes)) for e in every),
        skipped=dict(skipped),
    )
