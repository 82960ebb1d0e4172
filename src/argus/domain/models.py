"""Model pack descriptions: what a built pack contains and where it came from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from argus.domain.errors import ValidationError

__all__ = ["MANIFEST_SCHEMA", "ModelFile", "ModelManifest"]

MANIFEST_SCHEMA = 1


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One file of a pack.

    Attributes:
        path: Path relative to the pack directory.
        sha256: Hex digest of the file's bytes.
        input_size: Square network input in pixels, or ``None`` for size-free files.
        role: What the file is for (``model``, ``config``, ``labels``).
    """

    path: str
    sha256: str
    input_size: int | None = None
    role: str = "model"


@dataclass(frozen=True, slots=True)
class ModelManifest:
    """What a built pack is.

    Attributes:
        name: Pack name, e.g. ``yolov7-tiny``.
        version: Pack version; each detection records ``name@version``.
        kind: Runtime family: ``yolo-onnx`` or ``opencv-ssd``.
        source_package: Registry package the weights came from (or ``custom``).
        source_version: Version of that package.
        licence: SPDX id of the weights' licence.
        class_names: Names indexed by class id.
        files: The pack's files with checksums and input sizes.
        layout: Output layout of ONNX models (``yolov5``, ``yolov8``...), if known.
        created: ISO-8601 UTC time of the build.
        notes: Free text, e.g. where the architecture came from.
        extra: Further string facts (builder version, original file name).
    """

    name: str
    version: str
    kind: str
    source_package: str
    source_version: str
    licence: str
    class_names: tuple[str, ...]
    files: tuple[ModelFile, ...]
    layout: str | None = None
    created: str = ""
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def input_sizes(self) -> tuple[int, ...]:
        """Input sizes the pack was built for, ascending."""
        return tuple(sorted({f.input_size for f in self.files if f.input_size is not None}))

    @property
    def ref(self) -> str:
        """``name@version``, recorded with every detection."""
        return f"{self.name}@{self.version}"

    def file_for(self, input_size: int) -> ModelFile | None:
        """Return the model file built for ``input_size``, if any."""
        for f in self.files:
            if f.role == "model" and f.input_size == input_size:
                return f
        return None

    def file_with_role(self, role: str) -> ModelFile | None:
        """Return the first file with the given role, if any."""
        return next((f for f in self.files if f.role == role), None)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (the on-disk manifest format)."""
        data = asdict(self)
        data["class_names"] = list(self.class_names)
        data["files"] = [asdict(f) for f in self.files]
        data["schema"] = MANIFEST_SCHEMA
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelManifest:
        """Parse the on-disk manifest format, refusing unknown schemas."""
        if data.get("schema") != MANIFEST_SCHEMA:
            raise ValidationError(f"unsupported manifest schema {data.get('schema')!r}")
        try:
            files = tuple(ModelFile(**f) for f in data["files"])
            return cls(
                name=str(data["name"]),
                version=str(data["version"]),
                kind=str(data["kind"]),
                source_package=str(data["source_package"]),
                source_version=str(data["source_version"]),
                licence=str(data["licence"]),
                class_names=tuple(str(n) for n in data["class_names"]),
                files=files,
                layout=data.get("layout"),
                created=str(data.get("created", "")),
                notes=str(data.get("notes", "")),
                extra={str(k): str(v) for k, v in data.get("extra", {}).items()},
            )
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"malformed manifest: {exc}") from exc
