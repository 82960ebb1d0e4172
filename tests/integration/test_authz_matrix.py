"""Who may call what: every operation of the OpenAPI document by every kind of caller.

The operations come from the app's own OpenAPI document; the permission each
needs comes from ``TABLE`` below, written by hand from the guards in
``argus.api.app``. An operation the document has and the table lacks fails
(a new endpoint cannot ship unreviewed), and so does a table entry the
document lacks.

Callers: anonymous, an API key with only ``ingest``, a viewer, an operator,
an operator scoped to camera A, an admin scoped to cameras A and a spare one
(the spare is what it may delete), and an unscoped admin. *Denied* is 401
with ``WWW-Authenticate: Bearer`` for anonymous and 403 for a known caller;
*allowed* is any other answer below 500 (404, 409 and 422 only say the
request got past authorisation). Path parameters are real ids on camera A;
a caller expected to succeed at a delete gets a fresh victim to delete, so
the shared fixtures survive the run. The matrix runs over the in-memory
store (the guards act before any query); the camera-scope checks (paths,
queries, items by id, lists) run over memory and SQLite, whose queries do
the narrowing.

Order of checks (verified by ``test_authorisation_comes_before_validation``):
router dependencies (authentication, then the guard) run before FastAPI
reports invalid path, query or body parameters, so a denied caller sends a
well-formed but invalid request and still gets 401/403, never 422. Two
things are checked before authentication: a body that is not JSON at all
(FastAPI decodes it before solving dependencies) and a repeated or empty
query parameter (``single_query_values`` is a dependency of the ``/api/v1``
router, listed before each resource router's guard); both answer 422 to
anyone. The body limit (413) and the per-address rate limit (429) are
middleware and come first too, by design.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from argus.adapters.bus.memory import MemoryEventBus
from argus.adapters.db.memory import MemoryDatabase
from argus.adapters.pipelines_memory import MemoryPipelines
from argus.bootstrap.adapters import Adapters
from argus.bootstrap.app import build_app
from argus.config import Settings
from argus.ports.paging import MAX_PAGE
from tests.auth_support import (
    ADMIN,
    ADMIN_PASSWORD,
    USER_PASSWORD,
    admin_token,
    bearer,
    make_user,
    settings_for,
    sign_in,
)
from tests.integration.api_support import STORES, Api, api, crossing, eventually
from tests.integration.live_support import WAIT, live_client, served

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

Operation = tuple[str, str]
"""(HTTP method, path template as the OpenAPI document spells it)."""


def _app(data_dir: Path) -> FastAPI:
    async def opener(_: Settings) -> Adapters:
        return Adapters(
            database=MemoryDatabase(), bus=MemoryEventBus(ack_wait=0.5), pipelines=MemoryPipelines()
        )

    return build_app(settings_for(data_dir), open_adapters=opener)


def _operations(document: Mapping[str, Any]) -> list[Operation]:
    methods = {"get", "put", "post", "patch", "delete", "head", "options"}
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in methods
    ]


# The document as the app builds it (no lifespan needed); the served one is compared below.
DOCUMENT: dict[str, Any] = _app(Path("/nonexistent")).openapi()
OPERATIONS = _operations(DOCUMENT)

# --- the expected permission of every operation --------------------------------------------

Need = Literal[
    "public",
    "signed_in",
    "user",
    "view",
    "operate",
    "configure",
    "ingest",
    "edge",
    "admin",
    "admin_role",
]
"""``public``: no credentials; ``signed_in``: any user or key; ``user``: a user, not a key;
a permission name: the guard's permission; ``admin_role``: ``operate`` and the admin role
(deleting evidence)."""


@dataclass(frozen=True, slots=True)
class Access:
    """What an operation needs; ``unscoped``: refused to camera-scoped callers whatever
    their role (registering a camera)."""

    need: Need
    unscoped: bool = False


PUBLIC = Access("public")
SIGNED_IN = Access("signed_in")
VIEW = Access("view")
OPERATE = Access("operate")
CONFIGURE = Access("configure")
ADMIN_ONLY = Access("admin")

TABLE: Mapping[Operation, Access] = {
    # /auth: sign-in is public; the own-account routes take any signed-in user and refuse
    # an API key (403: a key has no account).
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/auth/refresh"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): PUBLIC,
    ("GET", "/api/v1/auth/me"): Access("user"),
    ("POST", "/api/v1/auth/password"): Access("user"),
    ("POST", "/api/v1/auth/mfa/enrol"): Access("user"),
    ("GET", "/api/v1/auth/mfa/qr.png"): Access("user"),
    ("POST", "/api/v1/auth/mfa/confirm"): Access("user"),
    ("POST", "/api/v1/auth/mfa/disable"): Access("user"),
    ("POST", "/api/v1/auth/mfa/recovery-codes"): Access("user"),
    # Evidence: Guard("view", "operate"); deleting also needs the admin role.
    ("GET", "/api/v1/evidence"): VIEW,
    ("GET", "/api/v1/evidence/keys/signing"): VIEW,
    ("GET", "/api/v1/evidence/gaps"): VIEW,
    ("GET", "/api/v1/evidence/{evidence_id}"): VIEW,
    ("DELETE", "/api/v1/evidence/{evidence_id}"): Access("admin_role"),
    ("GET", "/api/v1/evidence/{evidence_id}/content"): VIEW,
    ("GET", "/api/v1/evidence/{evidence_id}/verify"): VIEW,
    ("POST", "/api/v1/evidence/{evidence_id}/lock"): OPERATE,
    ("POST", "/api/v1/evidence/{evidence_id}/unlock"): OPERATE,
    ("GET", "/api/v1/incidents/{incident_id}/evidence"): VIEW,
    ("POST", "/api/v1/incidents/{incident_id}/evidence"): OPERATE,
    ("POST", "/api/v1/evidence-bundles"): OPERATE,
    # Recordings: the evidence guard; viewers play, exporting a range needs operate.
    ("GET", "/api/v1/cameras/{camera_id}/recordings"): VIEW,
    ("GET", "/api/v1/cameras/{camera_id}/recordings/{segment_id}"): VIEW,
    ("POST", "/api/v1/cameras/{camera_id}/recordings/export"): OPERATE,
    # Cameras, lines, zones, rules: Guard("view", "configure").
    ("POST", "/api/v1/cameras"): Access("configure", unscoped=True),
    ("POST", "/api/v1/cameras/probe"): Access("configure", unscoped=True),
    ("GET", "/api/v1/cameras"): VIEW,
    ("GET", "/api/v1/cameras/{camera_id}"): VIEW,
    ("PATCH", "/api/v1/cameras/{camera_id}"): CONFIGURE,
    ("DELETE", "/api/v1/cameras/{camera_id}"): CONFIGURE,
    ("GET", "/api/v1/cameras/{camera_id}/snapshot"): VIEW,
    ("GET", "/api/v1/cameras/{camera_id}/status"): VIEW,
    ("GET", "/api/v1/cameras/{camera_id}/stream"): VIEW,
    ("POST", "/api/v1/cameras/{camera_id}/lines"): CONFIGURE,
    ("GET", "/api/v1/cameras/{camera_id}/lines"): VIEW,
    ("GET", "/api/v1/cameras/{camera_id}/lines/{line_id}"): VIEW,
    ("PATCH", "/api/v1/cameras/{camera_id}/lines/{line_id}"): CONFIGURE,
    ("DELETE", "/api/v1/cameras/{camera_id}/lines/{line_id}"): CONFIGURE,
    ("POST", "/api/v1/cameras/{camera_id}/zones"): CONFIGURE,
    ("GET", "/api/v1/cameras/{camera_id}/zones"): VIEW,
    ("GET", "/api/v1/cameras/{camera_id}/zones/{zone_id}"): VIEW,
    ("PATCH", "/api/v1/cameras/{camera_id}/zones/{zone_id}"): CONFIGURE,
    ("DELETE", "/api/v1/cameras/{camera_id}/zones/{zone_id}"): CONFIGURE,
    ("POST", "/api/v1/rules"): CONFIGURE,
    ("GET", "/api/v1/rules"): VIEW,
    ("GET", "/api/v1/rules/{rule_id}"): VIEW,
    ("PATCH", "/api/v1/rules/{rule_id}"): CONFIGURE,
    ("DELETE", "/api/v1/rules/{rule_id}"): CONFIGURE,
    ("POST", "/api/v1/rules/dry-run"): CONFIGURE,
    ("POST", "/api/v1/rules/preview"): CONFIGURE,
    # Events: Guard("view", "ingest").
    ("GET", "/api/v1/events"): VIEW,
    ("POST", "/api/v1/events"): Access("ingest"),
    ("GET", "/api/v1/events/{event_id}"): VIEW,
    # Analytics: Guard("view", "view").
    ("GET", "/api/v1/analytics/counts"): VIEW,
    ("GET", "/api/v1/analytics/dwell"): VIEW,
    ("GET", "/api/v1/analytics/detections"): VIEW,
    ("GET", "/api/v1/cameras/{camera_id}/heatmap.png"): VIEW,
    ("GET", "/api/v1/cameras/{camera_id}/heatmap"): VIEW,
    # Alerts and incidents: Guard("view", "operate").
    ("GET", "/api/v1/alerts"): VIEW,
    ("GET", "/api/v1/alerts/{alert_id}"): VIEW,
    ("GET", "/api/v1/alerts/summary"): VIEW,
    ("POST", "/api/v1/alerts/bulk"): OPERATE,
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): OPERATE,
    ("POST", "/api/v1/alerts/{alert_id}/confirm"): OPERATE,
    ("POST", "/api/v1/alerts/{alert_id}/dismiss"): OPERATE,
    ("GET", "/api/v1/alerts/{alert_id}/overlay"): VIEW,
    ("POST", "/api/v1/alerts/{alert_id}/undo-dismiss"): OPERATE,
    ("GET", "/api/v1/feedback"): VIEW,
    ("GET", "/api/v1/feedback/summary"): VIEW,
    # Rule suggestions: Guard("view", "admin").
    ("GET", "/api/v1/suggestions"): VIEW,
    ("POST", "/api/v1/suggestions/refresh"): ADMIN_ONLY,
    ("POST", "/api/v1/suggestions/{suggestion_id}/apply"): ADMIN_ONLY,
    ("POST", "/api/v1/suggestions/{suggestion_id}/dismiss"): ADMIN_ONLY,
    ("POST", "/api/v1/incidents"): OPERATE,
    ("GET", "/api/v1/incidents"): VIEW,
    ("GET", "/api/v1/incidents/{incident_id}"): VIEW,
    ("PATCH", "/api/v1/incidents/{incident_id}"): OPERATE,
    ("DELETE", "/api/v1/incidents/{incident_id}"): OPERATE,
    ("POST", "/api/v1/incidents/{incident_id}/status"): OPERATE,
    ("POST", "/api/v1/incidents/{incident_id}/notes"): OPERATE,
    # Users, API keys, the security policy, the audit trail: Guard("admin", "admin").
    ("POST", "/api/v1/users"): ADMIN_ONLY,
    ("GET", "/api/v1/users"): ADMIN_ONLY,
    ("GET", "/api/v1/users/{user_id}"): ADMIN_ONLY,
    ("PATCH", "/api/v1/users/{user_id}"): ADMIN_ONLY,
    ("DELETE", "/api/v1/users/{user_id}"): ADMIN_ONLY,
    ("POST", "/api/v1/users/{user_id}/unlock"): ADMIN_ONLY,
    ("POST", "/api/v1/users/{user_id}/reset-mfa"): ADMIN_ONLY,
    ("POST", "/api/v1/api-keys"): ADMIN_ONLY,
    ("GET", "/api/v1/api-keys"): ADMIN_ONLY,
    ("DELETE", "/api/v1/api-keys/{key_id}"): ADMIN_ONLY,
    ("GET", "/api/v1/security/policy"): ADMIN_ONLY,
    ("PUT", "/api/v1/security/policy"): ADMIN_ONLY,
    ("GET", "/api/v1/audit"): ADMIN_ONLY,
    ("GET", "/api/v1/audit/verify"): ADMIN_ONLY,
    # Retention, legal holds and audit checkpoints: Guard("admin", "admin").
    ("GET", "/api/v1/retention"): ADMIN_ONLY,
    ("PUT", "/api/v1/retention"): ADMIN_ONLY,
    ("POST", "/api/v1/retention/sweep"): ADMIN_ONLY,
    ("PUT", "/api/v1/incidents/{incident_id}/hold"): ADMIN_ONLY,
    ("DELETE", "/api/v1/incidents/{incident_id}/hold"): ADMIN_ONLY,
    ("GET", "/api/v1/audit/checkpoints"): ADMIN_ONLY,
    # A signed, expiring snapshot link: no credentials (the token is the authorisation).
    ("GET", "/api/v1/shared/snapshots/{token}"): PUBLIC,
    # Alert groups and snoozes: Guard("view", "operate"); maintenance: Guard("view", "configure").
    ("GET", "/api/v1/alert-groups"): VIEW,
    ("GET", "/api/v1/alert-groups/{group_id}"): VIEW,
    ("GET", "/api/v1/alert-groups/{group_id}/alerts"): VIEW,
    ("POST", "/api/v1/alert-groups/{group_id}/acknowledge"): OPERATE,
    ("POST", "/api/v1/alert-groups/{group_id}/dismiss"): OPERATE,
    ("GET", "/api/v1/snoozes"): VIEW,
    ("POST", "/api/v1/snoozes"): OPERATE,
    ("DELETE", "/api/v1/snoozes/{snooze_id}"): OPERATE,
    ("GET", "/api/v1/maintenance-windows"): VIEW,
    ("POST", "/api/v1/maintenance-windows"): CONFIGURE,
    ("DELETE", "/api/v1/maintenance-windows/{window_id}"): CONFIGURE,
    # Privacy requests: Guard("admin", "admin").
    ("POST", "/api/v1/privacy/subjects/{subject_id}/erase"): ADMIN_ONLY,
    ("POST", "/api/v1/privacy/subjects/{subject_id}/export"): ADMIN_ONLY,
    ("POST", "/api/v1/privacy/erasures"): ADMIN_ONLY,
    ("GET", "/api/v1/privacy/requests"): ADMIN_ONLY,
    # Re-count jobs: Guard("view", "operate"); a camera-scoped caller re-counts its cameras.
    ("POST", "/api/v1/cameras/{camera_id}/recounts"): OPERATE,
    ("GET", "/api/v1/recounts/{job_id}"): VIEW,
    ("GET", "/api/v1/recounts"): VIEW,
    ("GET", "/api/v1/search"): VIEW,
    # The hard-example queue: Guard("view", "operate"); examples outside the scope are 404.
    ("GET", "/api/v1/examples"): VIEW,
    ("GET", "/api/v1/examples/summary"): VIEW,
    ("GET", "/api/v1/examples/{example_id}"): VIEW,
    ("GET", "/api/v1/examples/{example_id}/frame"): VIEW,
    # Labelling hard examples: Guard("view", "operate"); examples outside the scope are 404.
    ("POST", "/api/v1/examples/next"): OPERATE,
    ("POST", "/api/v1/examples/{example_id}/claim"): OPERATE,
    ("POST", "/api/v1/examples/{example_id}/release"): OPERATE,
    ("PUT", "/api/v1/examples/{example_id}/labels"): OPERATE,
    ("POST", "/api/v1/examples/{example_id}/review"): OPERATE,
    # The model registry: Guard("view", "configure"); camera changes in the caller's scope.
    ("GET", "/api/v1/models"): VIEW,
    ("GET", "/api/v1/models/{name}/versions"): VIEW,
    ("POST", "/api/v1/models/promote"): CONFIGURE,
    ("GET", "/api/v1/cameras/{camera_id}/model"): VIEW,
    ("PUT", "/api/v1/cameras/{camera_id}/model"): CONFIGURE,
    ("POST", "/api/v1/cameras/{camera_id}/model/rollback"): CONFIGURE,
    # Shadow runs and evaluations: Guard("view", "configure"); shadow runs in the caller's scope.
    ("PUT", "/api/v1/cameras/{camera_id}/shadow"): CONFIGURE,
    ("DELETE", "/api/v1/cameras/{camera_id}/shadow"): CONFIGURE,
    ("GET", "/api/v1/models/shadow"): VIEW,
    ("POST", "/api/v1/models/evaluations"): CONFIGURE,
    ("GET", "/api/v1/models/evaluations"): VIEW,
    ("GET", "/api/v1/models/evaluations/{evaluation_id}"): VIEW,
    # Dataset export: Guard("configure", "configure"); a scoped caller exports its cameras.
    ("POST", "/api/v1/datasets/preview"): CONFIGURE,
    ("POST", "/api/v1/datasets/export"): CONFIGURE,
    # The risk policy and the site: Guard("view", "admin").
    ("GET", "/api/v1/risk-policy"): VIEW,
    ("PUT", "/api/v1/risk-policy"): ADMIN_ONLY,
    ("POST", "/api/v1/risk-policy/preview"): ADMIN_ONLY,
    ("GET", "/api/v1/site"): VIEW,
    ("PUT", "/api/v1/site"): ADMIN_ONLY,
    # Notification channels, routes and the outbox: Guard("configure", "configure"), refused
    # to camera-scoped callers (a channel carries every camera's alerts).
    ("GET", "/api/v1/channels"): Access("configure", unscoped=True),
    ("POST", "/api/v1/channels"): Access("configure", unscoped=True),
    ("GET", "/api/v1/channels/{channel_id}"): Access("configure", unscoped=True),
    ("PATCH", "/api/v1/channels/{channel_id}"): Access("configure", unscoped=True),
    ("DELETE", "/api/v1/channels/{channel_id}"): Access("configure", unscoped=True),
    ("POST", "/api/v1/channels/{channel_id}/test"): Access("configure", unscoped=True),
    ("GET", "/api/v1/routes"): Access("configure", unscoped=True),
    ("POST", "/api/v1/routes"): Access("configure", unscoped=True),
    ("GET", "/api/v1/routes/{route_id}"): Access("configure", unscoped=True),
    ("PATCH", "/api/v1/routes/{route_id}"): Access("configure", unscoped=True),
    ("DELETE", "/api/v1/routes/{route_id}"): Access("configure", unscoped=True),
    ("GET", "/api/v1/recipient-groups"): Access("configure", unscoped=True),
    ("PUT", "/api/v1/recipient-groups"): Access("configure", unscoped=True),
    ("GET", "/api/v1/notifications"): Access("configure", unscoped=True),
    ("POST", "/api/v1/notifications/{notification_id}/retry"): Access("configure", unscoped=True),
    # The delivery log of one alert: Guard("view", "operate"), in the alert's camera scope.
    ("GET", "/api/v1/alerts/{alert_id}/deliveries"): VIEW,
    # Workstations (face subjects, verify clients, capacity, decisions): Guard("admin", "admin").
    ("POST", "/api/v1/workstations/subjects"): ADMIN_ONLY,
    ("GET", "/api/v1/workstations/subjects"): ADMIN_ONLY,
    ("GET", "/api/v1/workstations/subjects/{subject_id}"): ADMIN_ONLY,
    ("DELETE", "/api/v1/workstations/subjects/{subject_id}"): ADMIN_ONLY,
    ("POST", "/api/v1/workstations/subjects/{subject_id}/photos"): ADMIN_ONLY,
    ("GET", "/api/v1/workstations/subjects/{subject_id}/photos/{photo_id}"): ADMIN_ONLY,
    ("POST", "/api/v1/workstations/clients"): ADMIN_ONLY,
    ("GET", "/api/v1/workstations/clients"): ADMIN_ONLY,
    ("GET", "/api/v1/workstations/clients/{client_id}"): ADMIN_ONLY,
    ("PATCH", "/api/v1/workstations/clients/{client_id}"): ADMIN_ONLY,
    ("DELETE", "/api/v1/workstations/clients/{client_id}"): ADMIN_ONLY,
    ("POST", "/api/v1/workstations/clients/{client_id}/pause"): ADMIN_ONLY,
    ("POST", "/api/v1/workstations/clients/{client_id}/block"): ADMIN_ONLY,
    ("POST", "/api/v1/workstations/clients/{client_id}/unblock"): ADMIN_ONLY,
    ("GET", "/api/v1/workstations/pipelines"): ADMIN_ONLY,
    ("GET", "/api/v1/workstations/policy"): ADMIN_ONLY,
    ("PUT", "/api/v1/workstations/policy"): ADMIN_ONLY,
    ("GET", "/api/v1/workstations/decisions"): ADMIN_ONLY,
    # Probes.
    # Edge nodes: Guard("edge", "edge"); nodes and the event type catalogue: Guard("view", "view").
    ("POST", "/api/v1/edge/register"): Access("edge"),
    ("GET", "/api/v1/edge/config"): Access("edge"),
    ("POST", "/api/v1/edge/sync"): Access("edge"),
    ("GET", "/api/v1/nodes"): VIEW,
    ("GET", "/api/v1/nodes/{node_id}"): VIEW,
    ("GET", "/api/v1/event-types"): VIEW,
    ("GET", "/health/live"): PUBLIC,
    ("GET", "/health/ready"): PUBLIC,
}

# --- callers ------------------------------------------------------------------------------

EVERYTHING = frozenset({"view", "operate", "configure", "ingest", "edge", "admin"})


@dataclass(frozen=True, slots=True)
class Who:
    """A kind of caller and what it should be granted (written here, not read from the app)."""

    name: str
    kind: Literal["anonymous", "user", "apikey"]
    permissions: frozenset[str] = frozenset()
    role: str | None = None
    scoped: bool = False


ANONYMOUS = Who("anonymous", "anonymous")
INGEST_KEY = Who("ingest-key", "apikey", frozenset({"ingest"}))
VIEWER = Who("viewer", "user", frozenset({"view"}), "viewer")
OPERATOR = Who("operator", "user", frozenset({"view", "operate"}), "operator")
SCOPED_OPERATOR = Who("scoped-operator", "user", frozenset({"view", "operate"}), "operator", True)
SCOPED_ADMIN = Who("scoped-admin", "user", EVERYTHING, "admin", True)
ADMIN_USER = Who("admin", "user", EVERYTHING, "admin")
CALLERS = (ANONYMOUS, INGEST_KEY, VIEWER, OPERATOR, SCOPED_OPERATOR, SCOPED_ADMIN, ADMIN_USER)


def allowed(access: Access, who: Who) -> bool:
    """Whether ``who`` should get past authorisation of an operation needing ``access``."""
    need = access.need
    if need == "public" or who.kind == "anonymous":
        return need == "public"
    if need in ("signed_in", "user"):
        return need == "signed_in" or who.kind == "user"
    if who.scoped and (access.unscoped or need == "admin"):
        return False  # a camera-scoped admin could otherwise widen its own scope
    if need == "admin_role":
        return "operate" in who.permissions and who.role == "admin"
    return need in who.permissions


# --- the running app and its fixtures -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Payload:
    """A request body: JSON, a form, or multipart files."""

    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None


@dataclass(slots=True)
class World:
    """The app with cameras A and B (each with a line, zone, rule, event, alert, incident
    and evidence), a victim user and key, and the callers' credentials."""

    app: Api
    headers: dict[str, dict[str, str]]
    a: dict[str, str]
    b: dict[str, str]
    spare_camera: str
    refresh_token: str

    @property
    def client(self) -> httpx.AsyncClient:
        return self.app.client

    @property
    def admin(self) -> dict[str, str]:
        return self.headers[ADMIN_USER.name]

    async def send(
        self,
        method: str,
        path: str,
        who: Who,
        payload: Payload | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request as ``who``."""
        body: dict[str, Any] = {}
        if payload is not None:
            if payload.json is not None:
                body["json"] = payload.json
            if payload.data is not None:
                body["data"] = payload.data
            if payload.files is not None:
                body["files"] = payload.files
        return await self.client.request(
            method, path, headers=self.headers[who.name], params=params, **body
        )

    async def make(self, path: str, **body: Any) -> dict[str, Any]:
        """POST as the admin; the created thing."""
        answer = await self.client.post(path, headers=self.admin, **body)
        assert answer.status_code in (200, 201), f"{path}: {answer.status_code} {answer.text}"
        made: dict[str, Any] = answer.json()
        return made


def _unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def _note(camera_id: str) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("note.txt", f"evidence of {camera_id}".encode(), "text/plain")}


async def _camera(world: World, name: str) -> str:
    made = await world.make(
        "/api/v1/cameras", json={"name": name, "stream_url": f"rtsp://127.0.0.1:8554/{name}"}
    )
    return str(made["id"])


async def _alert_of(world: World, camera_id: str) -> str:
    found: list[str] = []

    async def raised() -> bool:
        answer = await world.client.get(
            "/api/v1/alerts", params={"camera_id": camera_id}, headers=world.admin
        )
        found[:] = [a["id"] for a in answer.json()["items"]]
        return bool(found)

    await eventually(raised, f"an alert on camera {camera_id}")
    return found[0]


async def _fill_camera(world: World, camera_id: str) -> dict[str, str]:
    """A line, zone, rule, event, alert, incident and evidence on the camera; their ids."""
    base = f"/api/v1/cameras/{camera_id}"
    line = await world.make(f"{base}/lines", json={"name": "door", "start": [0, 0], "end": [9, 9]})
    zone = await world.make(
        f"{base}/zones", json={"name": "lobby", "polygon": [[0, 0], [9, 0], [9, 9]]}
    )
    rule = await world.make("/api/v1/rules", json={"name": "door", "camera_id": camera_id})
    event = crossing(camera_id)
    await world.make("/api/v1/events", json={"events": [event.to_dict()]})
    alert_id = await _alert_of(world, camera_id)
    incident = await world.make(
        "/api/v1/incidents",
        json={"title": "break-in", "camera_id": camera_id, "alert_ids": [alert_id]},
    )
    evidence = await world.make(
        f"/api/v1/incidents/{incident['id']}/evidence", files=_note(camera_id)
    )
    assert evidence["camera_id"] == camera_id
    group = await world.client.get(f"/api/v1/alerts/{alert_id}", headers=world.admin)
    return {
        "group_id": group.json()["group_id"],
        "camera_id": camera_id,
        "line_id": line["id"],
        "zone_id": zone["id"],
        "rule_id": rule["id"],
        "event_id": event.event_id,
        "alert_id": alert_id,
        "incident_id": incident["id"],
        "evidence_id": evidence["id"],
        # No segment is recorded: a well-formed id answers 404 past authorisation.
        "segment_id": "20260301T120000.000Z",
    }


async def _build(app: Api) -> World:
    tokens = await sign_in(app.client)
    world = World(
        app=app,
        headers={ANONYMOUS.name: {}, ADMIN_USER.name: bearer(tokens["access_token"])},
        a={},
        b={},
        spare_camera="",
        refresh_token=tokens["refresh_token"],
    )
    # The fixtures are dated 2026-03-01: keep them through the sweep the matrix runs.
    keep = dict.fromkeys(("events", "alerts", "incidents", "evidence", "heatmap"), 36_500)
    answer = await world.client.put("/api/v1/retention", headers=world.admin, json=keep)
    assert answer.status_code == 200, answer.text
    cam_a, cam_b = await _camera(world, "cam-a"), await _camera(world, "cam-b")
    world.spare_camera = await _camera(world, "cam-spare")
    world.a = await _fill_camera(world, cam_a)
    world.b = await _fill_camera(world, cam_b)
    victim = await world.make(
        "/api/v1/users", json={"username": "victim", "password": USER_PASSWORD, "role": "viewer"}
    )
    key = await world.make("/api/v1/api-keys", json={"name": "victim", "permissions": ["view"]})
    subject = await world.make("/api/v1/workstations/subjects", json={"name": "alice"})
    desk = await world.make(
        "/api/v1/workstations/clients", json={"name": "desk-1", "subjects": [subject["id"]]}
    )
    shared = {
        "user_id": victim["id"],
        "key_id": key["id"],
        "subject_id": subject["id"],
        "client_id": desk["id"],
        "photo_id": "photo-1",  # alice has no photo: a 404 past authorisation
        "node_id": "node-1",  # never registered: a 404 past authorisation
    }
    channel = await world.make(
        "/api/v1/channels",
        json={"name": "ops", "kind": "webhook", "settings": {"url": "https://93.184.216.34/h"}},
    )
    route = await world.make(
        "/api/v1/routes", json={"name": "ops", "targets": [{"channel_id": channel["id"]}]}
    )
    shared.update(
        {
            "channel_id": channel["id"],
            "route_id": route["id"],
            # Unknown ids and a forged token: a 404 past authorisation.
            "notification_id": "01J0000000000000000000000N",
            "snooze_id": "01J0000000000000000000000S",
            "window_id": "01J0000000000000000000000W",
            "job_id": "01J0000000000000000000000R",
            "suggestion_id": "unknown-suggestion",
            "name": "unknown-pack",  # no such model pack: a 404 past authorisation
            "example_id": "unknown-example",  # no such example: a 404 past authorisation
            "evaluation_id": "unknown-evaluation",  # no such evaluation: a 404
            "token": "forged-token-0123456789abcdef",
        }
    )
    world.a.update(shared)
    world.b.update(shared)
    edge = await world.make("/api/v1/api-keys", json={"name": "edge", "permissions": ["ingest"]})
    world.headers[INGEST_KEY.name] = {"X-API-Key": edge["key"]}
    admin = tokens["access_token"]
    for who, cameras in (
        (VIEWER, None),
        (OPERATOR, None),
        (SCOPED_OPERATOR, [cam_a]),
        (SCOPED_ADMIN, [cam_a, world.spare_camera]),
    ):
        assert who.role is not None
        token = await make_user(app.client, admin, who.name, who.role, cameras)
        world.headers[who.name] = bearer(token)
    assert set(world.headers) == {who.name for who in CALLERS}
    return world


@pytest.fixture(scope="module", params=STORES)
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """The fixtures over each store: camera scopes are filtered in the store's queries."""
    directory = tmp_path_factory.mktemp(f"authz-{request.param}")
    async with api(request.param, directory, signed_in=False) as app:
        yield await _build(app)


MEMORY_ONLY = pytest.mark.parametrize("world", ["memory"], indirect=True)
"""For checks that do not depend on the store (the guards run before any query)."""


# --- request bodies and victims -----------------------------------------------------------


def _json(value: Any) -> Callable[[World], Payload]:
    return lambda _: Payload(json=value)


BODIES: Mapping[Operation, Callable[[World], Payload]] = {
    ("POST", "/api/v1/auth/token"): lambda _: Payload(
        data={"username": ADMIN, "password": ADMIN_PASSWORD, "grant_type": "password"}
    ),
    ("POST", "/api/v1/auth/refresh"): lambda w: Payload(json={"refresh_token": w.refresh_token}),
    ("POST", "/api/v1/auth/logout"): _json({"refresh_token": "rt_unknown.not-a-session"}),
    # Invalid on purpose: a valid one would change the caller's password or MFA and end its
    # session; a 422 proves the caller got past authentication.
    ("POST", "/api/v1/auth/password"): _json({}),
    ("POST", "/api/v1/auth/mfa/confirm"): _json({}),
    ("POST", "/api/v1/auth/mfa/disable"): _json({}),
    ("POST", "/api/v1/evidence-bundles"): lambda w: Payload(json={"ids": [w.a["evidence_id"]]}),
    ("POST", "/api/v1/datasets/preview"): _json({}),
    ("POST", "/api/v1/datasets/export"): _json({"val_fraction": 0.3}),
    ("POST", "/api/v1/incidents/{incident_id}/evidence"): lambda w: Payload(
        files=_note(w.a["camera_id"])
    ),
    ("POST", "/api/v1/cameras"): _json(
        {"name": "matrix", "stream_url": "rtsp://127.0.0.1:8554/matrix"}
    ),
    # A missing file: the probe answers at once (ok false) without touching the network.
    ("POST", "/api/v1/cameras/probe"): _json(
        {"stream_url": "/nonexistent/matrix.mp4", "timeout_s": 1}
    ),
    ("PATCH", "/api/v1/cameras/{camera_id}"): _json({"location": "hall"}),
    ("POST", "/api/v1/cameras/{camera_id}/lines"): _json(
        {"name": "matrix", "start": [0, 0], "end": [5, 5]}
    ),
    ("PATCH", "/api/v1/cameras/{camera_id}/lines/{line_id}"): _json({"in_label": "enter"}),
    ("POST", "/api/v1/cameras/{camera_id}/zones"): _json(
        {"name": "matrix", "polygon": [[0, 0], [5, 0], [5, 5]]}
    ),
    ("PATCH", "/api/v1/cameras/{camera_id}/zones/{zone_id}"): _json({"criticality": 0.5}),
    ("POST", "/api/v1/rules"): lambda w: Payload(
        json={"name": "matrix", "camera_id": w.a["camera_id"]}
    ),
    ("PATCH", "/api/v1/rules/{rule_id}"): _json({"description": "changed"}),
    ("POST", "/api/v1/rules/dry-run"): lambda w: Payload(
        json={"rule": {"name": "matrix", "camera_id": w.a["camera_id"]}}
    ),
    ("POST", "/api/v1/rules/preview"): lambda w: Payload(
        json={"rule": {"name": "matrix", "camera_id": w.a["camera_id"]}}
    ),
    ("POST", "/api/v1/events"): lambda w: Payload(
        json={"events": [crossing(w.a["camera_id"], second=30).to_dict()]}
    ),
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): _json({}),
    ("POST", "/api/v1/alerts/bulk"): lambda w: Payload(
        json={"ids": [w.a["alert_id"]], "action": "acknowledge"}
    ),
    ("POST", "/api/v1/alerts/{alert_id}/confirm"): _json({}),
    ("POST", "/api/v1/alerts/{alert_id}/dismiss"): _json({}),
    ("POST", "/api/v1/alerts/{alert_id}/undo-dismiss"): _json({}),
    ("POST", "/api/v1/suggestions/{suggestion_id}/dismiss"): _json({"note": "matrix"}),
    ("POST", "/api/v1/incidents"): lambda w: Payload(
        json={"title": "matrix", "camera_id": w.a["camera_id"]}
    ),
    ("PATCH", "/api/v1/incidents/{incident_id}"): _json({"description": "changed"}),
    ("POST", "/api/v1/incidents/{incident_id}/status"): _json({"status": "in_progress"}),
    ("POST", "/api/v1/incidents/{incident_id}/notes"): _json({"text": "a note"}),
    ("POST", "/api/v1/users"): _json(
        {"username": "matrix", "password": USER_PASSWORD, "role": "viewer"}
    ),
    ("PATCH", "/api/v1/users/{user_id}"): _json({"role": "viewer"}),
    ("POST", "/api/v1/api-keys"): _json({"name": "matrix", "permissions": ["view"]}),
    ("PUT", "/api/v1/security/policy"): _json({"mfa_required_roles": []}),
    ("POST", "/api/v1/workstations/subjects"): _json({"name": "matrix"}),
    # Not a photo of a face: refused after authorisation (422), nothing is enrolled.
    ("POST", "/api/v1/workstations/subjects/{subject_id}/photos"): lambda _: Payload(
        files={"photos": ("face.png", b"not an image", "image/png")}
    ),
    ("POST", "/api/v1/workstations/clients"): lambda w: Payload(
        json={"name": "matrix", "subjects": [w.a["subject_id"]]}
    ),
    ("PATCH", "/api/v1/workstations/clients/{client_id}"): _json({"name": "desk-one"}),
    ("PUT", "/api/v1/workstations/policy"): _json({}),
    ("POST", "/api/v1/alert-groups/{group_id}/acknowledge"): _json({}),
    ("POST", "/api/v1/alert-groups/{group_id}/dismiss"): _json({"note": "not real"}),
    ("POST", "/api/v1/snoozes"): _json({}),
    ("POST", "/api/v1/maintenance-windows"): _json({}),
    ("POST", "/api/v1/privacy/subjects/{subject_id}/erase"): _json({"reason": "matrix"}),
    ("POST", "/api/v1/privacy/subjects/{subject_id}/export"): _json(
        {"passphrase": "matrix passphrase"}
    ),
    ("POST", "/api/v1/privacy/erasures"): lambda w: Payload(
        json={
            "camera_id": w.spare_camera,
            "since": "2026-01-01T00:00:00Z",
            "until": "2026-01-02T00:00:00Z",
            "reason": "matrix",
        }
    ),
    ("POST", "/api/v1/cameras/{camera_id}/recounts"): _json(
        {"start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:00Z"}
    ),
    ("POST", "/api/v1/cameras/{camera_id}/recordings/export"): _json(
        {"start": "2026-03-01T12:00:00Z", "end": "2026-03-01T12:30:00Z"}
    ),
    # A version that is not on disk: a 404 past authorisation, no camera changes.
    ("PUT", "/api/v1/cameras/{camera_id}/model"): _json({"ref": "unknown-pack@1"}),
    ("POST", "/api/v1/models/promote"): lambda w: Payload(
        json={"ref": "unknown-pack@1", "camera_ids": [w.a["camera_id"]]}
    ),
    ("PUT", "/api/v1/examples/{example_id}/labels"): _json({"labels": []}),
    # A pack that does not exist: the run is stored, its worker logs it and reports nothing.
    ("PUT", "/api/v1/cameras/{camera_id}/shadow"): _json({"candidate": "unknown-pack"}),
    ("POST", "/api/v1/models/evaluations"): _json({"model": "unknown-pack"}),
    ("POST", "/api/v1/examples/{example_id}/review"): _json({"accept": True}),
    ("PUT", "/api/v1/risk-policy"): _json({}),
    ("POST", "/api/v1/risk-policy/preview"): _json({}),
    ("PUT", "/api/v1/site"): _json({}),
    ("POST", "/api/v1/channels"): _json(
        {"name": "matrix", "kind": "webhook", "settings": {"url": "https://93.184.216.34/h"}}
    ),
    ("PATCH", "/api/v1/channels/{channel_id}"): _json({"enabled": True}),
    ("POST", "/api/v1/routes"): lambda w: Payload(
        json={"name": "matrix", "targets": [{"channel_id": w.a["channel_id"], "level": 0}]}
    ),
    ("PATCH", "/api/v1/routes/{route_id}"): _json({"enabled": True}),
    ("PUT", "/api/v1/recipient-groups"): _json({"groups": {}}),
}
"""A small valid body per operation that takes one (a few invalid on purpose, see above)."""

