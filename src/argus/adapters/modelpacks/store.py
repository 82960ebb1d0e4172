"""Model pack stores: a directory per pack on disk, and an in-memory twin for tests.

Each pack's current version lives in ``root/<name>/``. Before a build or an
import replaces it, ``keep`` copies it to ``root/_versions/<name>/<version>/``,
so every version ever built or imported stays runnable as ``name@version``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from argus.domain.errors import ModelNotFoundError, ValidationError
from argus.domain.models import ModelManifest
from argus.ports.modelstore import FileProblem

__all__ = [
    "FileModelStore",
    "MemoryModelStore",
    "sha256_file",
    "validate_pack_name",
    "validate_version",
]

MANIFEST = "manifest.json"
VERSIONS = "_versions"
"""Directory of kept versions under the models root (not a valid pack name)."""
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")


def validate_pack_name(name: str) -> str:
    """Return ``name`` if it is a safe pack name (no path tricks), else raise."""
    if not _NAME.fullmatch(name):
        raise ValidationError(
            f"invalid model pack name {name!r}: use 1-64 lowercase letters, digits, '.', '_', '-'"
        )
    return name


def validate_version(version: str) -> str:
    """Return ``version`` if it is a safe pack version (no path tricks), else raise."""
    if not _VERSION.fullmatch(version):
        raise ValidationError(f"invalid model version {version!r}")
    return version


def _read_manifest(manifest: Path) -> ModelManifest:
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError(f"cannot read {manifest}: {exc}") from exc
    return ModelManifest.from_dict(data)


def _write_manifest(directory: Path, manifest: ModelManifest) -> None:
    tmp = directory / f".{MANIFEST}.tmp"
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(manifest.to_dict(), fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(directory / MANIFEST)


def _problems(manifest: ModelManifest, directory: Path) -> list[FileProblem]:
    problems = []
    for f in manifest.files:
        target = directory / f.path
        actual = sha256_file(target) if target.is_file() else "missing"
        if actual != f.sha256:
            problems.append(FileProblem(path=f.path, expected=f.sha256, actual=actual))
    return problems


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
        return _read_manifest(manifest)

    def manifests(self) -> list[ModelManifest]:
        """Return the manifests of every built pack, sorted by name."""
        if not self._root.is_dir():
            return []
        return [self.get(p.parent.name) for p in sorted(self._root.glob(f"*/{MANIFEST}"))]

    def save(self, manifest: ModelManifest) -> None:
        """Write the manifest atomically (temp file, fsync, rename)."""
        directory = self.path(manifest.name)
        directory.mkdir(parents=True, exist_ok=True)
        _write_manifest(directory, manifest)
        # The current directory holds this version now: a kept copy of it is stale.
        shutil.rmtree(self._kept(manifest.name, manifest.version), ignore_errors=True)

    def verify(self, name: str) -> list[FileProblem]:
        """Recompute every file's checksum; return the mismatches."""
        return _problems(self.get(name), self.path(name))

    # --- versions ---------------------------------------------------------------------------

    def _kept(self, name: str, version: str) -> Path:
        return self._root / VERSIONS / validate_pack_name(name) / validate_version(version)

    def keep(self, name: str) -> None:
        """Copy the current version aside before a build or import replaces it.

        Only the manifest's files are copied, into a temporary directory renamed
        into place, so a kept version is complete or absent. Nothing happens
        when the pack is not built or that version is already kept.
        """
        if not self.has(name):
            return
        manifest = self.get(name)
        target = self._kept(name, manifest.version)
        if (target / MANIFEST).is_file():
            return
        tmp = target.parent / f".{manifest.version}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for f in manifest.files:
            destination = tmp / f.path
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.path(name) / f.path, destination)
        _write_manifest(tmp, manifest)
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)

    def versions(self, name: str) -> list[ModelManifest]:
        """The current version and every kept one of a pack, oldest build first."""
        found = {m.version: m for m in self._kept_manifests(name)}
        if self.has(name):
            current = self.get(name)
            found[current.version] = current
        return sorted(found.values(), key=lambda m: (m.created, m.version))

    def _kept_manifests(self, name: str) -> list[ModelManifest]:
        directory = self._root / VERSIONS / validate_pack_name(name)
        if not directory.is_dir():
            return []
        return [_read_manifest(p) for p in sorted(directory.glob(f"*/{MANIFEST}"))]

    def names(self) -> list[str]:
        """Names of every pack with a current or a kept version, sorted."""
        names = {m.name for m in self.manifests()}
        kept = self._root / VERSIONS
        if kept.is_dir():
            names |= {p.parent.parent.name for p in kept.glob(f"*/*/{MANIFEST}")}
        return sorted(names)

    def version_path(self, name: str, version: str) -> Path:
        """The directory of one version (``ModelNotFoundError`` if neither current nor kept)."""
        if self.has(name) and self.get(name).version == version:
            return self.path(name)
        kept = self._kept(name, version)
        if not (kept / MANIFEST).is_file():
            raise ModelNotFoundError(f"model version {name}@{version} is not in {self._root}")
        return kept

    def get_version(self, name: str, version: str) -> ModelManifest:
        """One version's manifest (``ModelNotFoundError`` if unknown)."""
        return _read_manifest(self.version_path(name, version) / MANIFEST)

    def verify_version(self, name: str, version: str) -> list[FileProblem]:
        """Recompute one version's checksums; return the mismatches."""
        return _problems(self.get_version(name, version), self.version_path(name, version))


