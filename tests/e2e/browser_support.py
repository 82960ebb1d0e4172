"""Headless Debian ``chromium`` under Playwright, and where screenshots go.

No browser is downloaded: Playwright drives ``/usr/bin/chromium`` (installed by
``scripts/system-deps.sh``). Screenshots land in the test's tmp dir and, when
``ARGUS_SCREENSHOTS_DIR`` is set, there as well.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "browser", "screenshot_dirs"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@contextmanager
def browser() -> Iterator[Browser]:
    """A launched headless chromium; skips (with the reason) where it is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is missing: run scripts/system-deps.sh (make test does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def screenshot_dirs(tmp_path: Path) -> list[Path]:
    """The tmp dir's ``screenshots`` folder, plus ``ARGUS_SCREENSHOTS_DIR`` when set."""
    dirs = [tmp_path / "screenshots"]
    extra = os.environ.get("ARGUS_SCREENSHOTS_DIR")
    if extra:
        dirs.append(Path(extra))
    for folder in dirs:
        folder.mkdir(parents=True, exist_ok=True)
    return dirs