PARAMS: Mapping[Operation, Mapping[str, str]] = {
    # Live video never ends by itself; an in-process client reads a response whole.
    ("GET", "/api/v1/cameras/{camera_id}/stream"): {"frames": "1"},
    ("GET", "/api/v1/search"): {"q": "person"},
}
"""Query parameters an operation needs in the matrix."""


async def _fresh_camera(world: World, who: Who) -> dict[str, str]:
    # A scoped admin may delete only cameras in its scope: the spare one is there for it.
    if who.scoped:
        return {"camera_id": world.spare_camera}
    return {"camera_id": await _camera(world, _unique("doomed"))}


async def _fresh_line(world: World, _: Who) -> dict[str, str]:
    path = f"/api/v1/cameras/{world.a['camera_id']}/lines"
    made = await world.make(path, json={"name": _unique("line"), "start": [0, 0], "end": [1, 1]})
    return {"line_id": made["id"]}


async def _fresh_zone(world: World, _: Who) -> dict[str, str]:
    path = f"/api/v1/cameras/{world.a['camera_id']}/zones"
    polygon = [[0, 0], [1, 0], [1, 1]]
    made = await world.make(path, json={"name": _unique("zone"), "polygon": polygon})
    return {"zone_id": made["id"]}


async def _fresh_rule(world: World, _: Who) -> dict[str, str]:
    made = await world.make(
        "/api/v1/rules", json={"name": _unique("rule"), "camera_id": world.a["camera_id"]}
    )
    return {"rule_id": made["id"]}


