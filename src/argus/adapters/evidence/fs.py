"""Blobs as files under a root directory (the default evidence store).

Writes are atomic: the bytes go to a temporary file in the target directory,
are flushed to disk (``fsync``), and the file is renamed over the key's path,
then the directory is synced, so a crash leaves the old object or the new
one, never a torn one. Temporary names start with a dot, which no valid key
part does, so listings never show them. Every path is resolved (following
symlinks) and must stay under the root, on top of the key rules of
``check_blob_key``.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from argus.domain.errors import NotFoundError, StorageError, ValidationError
from argus.domain.evidence import check_blob_key, check_blob_prefix

__all__ = ["FileBlobStore"]

_TEMP_PREFIX = ".tmp-"


class FileBlobStore:
    """A ``BlobStore`` on the local filesystem.

    Args:
        root: The directory objects live under (created on first write).
    """

    def __init__(self, root: Path) -> None:
        self._root = Path(root).resolve()
        self._closed = False

    @property
    def root(self) -> Path:
        """The resolved root directory."""
        return self._root

    def _path(self, key: str) -> Path:
        if self._closed:
            raise StorageError("the evidence file store is closed")
        check_blob_key(key)
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._root) or path == self._root:
            raise ValidationError(f"blob key {key!r} resolves outside the store")
        return path

    async def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        await asyncio.to_thread(self._write, path, bytes(data))

    def _write(self, path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX)
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                Path(temp).replace(path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
            directory = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            raise StorageError(f"writing {path} failed: {exc}") from exc

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotFoundError(f"no blob {key!r}") from None
        except OSError as exc:
            raise StorageError(f"reading {path} failed: {exc}") from exc

    async def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        except (IsADirectoryError, NotADirectoryError):
            return
        except OSError as exc:
            raise StorageError(f"deleting {path} failed: {exc}") from exc

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        return await asyncio.to_thread(path.is_file)

    async def keys(self, prefix: str = "") -> list[str]:
        if self._closed:
            raise StorageError("the evidence file store is closed")
        check_blob_prefix(prefix)
        return await asyncio.to_thread(self._list, prefix)

    def _list(self, prefix: str) -> list[str]:
        found: list[str] = []
        try:
            for directory, subdirs, files in os.walk(self._root):
                # Hidden directories are no part of a valid key; never descend into them.
                subdirs[:] = [d for d in subdirs if not d.startswith(".")]
                base = Path(directory).relative_to(self._root)
                for name in files:
                    if name.startswith("."):
                        continue
                    key = (base / name).as_posix()
                    if key.startswith(prefix):
                        found.append(key)
        except OSError as exc:
            raise StorageError(f"listing {self._root} failed: {exc}") from exc
        return sorted(found)

    async def close(self) -> None:
        self._closed = True
