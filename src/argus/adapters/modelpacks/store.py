"""Model pack stores: a directory per pack on disk, and an in-memory twin for tests."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from argus.domain.errors import ModelNotFoundError, ValidationError
from argus.domain.models import ModelManifest
from argus.ports.modelstore import FileProblem

__all__ = ["FileModelStore", "MemoryModelStore", "sha256_file", "validate_pack_name"]

MANIFEST = "manifest.json"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def validate_pack_name(name: str) -> str:
    """Return ``name`` if it is a safe pack name (no path tricks), else raise."""
    if not _NAME.fullmatch(name):
        raise ValidationError(
            f"invalid model pack name {name!r}: use 1-64 lowercase letters, digits, '.', '_', '-'"
        )
    return name


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class FileModelStore:
    """Packs under ``root/<name>/`` with a ``manifest.json`` written atomically."""

    def __init__(self, root: Path) -> None:
        self._root = root

    @property
    def root(self) -> Path:
        """The directory holding every pack."""
        return self._root

    def path(self, name: str) -> Path:
        """Return the directory of a pack (which may not exist yet)."""
        return self._root / validate_pack_name(name)

    def has(self, name: str) -> bool:
        """Return whether a pack of that name is built."""
        return (self.path(name) / MANIFEST).is_file()

    def get(self, name: str) -> ModelManifest:
        """Return one pack's manifest or raise ``ModelNotFoundError``."""
        manifest = self.path(name) / MANIFEST
        if not manifest.is_file():
            raise ModelNotFoundError(
                f"model pack {name!r} is not built in {self._root} (run: argus models build {name})"
            )
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValidationError(f"cannot read {manifest}: {exc}") from exc
        return ModelManifest.from_dict(data)

    def manifests(self) -> list[ModelManifest]:
        """Return the manifests of every built pack, sorted by name."""
        if not self._root.is_dir():
            return []
        return [self.get(p.parent.name) for p in sorted(self._root.glob(f"*/{MANIFEST}"))]

    def save(self, manifest: ModelManifest) -> None:
        """Write the manifest atomically (temp file, fsync, rename)."""
        directory = self.path(manifest.name)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{MANIFEST}.tmp"
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(manifest.to_dict(), fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(directory / MANIFEST)

    def verify(self, name: str) -> list[FileProblem]:
        """Recompute every file's checksum; return the mismatches."""
        manifest = self.get(name)
        directory = self.path(name)
        problems = []
        for f in manifest.files:
            target = directory / f.path
            actual = sha256_file(target) if target.is_file() else "missing"
            if actual != f.sha256:
                problems.append(FileProblem(path=f.path, expected=f.sha256, actual=actual))
        return problems


class MemoryModelStore:
    """In-memory store for tests: manifests in a dict, file digests given by the test."""

    def __init__(self, root: Path = Path("/nonexistent/argus-models")) -> None:
        self._root = root
        self._manifests: dict[str, ModelManifest] = {}
        self.digests: dict[tuple[str, str], str] = {}

    def path(self, name: str) -> Path:
        """Return the nominal directory of a pack."""
        return self._root / validate_pack_name(name)

    def has(self, name: str) -> bool:
        """Return whether a pack of that name is saved."""
        return validate_pack_name(name) in self._manifests

    def get(self, name: str) -> ModelManifest:
        """Return one pack's manifest or raise ``ModelNotFoundError``."""
        try:
            return self._manifests[validate_pack_name(name)]
        except KeyError:
            raise ModelNotFoundError(f"model pack {name!r} is not built") from None

    def manifests(self) -> list[ModelManifest]:
        """Return every saved manifest, sorted by name."""
        return [self._manifests[k] for k in sorted(self._manifests)]

    def save(self, manifest: ModelManifest) -> None:
        """Keep the manifest; file digests default to the recorded ones."""
        self._manifests[validate_pack_name(manifest.name)] = manifest
        for f in manifest.files:
            self.digests.setdefault((manifest.name, f.path), f.sha256)

    def verify(self, name: str) -> list[FileProblem]:
        """Compare recorded digests with those the test set in ``digests``."""
        manifest = self.get(name)
        problems = []
        for f in manifest.files:
            actual = self.digests.get((name, f.path), "missing")
            if actual != f.sha256:
                problems.append(FileProblem(path=f.path, expected=f.sha256, actual=actual))
        return problems