async def _fresh_incident(world: World, _: Who) -> dict[str, str]:
    made = await world.make(
        "/api/v1/incidents", json={"title": "doomed", "camera_id": world.a["camera_id"]}
    )
    return {"incident_id": made["id"]}


async def _fresh_evidence(world: World, _: Who) -> dict[str, str]:
    path = f"/api/v1/incidents/{world.a['incident_id']}/evidence"
    made = await world.make(path, files=_note(world.a["camera_id"]))
    return {"evidence_id": made["id"]}


async def _fresh_user(world: World, _: Who) -> dict[str, str]:
    body = {"username": _unique("doomed"), "password": USER_PASSWORD, "role": "viewer"}
    return {"user_id": (await world.make("/api/v1/users", json=body))["id"]}


async def _fresh_key(world: World, _: Who) -> dict[str, str]:
    body = {"name": _unique("doomed"), "permissions": ["view"]}
    return {"key_id": (await world.make("/api/v1/api-keys", json=body))["id"]}


async def _fresh_subject(world: World, _: Who) -> dict[str, str]:
    made = await world.make("/api/v1/workstations/subjects", json={"name": _unique("doomed")})
    return {"subject_id": made["id"]}


async def _fresh_client(world: World, _: Who) -> dict[str, str]:
    body = {"name": _unique("doomed"), "subjects": [world.a["subject_id"]]}
    return {"client_id": (await world.make("/api/v1/workstations/clients", json=body))["id"]}


