"""The edge wire types: round trips through JSON, and refusal of anything malformed."""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from argus.domain.edge import (
    MAX_BATCH_ITEMS,
    CameraHealth,
    EdgeCamera,
    EdgeConfig,
    EdgeEvidence,
    EdgeNode,
    ItemResult,
    NodeHealth,
    NodeRegistration,
    OutboxItem,
    RegistrationReply,
    SealedBlob,
    SyncBatch,
    SyncReply,
    check_node_id,
    config_revision,
)
from argus.domain.errors import ValidationError
from argus.domain.events import Envelope, EventSource, LineCrossed, new_event_id
from argus.domain.permissions import (
    API_KEY_PERMISSIONS,
    PERMISSIONS,
    ROLE_PERMISSIONS,
    check_permissions,
)

WHEN = datetime(2026, 12, 6, 7, 30, 15, 250000, tzinfo=UTC)
KEY_B64 = base64.b64encode(bytes(range(32))).decode()
SHA = "ab" * 32


def camera_health(**changes: Any) -> CameraHealth:
    base: dict[str, Any] = {
        "camera_id": "cam-1",
        "state": "online",
        "fps_in": 25.0,
        "fps_analysed": 5.0,
        "decode_errors": 0,
        "reconnects": 1,
        "last_frame_age_s": 0.04,
        "tamper": "ok",
        "tamper_score": 0.1,
    }
    return CameraHealth(**{**base, **changes})


def node_health(**changes: Any) -> NodeHealth:
    base: dict[str, Any] = {
        "report_id": new_event_id(WHEN),
        "node_id": "node-1",
        "at": WHEN,
        "state": "buffering",
        "cpu_percent": 12.5,
        "memory_percent": 40.0,
        "disk_free_bytes": 10**10,
        "disk_total_bytes": 10**11,
        "temperature_c": None,
        "outbox_items": 3,
        "outbox_bytes": 4096,
        "outbox_oldest_age_s": 12.0,
        "outbox_dropped": {"health": 2},
        "quarantined": 1,
        "clock_offset_s": -0.25,
        "versions": {"argus": "0.17.0"},
        "cameras": (camera_health(), camera_health(camera_id="cam-2", last_frame_age_s=None)),
    }
    return NodeHealth(**{**base, **changes})


def blob() -> SealedBlob:
    return SealedBlob(
        nonce=base64.b64encode(bytes(12)).decode(),
        ciphertext=base64.b64encode(b"x" * 40).decode(),
        sha256=SHA,
    )


def evidence(**changes: Any) -> EdgeEvidence:
    base: dict[str, Any] = {
        "evidence_id": new_event_id(WHEN),
        "node_id": "node-1",
        "camera_id": "cam-1",
        "event_ids": (new_event_id(WHEN),),
        "kind": "snapshot",
        "content_type": "image/jpeg",
        "captured_at": WHEN,
        "blob": blob(),
    }
    return EdgeEvidence(**{**base, **changes})


def envelope() -> Envelope:
    event = LineCrossed("gate", 3, 0, "person", "in", 1.5, confidence=0.9)
    return Envelope.wrap(event, EventSource("node-1", "cam-1"), WHEN)


def edge_camera() -> EdgeCamera:
    return EdgeCamera(
        camera={"id": "cam-1", "name": "Door", "stream_url": "rtsp://cam/1", "credentials": None},
        lines=({"name": "gate", "start": [0, 0], "end": [10, 10]},),
        zones=(),
        evidence_types=("line.crossed",),
    )


def config() -> EdgeConfig:
    return EdgeConfig.build(
        "node-1",
        [edge_camera()],
        health_interval_s=30,
        pre_roll_s=5,
        post_roll_s=5,
        server_time=WHEN,
    )


