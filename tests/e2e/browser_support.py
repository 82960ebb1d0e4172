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
from re import Pattern

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "UNLABELLED",
    "bearer_of",
    "browser",
    "nav_to",
    "screenshot_dirs",
    "shoot",
    "sign_in",
]

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


def screenshot_dirs(tmp_path: Path, name: str = "") -> list[Path]:
    """The tmp dir's ``screenshots`` folder, plus ``ARGUS_SCREENSHOTS_DIR/name`` when set."""
    dirs = [tmp_path / "screenshots"]
    extra = os.environ.get("ARGUS_SCREENSHOTS_DIR")
    if extra:
        dirs.append(Path(extra) / name)
    for folder in dirs:
        folder.mkdir(parents=True, exist_ok=True)
    return dirs


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button, img, canvas')]
    .filter((e) => e.getAttribute('aria-hidden') !== 'true' && e.offsetParent !== null)
    .filter((e) => {
        if (e.tagName === 'IMG') return !e.hasAttribute('alt');
        if (e.tagName === 'BUTTON') return !(e.textContent.trim() || e.getAttribute('aria-label'));
        if (e.tagName === 'CANVAS') return !e.getAttribute('aria-label');
        const named = e.getAttribute('aria-label') || e.getAttribute('aria-labelledby');
        return !(e.labels?.length || named);
    })
    .map((e) => e.outerHTML.slice(0, 120))"""
"""Visible controls and images without an accessible name."""


def shoot(page: Page, shots: list[Path], name: str) -> None:
    """Screenshot the page, after checking that every control on it has a name."""
    unnamed = page.evaluate(UNLABELLED)
    assert unnamed == [], f"controls without an accessible name on {name}: {unnamed}"
    for folder in shots:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def sign_in(page: Page, url: str, username: str, password: str, otp: str | None = None) -> None:
    """Open the dashboard at ``url`` and sign in (with ``otp`` when the server asks for one)."""
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if otp is not None:
        expect(page.get_by_label("Authentication code")).to_be_visible()
        page.get_by_label("Authentication code").fill(otp)
        page.get_by_role("button", name="Sign in").click()


def nav_to(page: Page, name: str | Pattern[str]) -> None:
    """Follow the main navigation's link ``name``, opening the menu it folds into on a phone."""
    menu = page.get_by_role("button", name="Menu", exact=True)
    if menu.is_visible() and menu.get_attribute("aria-expanded") != "true":
        menu.click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def bearer_of(page: Page) -> dict[str, str]:
    """The ``Authorization`` header of the page's signed-in session."""
    token = page.evaluate("() => sessionStorage.getItem('argus.access')")
    return {"authorization": f"Bearer {token}"}