async def _fresh_channel(world: World, _: Who) -> dict[str, str]:
    body = {
        "name": _unique("doomed"),
        "kind": "webhook",
        "settings": {"url": "https://93.184.216.34/doomed"},
    }
    return {"channel_id": (await world.make("/api/v1/channels", json=body))["id"]}


async def _fresh_route(world: World, _: Who) -> dict[str, str]:
    body = {"name": _unique("doomed"), "targets": [{"channel_id": world.a["channel_id"]}]}
    return {"route_id": (await world.make("/api/v1/routes", json=body))["id"]}


VICTIMS: Mapping[Operation, Callable[[World, Who], Awaitable[dict[str, str]]]] = {
    ("POST", "/api/v1/privacy/subjects/{subject_id}/erase"): _fresh_subject,
    ("DELETE", "/api/v1/channels/{channel_id}"): _fresh_channel,
    ("DELETE", "/api/v1/routes/{route_id}"): _fresh_route,
    ("DELETE", "/api/v1/cameras/{camera_id}"): _fresh_camera,
    ("DELETE", "/api/v1/cameras/{camera_id}/lines/{line_id}"): _fresh_line,
    ("DELETE", "/api/v1/cameras/{camera_id}/zones/{zone_id}"): _fresh_zone,
    ("DELETE", "/api/v1/rules/{rule_id}"): _fresh_rule,
    ("DELETE", "/api/v1/incidents/{incident_id}"): _fresh_incident,
    ("DELETE", "/api/v1/evidence/{evidence_id}"): _fresh_evidence,
    ("DELETE", "/api/v1/users/{user_id}"): _fresh_user,
    ("DELETE", "/api/v1/api-keys/{key_id}"): _fresh_key,
    ("DELETE", "/api/v1/workstations/subjects/{subject_id}"): _fresh_subject,
    ("DELETE", "/api/v1/workstations/clients/{client_id}"): _fresh_client,
}
"""Deletes that a caller expected to succeed runs on a fresh victim, not the shared fixtures."""

