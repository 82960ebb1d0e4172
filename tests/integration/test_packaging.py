"""The built wheel carries what ``argus serve`` needs besides the Python modules.

Builds the wheel from a copy of the sources (so no ``build/`` or egg-info lands
in the checkout) with the venv's own build backend, then checks that every
dashboard file, the migration template and ``py.typed`` are inside it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "argus"


def _build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    out = tmp_path / "dist"
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--quiet",
        "--wheel-dir",
        str(out),
        str(source),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=540, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = out.glob("argus-*.whl")
    return wheel


def test_the_wheel_carries_the_dashboard_and_data_files(tmp_path: Path) -> None:
    names = set(zipfile.ZipFile(_build_wheel(tmp_path)).namelist())
    static = sorted(
        f"argus/{path.relative_to(PACKAGE).as_posix()}"
        for path in (PACKAGE / "api" / "static").rglob("*")
        if path.is_file()
    )
    assert len(static) >= 10
    missing = [name for name in static if name not in names]
    assert not missing, f"the wheel lacks dashboard files: {missing}"
    assert "argus/py.typed" in names
    assert "argus/adapters/db/migrations/script.py.mako" in names
    migrations = [n for n in names if n.startswith("argus/adapters/db/migrations/versions/")]
    assert migrations, "the wheel lacks the database migrations"