class MemoryModelStore:
    """In-memory store for tests: manifests in a dict, file digests given by the test."""

    def __init__(self, root: Path = Path("/nonexistent/argus-models")) -> None:
        self._root = root
        self._manifests: dict[str, ModelManifest] = {}
        self._kept: dict[tuple[str, str], ModelManifest] = {}
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
        """Keep the manifest; file digests default to the recorded ones.

        A new version's files are new files: their digests are the recorded ones.
        """
        previous = self._manifests.get(validate_pack_name(manifest.name))
        replaced = previous is not None and previous.version != manifest.version
        self._manifests[manifest.name] = manifest
        for f in manifest.files:
            if replaced:
                self.digests[(manifest.name, f.path)] = f.sha256
            else:
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

    # --- versions ---------------------------------------------------------------------------

    def keep(self, name: str) -> None:
        """Keep the current version aside (as ``FileModelStore.keep`` does)."""
        if self.has(name):
            current = self.get(name)
            self._kept.setdefault((current.name, current.version), current)

    def versions(self, name: str) -> list[ModelManifest]:
        """The current version and every kept one, oldest build first."""
        found = {v: m for (n, v), m in self._kept.items() if n == name}
        if self.has(name):
            found[self.get(name).version] = self.get(name)
        return sorted(found.values(), key=lambda m: (m.created, m.version))

    def names(self) -> list[str]:
        """Names of every pack with a current or a kept version, sorted."""
        return sorted(set(self._manifests) | {n for n, _ in self._kept})

    def version_path(self, name: str, version: str) -> Path:
        """The nominal directory of one version."""
        self.get_version(name, version)
        if self.has(name) and self.get(name).version == version:
            return self.path(name)
        return self._root / VERSIONS / name / validate_version(version)

    def get_version(self, name: str, version: str) -> ModelManifest:
        """One version's manifest (``ModelNotFoundError`` if unknown)."""
        for manifest in self.versions(validate_pack_name(name)):
            if manifest.version == version:
                return manifest
        raise ModelNotFoundError(f"model version {name}@{version} is not saved")

    def verify_version(self, name: str, version: str) -> list[FileProblem]:
        """The current version's problems; kept versions are always sound in memory."""
        manifest = self.get_version(name, version)
        return self.verify(name) if manifest == self.get(name) else []