_PARAMETER = re.compile(r"\{(\w+)\}")


def fill(template: str, ids: Mapping[str, str]) -> str:
    """The path with every ``{name}`` replaced by ``ids[name]`` (URL-quoted)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in ids:
            pytest.fail(f"no fixture id for path parameter {name!r} of {template}: add one")
        return quote(ids[name], safe="")

    return _PARAMETER.sub(one, template)


def access_of(operation: Operation) -> Access:
    """The table's entry, failing the test when the operation is not listed."""
    access = TABLE.get(operation)
    if access is None:
        pytest.fail(
            f"{operation[0]} {operation[1]} is in the OpenAPI document but not in TABLE: "
            "add it with the permission its router's Guard implies"
        )
    return access


def assert_denied(answer: httpx.Response, who: Who, what: str) -> None:
    """401 with ``WWW-Authenticate: Bearer`` for anonymous, 403 for a known caller."""
    if who.kind == "anonymous":
        assert answer.status_code == 401, f"{what}: {answer.status_code} {answer.text[:300]}"
        assert answer.headers.get("www-authenticate") == "Bearer", what
    else:
        assert answer.status_code == 403, f"{what}: {answer.status_code} {answer.text[:300]}"
    assert isinstance(answer.json()["detail"], str), what


def assert_allowed(answer: httpx.Response, what: str) -> None:
    """Past authorisation (anything but 401 and 403) and no server error."""
    assert answer.status_code not in (401, 403), f"{what}: {answer.status_code} {answer.text}"
    assert answer.status_code < 500, f"{what}: {answer.status_code} {answer.text}"


