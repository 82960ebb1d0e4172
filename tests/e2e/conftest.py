"""Runs the installed ``argus`` command in a private data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.browser_support import browser, screenshot_dirs

# Playwright's assertions wait 5 s by default: too little for a live update (a socket
# message, a re-read of the list) on a 2-core machine running the whole suite. The wait
# stays bounded; a test that needs longer still says so with its own ``timeout``.
expect.set_options(timeout=30_000)

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


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Headless Debian chromium for one module.

    Not session-wide: Playwright's sync API keeps its event loop running in the
    main thread while it is open, and every later asyncio test would fail with
    "Cannot run the event loop while another loop is running".
    """
    with browser() as launched:
        yield launched


@pytest.fixture(scope="module")
def shots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Where the module's screenshots go (a folder per module under ARGUS_SCREENSHOTS_DIR)."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    return screenshot_dirs(tmp_path_factory.mktemp(f"{name}-shots"), name)
