"""The model registry's values: pack versions and per-camera assignments.

A camera's ``model`` is a pack reference: ``name`` follows the pack's current
version (what ``argus models build`` or ``import`` last wrote), and
``name@version`` pins one registered version. Every assignment (to one camera,
promoted to many, or rolled back) is one ``ModelAssignment`` in the camera's
history.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from argus.domain.errors import ValidationError

__all__ = [
    "AssignmentAction",
    "ModelAssignment",
    "ModelVersion",
    "format_ref",
    "split_ref",
]

AssignmentAction = Literal["assign", "promote", "rollback"]
"""How a camera came to its model: set alone, promoted with others, or rolled back."""

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")


def split_ref(ref: str) -> tuple[str, str | None]:
    """Split ``name`` or ``name@version`` into the pack name and the version (or ``None``).

    Raises:
        ValidationError: The name or the version is not a safe pack name or version.
    """
    name, sep, version = ref.partition("@")
    if not _NAME.fullmatch(name):
        raise ValidationError(f"invalid model pack name {name!r} in {ref!r}")
    if not sep:
        return name, None
    if not _VERSION.fullmatch(version):
        raise ValidationError(f"invalid model version {version!r} in {ref!r}")
    return name, version


def format_ref(name: str, version: str | None) -> str:
    """``name@version``, or ``name`` alone when ``version`` is ``None`` (checked)."""
    ref = name if version is None else f"{name}@{version}"
    split_ref(ref)
    return ref


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One registered version of a model pack.

    Attributes:
        name: Pack name.
        version: Pack version.
        kind: Runtime family (``yolo-onnx``, ``opencv-ssd``...).
        manifest: The pack's manifest as stored on disk (JSON-ready).
        location: Where its files are, relative to the models directory.
        registered_at: When the registry first recorded it (UTC).
        registered_by: Who recorded it (``system`` for packs found on disk).
        notes: Free text.
    """

    name: str
    version: str
    kind: str
    manifest: dict[str, Any]
    location: str
    registered_at: datetime
    registered_by: str
    notes: str = ""

    def __post_init__(self) -> None:
        split_ref(self.ref)

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class ModelAssignment:
    """A camera's model changed.

    Attributes:
        id: Unique, sortable id.
        camera_id: The camera.
        ref: The reference it runs now (``name`` or ``name@version``).
        previous_ref: The reference it ran before.
        action: How it changed.
        at: When (UTC).
        by: Who (the audit trail's name).
    """

    id: str
    camera_id: str
    ref: str
    previous_ref: str
    action: AssignmentAction
    at: datetime
    by: str

    def __post_init__(self) -> None:
        split_ref(self.ref)
        split_ref(self.previous_ref)