# --- the document and the table -----------------------------------------------------------


@MEMORY_ONLY
async def test_the_served_document_is_the_one_the_matrix_was_built_from(world: World) -> None:
    served = await world.client.get("/api/openapi.json")
    assert served.status_code == 200
    assert _operations(served.json()) == OPERATIONS


def test_the_table_lists_exactly_the_documented_operations() -> None:
    documented = set(OPERATIONS)
    missing = sorted(documented - set(TABLE))
    stale = sorted(set(TABLE) - documented)
    assert not missing, f"operations without an expected permission (add them to TABLE): {missing}"
    assert not stale, f"TABLE lists operations the document does not have: {stale}"


def test_every_guarded_operation_documents_its_credentials() -> None:
    for method, path in OPERATIONS:
        access = TABLE.get((method, path))
        if access is None or access.need == "public":
            continue
        security = DOCUMENT["paths"][path][method.lower()].get("security")
        assert security, f"{method} {path} needs credentials but documents none"


# --- the matrix ---------------------------------------------------------------------------

CASES = [
    pytest.param(operation, who, id=f"{operation[0]} {operation[1]} as {who.name}")
    for operation in OPERATIONS
    for who in CALLERS
]


@MEMORY_ONLY
@pytest.mark.parametrize(("operation", "who"), CASES)
async def test_authorisation(world: World, operation: Operation, who: Who) -> None:
    method, template = operation
    access = access_of(operation)
    expected = allowed(access, who)
    ids = dict(world.a)
    if expected and operation in VICTIMS:
        ids.update(await VICTIMS[operation](world, who))
    body = BODIES.get(operation)
    answer = await world.send(
        method,
        fill(template, ids),
        who,
        body(world) if body else None,
        params=PARAMS.get(operation),
    )
    what = f"{method} {template} as {who.name} (needs {access.need})"
    if not expected:
        assert_denied(answer, who, what)
        return
    assert_allowed(answer, what)
    if operation == ("POST", "/api/v1/auth/refresh"):
        world.refresh_token = answer.json()["refresh_token"]  # the old one is spent
    if operation == ("POST", "/api/v1/auth/logout") and who.kind == "user":
        # Signing out ends the caller's own session (its bearer): sign in anew for later cases.
        name, password = (ADMIN, ADMIN_PASSWORD) if who is ADMIN_USER else (who.name, USER_PASSWORD)
        fresh = await sign_in(world.client, name, password)
        world.headers[who.name] = bearer(fresh["access_token"])


