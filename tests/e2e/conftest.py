"""Runs the installed ``argus`` command in a private data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ARGUS = str(Path(sys.executable).with_name("argus"))
EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"

RunArgus = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("argus-data")


@pytest.fixture(scope="session")
def argus(data_dir: Path) -> RunArgus:
    env = {**os.environ, "ARGUS_DATA_DIR": str(data_dir)}

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [ARGUS, *args], capture_output=True, text=True, env=env, timeout=600, check=False
        )
        if check and result.returncode != 0:
            pytest.fail(f"argus {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    return run


@pytest.fixture(scope="session")
def built(argus: RunArgus) -> RunArgus:
    """The ``argus`` runner after the default pack is built."""
    argus("models", "build")
    return argus


def eval_media(name: str) -> Path:
    path = EVAL / "media" / name
    if not path.is_file():
        pytest.skip(f"{path} is absent: ../shared/eval is only beside a project checkout")
    return path
