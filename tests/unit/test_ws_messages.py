"""The typed ``/ws`` and ``/ws/verify`` messages: the exact JSON clients read, and the docs.

Every server message is a model now; these tables pin each one to the JSON
object (keys, their order, values) the dashboard and the workstation client
have always received, and check that the OpenAPI document lists them.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from argus.api.schemas.live_server import CameraStatusMessage, server_message
from argus.api.schemas.verify_server import CLOSE_CODES, verify_message
from argus.api.schemas.websockets import WEBSOCKETS, document_websockets, websocket_document
from argus.domain.detections import Detections
from argus.domain.live import LiveFrame, LiveTrack, live_frame
from argus.domain.verification import Action, Reason
from argus.ports.pipelines import CameraStatus
from argus.services.live import AlertUpdate, CountsUpdate, StatusUpdate, TracksUpdate
from argus.services.verify_outcomes import (
    Ending,
    VerifyAssigned,
    VerifyDecision,
    VerifyError,
    VerifyQueued,
    VerifyRejected,
)

AT = datetime(2026, 12, 6, 4, 0, 1, 250000, tzinfo=UTC)
FRAME = LiveFrame(
    camera_id="cam-1",
    frame_index=3,
    timestamp=0.4,
    width=640,
    height=360,
    tracks=(LiveTrack(id=1, class_name="person", confidence=0.8, box=(1.0, 2.5, 3.0, 4.0)),),
    counts={"door": {"kind": "line", "in": 1, "out": 0, "in_per_class": {"person": 1}}},
)
STATUS = CameraStatus("cam-1", "error", "stream dropped", 7.456, 7.0, 3.333, AT)
ALERT: dict[str, Any] = {"id": "a1", "camera_id": "cam-1", "severity": "low"}


def _text(message: BaseModel) -> str:
    """What Starlette's ``send_json`` writes for the message's JSON object."""
    return json.dumps(message.model_dump(mode="json"), separators=(",", ":"), ensure_ascii=False)


def _dumps(expected: dict[str, Any]) -> str:
    return json.dumps(expected, separators=(",", ":"), ensure_ascii=False)


LIVE_CASES = [
    pytest.param(
        TracksUpdate("camera.cam-1.tracks", FRAME),
        {
            "type": "tracks",
            "channel": "camera.cam-1.tracks",
            "camera_id": "cam-1",
            "frame_index": 3,
            "timestamp": 0.4,
            "width": 640,
            "height": 360,
            "tracks": [
                {"id": 1, "class_name": "person", "confidence": 0.8, "box": [1.0, 2.5, 3.0, 4.0]}
            ],
        },
        id="tracks",
    ),
    pytest.param(
        CountsUpdate("camera.cam-1.counts", "cam-1", 0.4, FRAME.counts),
        {
            "type": "counts",
            "channel": "camera.cam-1.counts",
            "camera_id": "cam-1",
            "timestamp": 0.4,
            "counts": {"door": {"kind": "line", "in": 1, "out": 0, "in_per_class": {"person": 1}}},
            "since": None,
        },
        id="counts",
    ),
    pytest.param(
        CountsUpdate("camera.cam-1.counts", "cam-1", 0.4, FRAME.counts, AT),
        {
            "type": "counts",
            "channel": "camera.cam-1.counts",
            "camera_id": "cam-1",
            "timestamp": 0.4,
            "counts": {"door": {"kind": "line", "in": 1, "out": 0, "in_per_class": {"person": 1}}},
            "since": AT.isoformat().replace("+00:00", "Z"),
        },
        id="counts-since",
    ),
    pytest.param(
        StatusUpdate(STATUS),
        {
            "type": "camera.status",
            "channel": "system",
            "camera_id": "cam-1",
            "state": "error",
            "last_error": "stream dropped",
            "fps_in": 7.46,
            "fps_decoded": 7.0,
            "fps_detected": 3.33,
            "target_fps": None,
            "granted_fps": None,
            "saturated": False,
            "updated_at": AT.isoformat(),
        },
        id="camera.status",
    ),
    pytest.param(
        StatusUpdate(
            dataclasses.replace(
                STATUS, state="online", target_fps=5.0, granted_fps=1.6666, saturated=True
            )
        ),
        {
            "type": "camera.status",
            "channel": "system",
            "camera_id": "cam-1",
            "state": "online",
            "last_error": "stream dropped",
            "fps_in": 7.46,
            "fps_decoded": 7.0,
            "fps_detected": 3.33,
            "target_fps": 5.0,
            "granted_fps": 1.67,
            "saturated": True,
            "updated_at": AT.isoformat(),
        },
        id="camera.status-saturated",
    ),
    pytest.param(
        AlertUpdate("alert.created", "alerts", ALERT),
        {"type": "alert.created", "channel": "alerts", "alert": ALERT},
        id="alert.created",
    ),
    pytest.param(
        AlertUpdate("alert.escalated", "supervisor", ALERT),
        {"type": "alert.escalated", "channel": "supervisor", "alert": ALERT},
        id="alert.escalated-supervisor",
    ),
    pytest.param(
        AlertUpdate("alert.evidence", "alerts", ALERT),
        {"type": "alert.evidence", "channel": "alerts", "alert": ALERT},
        id="alert.evidence",
    ),
]


@pytest.mark.parametrize(("update", "expected"), LIVE_CASES)
def test_live_updates_keep_their_json(update: Any, expected: dict[str, Any]) -> None:
    assert _text(server_message(update)) == _dumps(expected)


def test_the_welcome_lists_statuses_as_camera_status_messages() -> None:
    assert CameraStatusMessage.of(STATUS).model_dump(mode="json")["fps_in"] == 7.46


def test_a_live_frame_rounds_what_the_dashboard_draws() -> None:
    detections = Detections(
        xyxy=np.array([[1.04, 2.06, 30.0, 40.0]]),
        confidence=np.array([0.87654]),
        class_id=np.array([1]),
        tracker_id=np.array([7]),
        class_names=("car", "person"),
    )
    frame = live_frame(
        "cam-1",
        frame_index=9,
        timestamp=1.23456,
        width=64,
        height=48,
        detections=detections,
        counts={},
    )
    assert frame.timestamp == 1.235
    assert frame.tracks == (LiveTrack(7, "person", 0.877, (1.0, 2.1, 30.0, 40.0)),)


VERIFY_CASES = [
    pytest.param(VerifyAssigned(0), {"type": "assigned", "pipeline": 0}, id="assigned"),
    pytest.param(VerifyQueued(2), {"type": "queued", "position": 2}, id="queued"),
    pytest.param(
        VerifyRejected("system full"), {"type": "rejected", "reason": "system full"}, id="rejected"
    ),
    pytest.param(
        VerifyError("too_large", "too big"),
        {"type": "error", "code": "too_large", "message": "too big"},
        id="error",
    ),
    pytest.param(
        VerifyDecision(
            action=Action.LOCK_SCREEN,
            reasons=(Reason.NO_FACE, Reason.PHONE),
            scores={"liveness": 0.5},
            frame_seq=12,
            subject=None,
            dropped_frames=1,
        ),
        {
            "type": "decision",
            "action": "lock_screen",
            "reasons": ["no_face", "phone"],
            "scores": {"liveness": 0.5},
            "frame_seq": 12,
            "subject": None,
            "dropped_frames": 1,
        },
        id="decision",
    ),
]


@pytest.mark.parametrize(("outcome", "expected"), VERIFY_CASES)
def test_verify_outcomes_keep_their_json(outcome: Any, expected: dict[str, Any]) -> None:
    assert _text(verify_message(outcome)) == _dumps(expected)


def test_every_ending_has_its_close_code() -> None:
    assert CLOSE_CODES == {
        Ending.REFUSED: 4403,
        Ending.REPLACED: 4409,
        Ending.FULL: 4503,
        Ending.SHUTDOWN: 1012,
    }


def test_the_openapi_document_lists_every_message() -> None:
    app = FastAPI()
    document_websockets(app)
    document = app.openapi()
    schemas = document["components"]["schemas"]
    for path, (_, client, server) in WEBSOCKETS.items():
        socket = document["x-websockets"][path]
        for side, models in (("client", client), ("server", server)):
            refs = [ref["$ref"] for ref in socket[side]["oneOf"]]
            assert refs == [f"#/components/schemas/{m.__name__}" for m in models]
            for model in models:
                assert model.__name__ in schemas
    # Server messages list every field as required: the server always sends each.
    assert schemas["PongMessage"]["required"] == ["type", "request_id"]
    assert app.openapi() is document


def test_message_names_do_not_clash_with_the_rest_apis(tmp_path: Path) -> None:
    from argus.bootstrap.app import build_app
    from tests.auth_support import settings_for

    rest = build_app(settings_for(tmp_path))
    components, _ = websocket_document()
    existing = rest.openapi().get("components", {}).get("schemas", {})
    clashes = {n for n in components if n in existing and existing[n] != components[n]}
    assert not clashes