@MEMORY_ONLY
async def test_metrics_need_view(world: World) -> None:
    for who in (ANONYMOUS, INGEST_KEY):
        assert_denied(await world.send("GET", "/metrics", who), who, f"/metrics as {who.name}")
    for who in (VIEWER, SCOPED_OPERATOR, ADMIN_USER):
        answer = await world.send("GET", "/metrics", who)
        assert answer.status_code == 200, f"/metrics as {who.name}: {answer.text}"


# --- camera scope -------------------------------------------------------------------------


def _scoped_caller(access: Access) -> Who:
    """The camera-scoped caller that has the operation's permission."""
    return SCOPED_OPERATOR if access.need in ("view", "operate") else SCOPED_ADMIN


def _camera_bound(operation: Operation) -> bool:
    access = TABLE.get(operation)
    return access is None or access.need in ("view", "operate", "configure", "admin_role")


CAMERA_IN_PATH = [
    pytest.param(op, id=f"{op[0]} {op[1]}")
    for op in OPERATIONS
    if "{camera_id}" in op[1] and _camera_bound(op)
]
CAMERA_IN_QUERY = [
    pytest.param(op, id=f"{op[0]} {op[1]}")
    for op in OPERATIONS
    if any(
        p["name"] == "camera_id" and p["in"] == "query"
        for p in DOCUMENT["paths"][op[1]][op[0].lower()].get("parameters", [])
    )
]
ITEM_IDS = {"alert_id", "incident_id", "event_id", "rule_id", "evidence_id", "group_id"}
ITEM_IN_PATH = [
    pytest.param(op, id=f"{op[0]} {op[1]}")
    for op in OPERATIONS
    if (names := set(_PARAMETER.findall(op[1]))) and names <= ITEM_IDS and _camera_bound(op)
]


@pytest.mark.parametrize("operation", CAMERA_IN_PATH)
async def test_a_camera_outside_the_scope_in_the_path_is_forbidden(
    world: World, operation: Operation
) -> None:
    method, template = operation
    who = _scoped_caller(access_of(operation))
    body = BODIES.get(operation)
    answer = await world.send(method, fill(template, world.b), who, body(world) if body else None)
    assert_denied(answer, who, f"{method} {template} on camera B as {who.name}")


@pytest.mark.parametrize("operation", CAMERA_IN_QUERY)
async def test_a_camera_outside_the_scope_in_the_query_is_forbidden(
    world: World, operation: Operation
) -> None:
    method, template = operation
    who = _scoped_caller(access_of(operation))
    path = fill(template, world.a)
    own = await world.send(method, path, who, params={"camera_id": world.a["camera_id"]})
    assert_allowed(own, f"{method} {template}?camera_id=A as {who.name}")
    other = await world.send(method, path, who, params={"camera_id": world.b["camera_id"]})
    assert_denied(other, who, f"{method} {template}?camera_id=B as {who.name}")


