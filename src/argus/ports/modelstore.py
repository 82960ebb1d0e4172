"""The model pack store and builder ports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from argus.domain.models import ModelManifest

__all__ = ["FileProblem", "ModelStore", "PackBuilder"]


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A pack file that failed verification.

    Attributes:
        path: File path relative to the pack directory.
        expected: Checksum recorded in the manifest.
        actual: Checksum computed now, or ``"missing"``.
    """

    path: str
    expected: str
    actual: str


class ModelStore(Protocol):
    """Where built packs live: a directory per pack with a manifest."""

    def manifests(self) -> list[ModelManifest]:
        """Return the manifests of every built pack, sorted by name."""
        ...

    def get(self, name: str) -> ModelManifest:
        """Return one pack's manifest or raise ``ModelNotFoundError``."""
        ...

    def has(self, name: str) -> bool:
        """Return whether a pack of that name is built."""
        ...

    def path(self, name: str) -> Path:
        """Return the directory of a pack (which may not exist yet)."""
        ...

    def save(self, manifest: ModelManifest) -> None:
        """Record a pack's manifest (its files are already in ``path(name)``)."""
        ...

    def verify(self, name: str) -> list[FileProblem]:
        """Recompute every file's checksum; return the mismatches (empty when sound)."""
        ...

    def keep(self, name: str) -> None:
        """Keep the current version runnable before a build or import replaces it."""
        ...

    def versions(self, name: str) -> list[ModelManifest]:
        """The current and every kept version of a pack, oldest build first."""
        ...

    def names(self) -> list[str]:
        """Names of every pack with a current or a kept version, sorted."""
        ...

    def version_path(self, name: str, version: str) -> Path:
        """The directory of one version (``ModelNotFoundError`` if unknown)."""
        ...

    def get_version(self, name: str, version: str) -> ModelManifest:
        """One version's manifest (``ModelNotFoundError`` if unknown)."""
        ...

    def verify_version(self, name: str, version: str) -> list[FileProblem]:
        """Recompute one version's checksums; return the mismatches."""
        ...


class PackBuilder(Protocol):
    """Builds one kind of pack from weights shipped in a registry package."""

    name: str
    description: str
    licence: str
    default_sizes: tuple[int, ...]

    def build(self, out_dir: Path, sizes: Sequence[int]) -> ModelManifest:
        """Write the pack's files into ``out_dir`` and return its manifest."""
        ...