VALUES: list[Any] = [
    NodeRegistration("node-1", "0.17.0", ("yolov7-tiny@1",), ("tamper", "rtsp"), "host"),
    RegistrationReply("node-1", KEY_B64, 30.0, WHEN),
    edge_camera(),
    config(),
    camera_health(),
    camera_health(target_fps=10.0, granted_fps=6.5, saturated=True),
    node_health(),
    node_health(temperature_c=61.5, clock_offset_s=None, outbox_oldest_age_s=None, cameras=()),
    blob(),
    evidence(),
    evidence(kind="before", event_ids=()),
    OutboxItem.of_event(envelope()),
    OutboxItem.of_health(node_health()),
    OutboxItem.of_evidence(evidence()),
    SyncBatch("node-1", WHEN, (OutboxItem.of_event(envelope()),)),
    SyncBatch("node-1", WHEN, ()),
    ItemResult(new_event_id(WHEN), "stored"),
    ItemResult("x", "rejected", "camera not assigned to this node"),
    SyncReply((ItemResult("a", "duplicate"),), WHEN),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_round_trip_through_json(value: Any) -> None:
    wire = json.loads(json.dumps(value.to_dict()))
    assert type(value).from_dict(wire) == value
    assert type(value).from_dict(wire).to_dict() == value.to_dict()


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_an_unexpected_key_is_refused(value: Any) -> None:
    with pytest.raises(ValidationError):
        type(value).from_dict({**value.to_dict(), "extra": 1})


def test_times_are_utc_iso_with_z() -> None:
    other_zone = WHEN.astimezone(timezone(timedelta(hours=2)))
    report = node_health(at=other_zone)
    assert report.at.tzinfo == UTC
    assert report.to_dict()["at"] == "2026-12-06T07:30:15.250000Z"
    with pytest.raises(ValidationError):
        node_health(at=datetime(2026, 12, 6, 7, 30))
    naive = {**node_health().to_dict(), "at": "2026-12-06T07:30:15"}
    with pytest.raises(ValidationError):
        NodeHealth.from_dict(naive)


@pytest.mark.parametrize(
    ("node_id", "ok"),
    [
        ("node-1", True),
        ("a", True),
        ("0.edge_b-c", True),
        ("a" * 64, True),
        ("a" * 65, False),
        ("Node-1", False),
        ("-node", False),
        ("", False),
        ("node 1", False),
        ("node/1", False),
        ("node-1\n", False),
    ],
)
def test_node_ids(node_id: str, ok: bool) -> None:
    if ok:
        assert check_node_id(node_id) == node_id
        NodeRegistration(node_id, "1", (), ())
    else:
        with pytest.raises(ValidationError):
            NodeRegistration(node_id, "1", (), ())


BAD: list[tuple[str, Callable[[], object]]] = [
    ("nan cpu", lambda: node_health(cpu_percent=math.nan)),
    ("cpu over 100", lambda: node_health(cpu_percent=101.0)),
    ("negative disk", lambda: node_health(disk_free_bytes=-1)),
    ("bool count", lambda: node_health(outbox_items=True)),
    ("unknown state", lambda: node_health(state="sleeping")),
    ("bad report id", lambda: node_health(report_id="not-a-ulid")),
    ("inf offset", lambda: node_health(clock_offset_s=math.inf)),
    ("negative dropped", lambda: node_health(outbox_dropped={"event": -1})),
    ("non-string version", lambda: node_health(versions={"argus": 1})),
    ("unknown tamper", lambda: camera_health(tamper="painted")),
    ("score over 1", lambda: camera_health(tamper_score=1.5)),
    ("negative fps", lambda: camera_health(fps_in=-1.0)),
    ("negative frame age", lambda: camera_health(last_frame_age_s=-0.1)),
    ("negative granted fps", lambda: camera_health(target_fps=5.0, granted_fps=-1.0)),
    ("nan target fps", lambda: camera_health(target_fps=math.nan)),
    ("target fps over 1000", lambda: camera_health(target_fps=1000.5)),
    ("bool granted fps", lambda: camera_health(granted_fps=True)),
    ("saturated not a bool", lambda: camera_health(saturated=1)),
    ("short key", lambda: RegistrationReply("node-1", base64.b64encode(b"k").decode(), 30, WHEN)),
    ("zero interval", lambda: RegistrationReply("node-1", KEY_B64, 0, WHEN)),
    ("nonce size", lambda: dataclasses.replace(blob(), nonce=base64.b64encode(bytes(8)).decode())),
    ("ciphertext not base64", lambda: dataclasses.replace(blob(), ciphertext="@@@@")),
    ("sha upper case", lambda: dataclasses.replace(blob(), sha256="AB" * 32)),
    ("sha newline", lambda: dataclasses.replace(blob(), sha256="ab" * 32 + "\n")),
    ("ciphertext newline", lambda: dataclasses.replace(blob(), ciphertext="abc\n")),
    ("evidence kind", lambda: evidence(kind="movie")),
    ("evidence event id", lambda: evidence(event_ids=("nope",))),
    ("camera without id", lambda: EdgeCamera(camera={"name": "x"})),
    ("camera holds nan", lambda: EdgeCamera(camera={"id": "c", "fps": math.nan})),
    ("revision", lambda: dataclasses.replace(config(), revision="abc")),
    ("revision newline", lambda: dataclasses.replace(config(), revision="a" * 64 + "\n")),
    ("negative roll", lambda: dataclasses.replace(config(), pre_roll_s=-1)),
    ("item kind", lambda: OutboxItem(new_event_id(WHEN), "photo", {})),  # type: ignore[arg-type]
    ("item id", lambda: OutboxItem("x", "event", {})),
    ("item status", lambda: ItemResult("x", "lost")),  # type: ignore[arg-type]
    (
        "too many items",
        lambda: SyncBatch(
            "node-1", WHEN, (OutboxItem.of_event(envelope()),) * (MAX_BATCH_ITEMS + 1)
        ),
    ),
    ("batch naive time", lambda: SyncBatch("node-1", datetime(2026, 1, 1), ())),
]


@pytest.mark.parametrize("make", [m for _, m in BAD], ids=[n for n, _ in BAD])
def test_malformed_values_are_refused(make: Callable[[], object]) -> None:
    with pytest.raises(ValidationError):
        make()


def test_a_batch_of_too_many_items_is_refused_from_the_wire() -> None:
    item = OutboxItem.of_event(envelope()).to_dict()
    wire = {"node_id": "node-1", "sent_at": "2026-12-06T07:30:15Z", "items": [item] * 501}
    with pytest.raises(ValidationError, match="at most 500"):
        SyncBatch.from_dict(wire)
    wire["items"] = [item] * 500
    assert len(SyncBatch.from_dict(wire).items) == 500


def test_items_decode_their_bodies() -> None:
    env, report, ev = envelope(), node_health(), evidence()
    assert OutboxItem.of_event(env).envelope() == env
    assert OutboxItem.of_health(report).health() == report
    assert OutboxItem.of_evidence(ev).evidence() == ev


def test_a_bad_body_fails_only_when_decoded() -> None:
    env = envelope()
    other = OutboxItem(new_event_id(WHEN), "event", env.to_dict())
    with pytest.raises(ValidationError, match="differs"):
        other.envelope()
    wrong_kind = OutboxItem(env.event_id, "health", env.to_dict())
    with pytest.raises(ValidationError):
        wrong_kind.health()
    with pytest.raises(ValidationError, match="not health"):
        OutboxItem.of_event(env).health()
    broken = OutboxItem(env.event_id, "event", {"event_id": env.event_id, "junk": 1})
    batch = SyncBatch.from_dict(SyncBatch("node-1", WHEN, (broken,)).to_dict())
    with pytest.raises(ValidationError):
        batch.items[0].envelope()


def test_evidence_aad_binds_its_identity() -> None:
    ev = evidence()
    assert ev.aad() == f"{ev.evidence_id}|node-1|cam-1|snapshot".encode()


def test_config_revision_follows_the_content_not_the_clock() -> None:
    first = config()
    later = EdgeConfig.build(
        "node-1",
        [edge_camera()],
        health_interval_s=30,
        pre_roll_s=5,
        post_roll_s=5,
        server_time=WHEN + timedelta(hours=1),
    )
    assert first.revision == later.revision
    changed = config_revision([edge_camera()], 30, 5, 6)
    assert changed != first.revision
    assert first.camera("cam-1") == edge_camera()
    assert first.camera("cam-9") is None


def test_registration_reply_decodes_its_key() -> None:
    assert RegistrationReply("node-1", KEY_B64, 30, WHEN).key_bytes() == bytes(range(32))


def test_edge_node_never_shows_its_key() -> None:
    node = EdgeNode(
        node_id="node-1",
        key_id="key-1",
        version="0.17.0",
        models=("yolov7-tiny@1",),
        capabilities=("tamper",),
        hostname="",
        registered_at=WHEN,
        evidence_key=bytes(range(32)),
        last_report=node_health(),
    )
    assert "evidence_key" not in repr(node)
    assert "evidence_key" not in node.to_dict()
    assert node.last_report is not None
    assert node.to_dict()["last_report"] == node.last_report.to_dict()
    with pytest.raises(ValidationError):
        dataclasses.replace(node, evidence_key=b"short")
    with pytest.raises(ValidationError):
        dataclasses.replace(node, offline=1)  # type: ignore[arg-type]


def test_node_health_finds_its_cameras() -> None:
    report = node_health()
    assert report.camera("cam-2") == camera_health(camera_id="cam-2", last_frame_age_s=None)
    assert report.camera("cam-9") is None


def test_edge_is_a_permission_keys_may_hold_and_admins_have() -> None:
    assert "edge" in PERMISSIONS
    assert "edge" in API_KEY_PERMISSIONS
    assert "edge" in ROLE_PERMISSIONS["admin"]
    assert "edge" not in ROLE_PERMISSIONS["operator"]
    assert check_permissions(["edge"], API_KEY_PERMISSIONS) == frozenset({"edge"})


# --- the inference grant in camera health: old nodes and stored reports still parse -------------

GRANTS = ("target_fps", "granted_fps", "saturated")


def _old_wire(**changes: Any) -> dict[str, object]:
    """A camera as a node older than the grant fields sends it (and old stored reports hold)."""
    wire = {k: v for k, v in camera_health(**changes).to_dict().items() if k not in GRANTS}
    assert set(wire) == CameraHealth.KEYS_BEFORE_GRANTS
    return wire


def test_camera_health_always_writes_the_grant() -> None:
    assert set(camera_health().to_dict()) == CameraHealth.KEYS
    assert CameraHealth.KEYS_BEFORE_GRANTS | set(GRANTS) == CameraHealth.KEYS
    wire = camera_health(target_fps=8.0, granted_fps=5.0, saturated=True).to_dict()
    assert (wire["target_fps"], wire["granted_fps"], wire["saturated"]) == (8.0, 5.0, True)
    assert {k: camera_health().to_dict()[k] for k in GRANTS} == {
        "target_fps": None,
        "granted_fps": None,
        "saturated": False,
    }


def test_the_key_set_of_an_older_node_is_read_without_a_grant() -> None:
    health = CameraHealth.from_dict(json.loads(json.dumps(_old_wire())))
    assert health == camera_health()
    assert (health.target_fps, health.granted_fps, health.saturated) == (None, None, False)
    report = node_health().to_dict()
    report["cameras"] = [_old_wire(), _old_wire(camera_id="cam-2", last_frame_age_s=None)]
    assert NodeHealth.from_dict(report) == node_health(report_id=report["report_id"])


def test_the_new_key_set_round_trips_the_grant() -> None:
    value = camera_health(target_fps=12.0, granted_fps=7.25, saturated=True)
    parsed = CameraHealth.from_dict(json.loads(json.dumps(value.to_dict())))
    assert parsed == value
    assert (parsed.target_fps, parsed.granted_fps, parsed.saturated) == (12.0, 7.25, True)


@pytest.mark.parametrize(
    "keep",
    [("saturated",), ("target_fps", "granted_fps"), ("granted_fps", "saturated")],
    ids="+".join,
)
def test_a_partial_grant_is_refused_with_the_missing_keys(keep: tuple[str, ...]) -> None:
    wire = camera_health(target_fps=5.0, granted_fps=5.0).to_dict()
    for name in set(GRANTS) - set(keep):
        del wire[name]
    missing = sorted(set(GRANTS) - set(keep))
    expected = re.escape(f"camera health: missing keys {missing!r}, unexpected keys []")
    with pytest.raises(ValidationError, match=expected):
        CameraHealth.from_dict(wire)


@pytest.mark.parametrize("drop", ["tamper_score", "camera_id"])
def test_an_old_key_set_missing_a_key_is_still_refused(drop: str) -> None:
    old, new = _old_wire(), camera_health().to_dict()
    for wire in (old, new):
        del wire[drop]
        with pytest.raises(ValidationError, match=rf"missing keys \[[^]]*'{drop}'"):
            CameraHealth.from_dict(wire)


def test_an_old_key_set_with_an_unknown_key_is_still_refused() -> None:
    with pytest.raises(ValidationError, match=r"unexpected keys \['grant'\]"):
        CameraHealth.from_dict({**_old_wire(), "grant": 5.0})


@pytest.mark.parametrize(
    ("key", "value"),
    [("saturated", 1), ("saturated", None), ("granted_fps", -0.5), ("target_fps", "5")],
)
def test_malformed_grant_values_are_refused_from_the_wire(key: str, value: object) -> None:
    wire = {**camera_health(target_fps=5.0, granted_fps=5.0).to_dict(), key: value}
    with pytest.raises(ValidationError, match=key):
        CameraHealth.from_dict(wire)
