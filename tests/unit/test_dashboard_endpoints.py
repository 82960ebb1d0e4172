"""Every REST call the dashboard's JavaScript makes exists in the OpenAPI document.

The dashboard (``src/argus/api/static``) calls the API through the helpers of
``api.js`` (``get``, ``post``, ``postRaw``, ``patch``, ``put``, ``del``, ``blobUrl``,
``stream``) with paths relative to ``/api/v1``, and ``api.js`` itself calls ``fetch``/``send`` for
signing in and out. This scans those call sites, turns each path into a
template (``${...}`` becomes a parameter, the query string is dropped) and
checks it, with its method, against ``/api/openapi.json``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from argus.api.app import API_PREFIX, DASHBOARD_DIR
from argus.bootstrap.app import build_app
from tests.auth_support import settings_for

HELPERS = {
    "get": "get",
    "post": "post",
    "patch": "patch",
    "put": "put",
    "postRaw": "post",
    "del": "delete",
    "blobUrl": "get",
    "stream": "get",
}
_HELPER_CALL = re.compile(
    r"\b(get|post|postRaw|patch|put|del|blobUrl|stream)\(\s*[`\"'](/[^`\"']*)[`\"']"
)
_SEND_CALL = re.compile(r"\bsend\(\s*\"(\w+)\",\s*[`\"'](/[^`\"']*)[`\"']")
_FETCH_CALL = re.compile(r"fetch\(`\$\{API\}(/[^`]*)`,\s*\{\s*method:\s*\"(\w+)\"")
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\{[^}/]*\}")


def _template(path: str) -> str:
    return _PLACEHOLDER.sub("{}", path.split("?", 1)[0])


def dashboard_calls(root: Path = DASHBOARD_DIR) -> set[tuple[str, str]]:
    """``(method, /api/v1 path template)`` of every API call in the dashboard's modules."""
    calls: set[tuple[str, str]] = set()
    for module in sorted(root.rglob("*.js")):
        text = module.read_text()
        for helper, path in _HELPER_CALL.findall(text):
            calls.add((HELPERS[helper], _template(API_PREFIX + path)))
        for method, path in _SEND_CALL.findall(text):
            calls.add((method.lower(), _template(API_PREFIX + path)))
        for path, method in _FETCH_CALL.findall(text):
            calls.add((method.lower(), _template(API_PREFIX + path)))
        for literal in re.findall(r"/api/v1(/[^`\"'\s]*)", text):
            calls.add(("get", _template(API_PREFIX + literal)))
    return calls


@pytest.fixture(scope="module")
def documented(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    app = build_app(settings_for(tmp_path_factory.mktemp("openapi")))
    paths: dict[str, dict[str, object]] = app.openapi()["paths"]
    return {(method, _template(path)) for path, ops in paths.items() for method in ops}


def test_the_scan_finds_the_dashboards_calls() -> None:
    calls = dashboard_calls()
    assert len(calls) >= 25
    assert ("post", "/api/v1/auth/token") in calls
    assert ("post", "/api/v1/alerts/{}/acknowledge") in calls
    assert ("get", "/api/v1/cameras/{}/snapshot") in calls
    assert ("get", "/api/v1/cameras/{}/stream") in calls


def test_every_dashboard_call_is_documented(documented: set[tuple[str, str]]) -> None:
    missing = sorted(dashboard_calls() - documented)
    assert not missing, f"the dashboard calls endpoints the API does not have: {missing}"


def test_the_check_catches_an_unknown_endpoint(
    tmp_path: Path, documented: set[tuple[str, str]]
) -> None:
    (tmp_path / "bad.js").write_text(
        'await post(`/alerts/${id}/snooze`, {});\nawait get("/cameras");\n'
    )
    calls = dashboard_calls(tmp_path)
    assert calls - documented == {("post", "/api/v1/alerts/{}/snooze")}


def test_the_dashboard_loads_nothing_from_other_hosts() -> None:
    """No CDN: the machine may be offline, and every asset is served by Argus."""
    outside = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)
    found = {
        f"{path.name}: {match}"
        for path in DASHBOARD_DIR.rglob("*")
        if path.is_file()
        for match in outside.findall(path.read_text())
        if match != "http://www.w3.org"  # the SVG namespace is a name, not a download
    }
    assert not found, f"the dashboard refers to other hosts: {sorted(found)}"
