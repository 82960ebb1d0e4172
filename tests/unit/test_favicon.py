"""Browsers ask ``/favicon.ico`` of pages that name no icon: it leads to the dashboard's icon."""

from __future__ import annotations

import warnings
from pathlib import Path

with warnings.catch_warnings():
    # Starlette's test client names anyio's deprecated BlockingPortal alias at import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient

from argus.bootstrap.app import build_app
from tests.auth_support import settings_for


def test_favicon_ico_redirects_to_the_svg(tmp_path: Path) -> None:
    client = TestClient(build_app(settings_for(tmp_path)))
    for method in ("GET", "HEAD"):
        answer = client.request(method, "/favicon.ico", follow_redirects=False)
        assert answer.status_code == 301
        assert answer.headers["location"] == "/ui/favicon.svg"
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in icon.content