@pytest.mark.parametrize("operation", ITEM_IN_PATH)
async def test_items_of_a_camera_outside_the_scope_are_not_found(
    world: World, operation: Operation
) -> None:
    method, template = operation
    who = _scoped_caller(access_of(operation))
    body = BODIES.get(operation)
    answer = await world.send(method, fill(template, world.b), who, body(world) if body else None)
    what = f"{method} {template} with camera B's id as {who.name}"
    assert answer.status_code == 404, f"{what}: {answer.status_code} {answer.text}"


def _camera_of_item(item: Mapping[str, Any]) -> str | None:
    source = item.get("source")
    if isinstance(source, dict):  # events
        return str(source["camera_id"])
    camera = item.get("camera_id", item.get("id"))
    return None if camera is None else str(camera)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cameras",
        "/api/v1/events",
        "/api/v1/alerts",
        "/api/v1/incidents",
        "/api/v1/evidence",
        "/api/v1/rules",
    ],
)
async def test_lists_show_a_scoped_caller_its_cameras_only(world: World, path: str) -> None:
    async def cameras(who: Who) -> set[str | None]:
        answer = await world.send("GET", path, who, params={"limit": str(MAX_PAGE)})
        assert answer.status_code == 200, f"{path} as {who.name}: {answer.text}"
        return {_camera_of_item(item) for item in answer.json()["items"]}

    cam_a, cam_b = world.a["camera_id"], world.b["camera_id"]
    assert {cam_a, cam_b} <= await cameras(ADMIN_USER)
    assert await cameras(SCOPED_OPERATOR) == {cam_a}


# --- what is checked first ----------------------------------------------------------------

INVALID = [
    pytest.param("POST", "/api/v1/cameras", {"json": {}}, id="body missing fields"),
    pytest.param("POST", "/api/v1/cameras", {"json": {"name": 7}}, id="body of wrong types"),
    pytest.param(
        "POST",
        "/api/v1/cameras",
        {"content": b"plain text", "headers": {"Content-Type": "text/plain"}},
        id="body of another media type",
    ),
    pytest.param("PATCH", "/api/v1/users/" + "x" * 65, {"json": {}}, id="path id too long"),
    pytest.param("GET", "/api/v1/users?limit=0", {}, id="query out of range"),
    pytest.param("GET", "/api/v1/audit?since=yesterday", {}, id="query of the wrong type"),
    pytest.param("POST", "/api/v1/api-keys", {"json": {"permissions": ["root"]}}, id="bad enum"),
    pytest.param(
        "POST", "/api/v1/incidents/x/evidence", {"data": {"kind": "x"}}, id="form missing file"
    ),
    pytest.param("POST", "/api/v1/auth/password", {"json": {}}, id="own account body"),
]


@MEMORY_ONLY
@pytest.mark.parametrize(("method", "path", "request_body"), INVALID)
async def test_authorisation_comes_before_validation(
    world: World, method: str, path: str, request_body: dict[str, Any]
) -> None:
    """A denied caller learns nothing from a well-formed but invalid request: 401/403."""
    body = dict(request_body)
    extra: dict[str, str] = body.pop("headers", {})
    callers = [ANONYMOUS] if path.startswith("/api/v1/auth/") else [ANONYMOUS, VIEWER]
    for who in callers:
        headers = {**extra, **world.headers[who.name]}
        answer = await world.client.request(method, path, headers=headers, **body)
        assert_denied(answer, who, f"{method} {path} as {who.name}")
    answer = await world.client.request(method, path, headers={**extra, **world.admin}, **body)
    assert answer.status_code == 422, f"{method} {path} as admin: {answer.text}"


# --- /ws ----------------------------------------------------------------------------------


async def _closed(connection: ClientConnection) -> ConnectionClosed:
    """Read until the server closes the connection; how it closed."""
    try:
        while True:
            await connection.recv()
    except ConnectionClosed as closed:
        return closed


async def test_ws_refuses_what_http_refuses(tmp_path: Path) -> None:
    async with (
        served(_app(tmp_path)) as address,
        httpx.AsyncClient(base_url=f"http://{address}", timeout=WAIT) as http,
    ):
        admin = await admin_token(http)

        async def make(path: str, body: dict[str, Any]) -> dict[str, Any]:
            answer = await http.post(path, json=body, headers=bearer(admin))
            assert answer.status_code in (200, 201), answer.text
            made: dict[str, Any] = answer.json()
            return made

        cameras = []
        for name in ("cam-a", "cam-b"):
            body = {"name": name, "stream_url": f"rtsp://127.0.0.1:8554/{name}"}
            cameras.append(str((await make("/api/v1/cameras", body))["id"]))
        cam_a, cam_b = cameras
        await make("/api/v1/rules", {"name": "door", "camera_id": cam_a})
        await make("/api/v1/events", {"events": [crossing(cam_a).to_dict()]})

        async def raised() -> list[dict[str, Any]]:
            answer = await http.get("/api/v1/alerts", headers=bearer(admin))
            items: list[dict[str, Any]] = answer.json()["items"]
            return items

        async def any_alert() -> bool:
            return bool(await raised())

        await eventually(any_alert, "an alert on camera A")
        [alert] = await raised()
        viewer = await make_user(http, admin, "viewer", "viewer")
        scoped = await make_user(http, admin, "scoped", "operator", cameras=[cam_a])
        edge = (await make("/api/v1/api-keys", {"name": "edge", "permissions": ["ingest"]}))["key"]

        async with connect(f"ws://{address}/ws", open_timeout=WAIT) as anonymous:
            await anonymous.send(json.dumps({"type": "subscribe", "channels": ["alerts"]}))
            closed = await _closed(anonymous)
            assert closed.rcvd is not None
            assert closed.rcvd.code == 4401

        async with live_client(address, viewer) as client:
            await client.send({"type": "subscribe", "channels": ["alerts"], "request_id": "s"})
            subscribed = await client.expect_type("subscribed", request_id="s")
            assert subscribed["channels"] == ["alerts"]
            await client.send({"type": "ack", "alert_id": alert["id"], "request_id": "a"})
            refused = await client.expect_type("error", request_id="a")
            assert refused["code"] == "forbidden"
        after = await http.get(f"/api/v1/alerts/{alert['id']}", headers=bearer(admin))
        assert after.json()["state"] == alert["state"]

        async with live_client(address, scoped) as client:
            other = f"camera.{cam_b}.tracks"
            await client.send({"type": "subscribe", "channels": [other], "request_id": "b"})
            assert (await client.expect_type("error", request_id="b"))["code"] == "forbidden"
            own = f"camera.{cam_a}.tracks"
            await client.send({"type": "subscribe", "channels": [own], "request_id": "a"})
            assert (await client.expect_type("subscribed", request_id="a"))["channels"] == [own]

        async with live_client(address, edge) as client:
            await client.send({"type": "subscribe", "channels": ["alerts"], "request_id": "k"})
            assert (await client.expect_type("error", request_id="k"))["code"] == "forbidden"
