"""Schemathesis over the whole OpenAPI document, in-process: no 5xx, every response documented.

Checks: no server errors, status codes, content types, headers and bodies as
documented, and invalid requests rejected. The app runs on its in-memory fakes
(database, bus, pipelines) inside one Starlette ``TestClient`` for the module,
so generated requests hit a live app whose state grows as the run goes.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import checks

with warnings.catch_warnings():
    # Starlette 0.52's test client names anyio's deprecated BlockingPortal alias at import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from tests.auth_support import ADMIN, ADMIN_PASSWORD, bearer, settings_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _app(data_dir: Path) -> FastAPI:
    async def opener(_: Settings) -> Adapters:
        return Adapters(
            database=MemoryDatabase(), bus=MemoryEventBus(), pipelines=MemoryPipelines()
        )

    return build_app(settings_for(data_dir), open_adapters=opener)


schema = schemathesis.openapi.from_asgi("/api/openapi.json", _app(Path("/nonexistent")))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(_app(tmp_path_factory.mktemp("data")), raise_server_exceptions=False) as c:
        form = {"username": ADMIN, "password": ADMIN_PASSWORD}
        token = c.post("/api/v1/auth/token", data=form).json()["access_token"]
        c.headers.update(bearer(token))
        yield c


def _multipart_safe(files: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Generated multipart parts whose values are not text or bytes (numbers for extra
    fields), as JSON text: a browser sends every part as bytes."""
    safe: list[tuple[str, Any]] = []
    for name, value in files:
        part: Any = value
        if isinstance(value, tuple):
            filename, content, *rest = value
            if not isinstance(content, bytes | str):
                content = json.dumps(content)
            part = (filename, content, *rest)
        elif not isinstance(value, bytes | str):
            part = json.dumps(value)
        safe.append((name, part))
    return safe


@schema.parametrize()
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case: schemathesis.Case[Any], client: TestClient) -> None:
    request = case.as_transport_kwargs(base_url=str(client.base_url))
    assert not request.pop("cookies", None), "the API documents no cookies"
    if isinstance(request.get("data"), bytes | str):
        request["content"] = request.pop("data")
    if request.get("files"):
        request["files"] = _multipart_safe(request["files"])
    # Generated requests act as the admin: generated credentials are dropped.
    generated = request.pop("headers", None) or {}
    kept = {k: v for k, v in generated.items() if k.lower() not in {"authorization", "x-api-key"}}
    headers = {**client.headers, **kept}
    response = client.request(**request, headers=headers)
    response.request.read()  # a multipart upload is a stream until read; the checks read it
    # Valid JSON may still break a domain rule the schema cannot state (a line whose
    # ends coincide, a password in a URL): a 422 for it is right, not a failure.
    # Requests carry the admin's token whatever auth schemathesis generated, so its
    # "ignored auth" check would misread the 200s; test_authz_matrix tests auth instead.
    case.validate_response(
        response, excluded_checks=[checks.positive_data_acceptance, checks.ignored_auth]
    )
