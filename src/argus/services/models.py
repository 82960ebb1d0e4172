"""Model pack use cases: list, build, verify, describe."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from argus.domain.errors import ModelIntegrityError, ModelNotFoundError
from argus.domain.models import ModelManifest
from argus.ports.modelstore import FileProblem, ModelStore, PackBuilder

__all__ = ["ModelService", "PackStatus"]


@dataclass(frozen=True, slots=True)
class PackStatus:
    """A known pack and whether it is built.

    Attributes:
        name: Pack name.
        description: One line on what it is.
        licence: SPDX id of the weights' licence.
        manifest: The built pack's manifest, or ``None`` when not built.
    """

    name: str
    description: str
    licence: str
    manifest: ModelManifest | None


class ModelService:
    """Builds packs with the registered builders and keeps them in a store."""

    def __init__(self, store: ModelStore, builders: Mapping[str, PackBuilder]) -> None:
        self._store = store
        self._builders = dict(builders)

    @property
    def builder_names(self) -> tuple[str, ...]:
        """Names of the packs Argus can build itself."""
        return tuple(self._builders)

    def packs(self) -> list[PackStatus]:
        """Every buildable pack plus every custom pack in the store."""
        built = {m.name: m for m in self._store.manifests()}
        rows = [
            PackStatus(b.name, b.description, b.licence, built.pop(b.name, None))
            for b in self._builders.values()
        ]
        rows += [
            PackStatus(m.name, m.notes or "custom model", m.licence, m)
            for m in sorted(built.values(), key=lambda m: m.name)
        ]
        return rows

    def build(
        self, name: str, sizes: Sequence[int] | None = None, *, force: bool = False
    ) -> ModelManifest:
        """Build a pack unless it is already built with those sizes (or ``force``)."""
        builder = self._builders.get(name)
        if builder is None:
            known = ", ".join(self._builders) or "none"
            raise ModelNotFoundError(f"no builder for {name!r} (Argus builds: {known})")
        wanted = tuple(sorted(set(sizes or builder.default_sizes)))
        if not force and self._store.has(name):
            current = self._store.get(name)
            sizes_present = set(wanted) <= set(current.input_sizes) or not current.input_sizes
            if sizes_present and not self._store.verify(name):
                return current
        self._store.keep(name)  # the version it replaces stays runnable as name@version
        manifest = builder.build(self._store.path(name), wanted)
        self._store.save(manifest)
        return manifest

    def ensure(self, name: str) -> ModelManifest:
        """Return the pack, building it first when it is a missing buildable pack."""
        if self._store.has(name):
            return self._store.get(name)
        return self.build(name)

    def register(self, manifest: ModelManifest) -> ModelManifest:
        """Record a custom pack whose files are already in place."""
        self._store.save(manifest)
        return manifest

    def keep(self, name: str) -> None:
        """Keep the current version runnable before an import replaces it."""
        self._store.keep(name)

    def versions(self, name: str) -> list[ModelManifest]:
        """The current and every kept version of a pack, oldest build first."""
        return self._store.versions(name)

    def pack_names(self) -> list[str]:
        """Names of every pack with a current or a kept version."""
        return self._store.names()

    def version(self, name: str, version: str) -> ModelManifest:
        """One version's manifest (``ModelNotFoundError`` if neither current nor kept)."""
        return self._store.get_version(name, version)

    def version_path(self, name: str, version: str) -> Path:
        """The directory of one version's files."""
        return self._store.version_path(name, version)

    def require_sound_version(self, name: str, version: str) -> ModelManifest:
        """One version's manifest, raising ``ModelIntegrityError`` if any file changed."""
        manifest = self._store.get_version(name, version)
        problems = self._store.verify_version(name, version)
        if problems:
            listed = ", ".join(f"{p.path} ({p.actual[:12]})" for p in problems)
            raise ModelIntegrityError(
                f"model version {name}@{version} failed verification: {listed}"
            )
        return manifest

    def info(self, name: str) -> ModelManifest:
        """Return a built pack's manifest."""
        return self._store.get(name)

    def verify(self, name: str) -> list[FileProblem]:
        """Return checksum mismatches of a built pack (empty when sound)."""
        return self._store.verify(name)

    def require_sound(self, name: str) -> ModelManifest:
        """Return the manifest, raising ``ModelIntegrityError`` if any file changed."""
        manifest = self._store.get(name)
        problems = self._store.verify(name)
        if problems:
            listed = ", ".join(f"{p.path} ({p.actual[:12]})" for p in problems)
            raise ModelIntegrityError(
                f"model pack {name!r} failed verification: {listed}; "
                f"rebuild it with: argus models build {name} --force"
            )
        return manifest
