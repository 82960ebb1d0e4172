"""Evidence end to end: store, tamper, detect, lock, purge, rotate, export and verify.

The service runs over real adapters: metadata in SQLite (a temporary file),
objects on the local filesystem or in S3 (a real ``moto_server`` on loopback),
the file keyring's envelope crypto, the Ed25519 signer and the in-memory audit
log. Tampering goes through the storage itself: bytes rewritten in the blob
store and rows edited with SQL, as someone with access to either would.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from argus.adapters.db.audit_memory import MemoryAuditLog
from argus.adapters.db.evidence_memory import MemoryEvidenceRepository
from argus.adapters.db.evidence_sql import SqlEvidenceRepository
from argus.adapters.db.sql import SqlDatabase
from argus.adapters.evidence.crypto import Keyring
from argus.adapters.evidence.fs import FileBlobStore
from argus.adapters.evidence.s3 import S3BlobStore
from argus.adapters.evidence.signing import Ed25519Signer
from argus.bootstrap.adapters import open_evidence_blobs
from argus.bootstrap.evidence import open_evidence_service
from argus.config import Settings
from argus.domain.actor import SYSTEM_ACTOR, Actor
from argus.domain.audit import AuditRecord, chain_key
from argus.domain.errors import (
    ConfigError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
)
from argus.domain.evidence import BundleManifest, EvidenceItem, bundle_signing_payload
from argus.domain.identity import Principal
from argus.ports.evidence import BlobStore, EvidenceFilter
from argus.services.evidence import EvidenceService, verify_bundle
from tests.servers.s3_server import ACCESS_KEY, REGION, SECRET_KEY, running_s3_server

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SECRET = b"test-secret-key-0123456789abcdef"
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
K1 = bytes(range(32))
K2 = bytes(range(64, 96))
SNAPSHOT = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
CLIP = b"\x00\x00\x00\x18ftypmp42" + bytes(range(200, 256)) * 500


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with running_s3_server() as endpoint:
        yield endpoint


def acting(name: str, ip: str | None = None) -> Actor:
    """An actor the audit trail names ``name``, without a principal (as a CLI command acts)."""
    return Actor(principal=None, ip=ip, name=name)


class Clock:
    """A settable clock, so retention is tested without waiting."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Harness:
    """A service and direct handles on its storage, to tamper with."""

    service: EvidenceService
    database: SqlDatabase
    repository: SqlEvidenceRepository
    blobs: BlobStore
    audit: MemoryAuditLog
    clock: Clock
    signer: Ed25519Signer

    def with_keyring(self, keyring: Keyring) -> EvidenceService:
        """Another service over the same storage with ``keyring`` (a restarted server)."""
        return EvidenceService(
            self.repository, self.blobs, keyring, self.audit, self.signer, clock=self.clock
        )

    async def sql(self, statement: str, **params: Any) -> None:
        async with self.database.engine.begin() as connection:
            await connection.execute(sa.text(statement), params)

    async def failures(self) -> list[AuditRecord]:
        return [r for r in await self.audit.records() if r.entry.outcome != "success"]


@pytest.fixture(params=["file", "s3"])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    blobs: BlobStore
    if request.param == "file":
        blobs = FileBlobStore(tmp_path / "evidence")
    else:
        blobs = await S3BlobStore.open(
            f"argus-{uuid.uuid4().hex[:12]}",
            "evidence",
            endpoint_url=request.getfixturevalue("s3_endpoint"),
            region_name=REGION,
            access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY,
            create_bucket=True,
        )
    database = await SqlDatabase.open(f"sqlite:///{tmp_path / 'argus.db'}", secret_key=SECRET)
    repository = SqlEvidenceRepository(database.engine)
    audit = MemoryAuditLog(chain_key(SECRET))
    clock = Clock()
    signer = Ed25519Signer.from_secret(SECRET)
    service = EvidenceService(repository, blobs, Keyring({"k1": K1}), audit, signer, clock=clock)
    try:
        yield Harness(service, database, repository, blobs, audit, clock, signer)
    finally:
        await service.close()
        await database.close()


async def _store_two(h: Harness) -> tuple[EvidenceItem, EvidenceItem]:
    snapshot = await h.service.store(
        SNAPSHOT,
        "snapshot",
        "image/jpeg",
        actor=SYSTEM_ACTOR,
        alert_id="alert-1",
        camera_id="cam-1",
    )
    clip = await h.service.store(
        CLIP, "clip", "video/mp4", actor=SYSTEM_ACTOR, alert_id="alert-1", camera_id="cam-1"
    )
    return snapshot, clip


# --- round trip ----------------------------------------------------------------------------------


async def test_store_then_read_round_trips_encrypted_at_rest(harness: Harness) -> None:
    h = harness
    snapshot, clip = await _store_two(h)
    for item, data in ((snapshot, SNAPSHOT), (clip, CLIP)):
        stored = await h.blobs.get(item.storage_key)
        assert data[:64] not in stored
        assert len(stored) == len(data) + 16
        got, plaintext = await h.service.read(item.id, actor=acting("user:op-1", "10.0.0.7"))
        assert (got, plaintext) == (item, data)
    assert snapshot.kid == "k1"
    assert snapshot.created_by == "system"
    actions = [(r.entry.action, r.entry.outcome) for r in await h.audit.records()]
    assert actions == [("evidence.store", "success")] * 2 + [("evidence.read", "success")] * 2
    read = (await h.audit.records(target=snapshot.target))[-1].entry
    assert (read.actor, read.ip, read.details["sha256"]) == (
        "user:op-1",
        "10.0.0.7",
        snapshot.sha256,
    )
    assert (await h.audit.verify()).ok
    assert (await h.service.list(EvidenceFilter(alert_id="alert-1"))).total == 2
    assert await h.service.verify(clip.id) == clip


async def test_an_unknown_id_is_not_found_and_audited(harness: Harness) -> None:
    with pytest.raises(NotFoundError):
        await harness.service.read("01HNOSUCHEVIDENCE", actor=acting("user:op-1"))
    [failure] = await harness.failures()
    assert failure.entry.action == "evidence.read"
    assert failure.entry.target == "evidence:01HNOSUCHEVIDENCE"


async def test_a_principal_sees_only_its_cameras_and_probes_leave_no_trace(
    harness: Harness,
) -> None:
    h = harness
    snapshot, _ = await _store_two(h)
    before = len(await h.audit.records())
    elsewhere = Actor(
        Principal("user", "u-2", "op-2", frozenset({"view", "operate"}), frozenset({"cam-2"})),
        ip="10.0.0.8",
    )
    for evidence_id in (snapshot.id, "01HNOSUCHEVIDENCE"):
        with pytest.raises(NotFoundError):
            await h.service.read(evidence_id, actor=elsewhere)
        with pytest.raises(NotFoundError):
            await h.service.lock(evidence_id, actor=elsewhere)
        with pytest.raises(NotFoundError):
            await h.service.export([evidence_id], actor=elsewhere)
    assert (await h.service.browse(actor=elsewhere)).total == 0
    assert len(await h.audit.records()) == before
    operator = Actor(
        Principal("user", "u-1", "op-1", frozenset({"view", "operate"}), frozenset({"cam-1"})),
        ip="10.0.0.7",
    )
    assert (await h.service.browse(actor=operator)).total == 2
    assert (await h.service.read(snapshot.id, actor=operator))[1] == SNAPSHOT
    with pytest.raises(PermissionDeniedError):
        await h.service.delete(snapshot.id, actor=operator)
    read = (await h.audit.records())[-1].entry
    assert (read.action, read.actor, read.ip) == ("evidence.read", "user:op-1", "10.0.0.7")


# --- tampering -----------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0, 100, -1], ids=["first", "middle", "tag"])
async def test_a_flipped_byte_in_storage_is_detected_and_audited(
    harness: Harness, offset: int
) -> None:
    h = harness
    snapshot, clip = await _store_two(h)
    stored = bytearray(await h.blobs.get(snapshot.storage_key))
    stored[offset] ^= 0x01
    await h.blobs.put(snapshot.storage_key, bytes(stored))
    with pytest.raises(IntegrityError, match="HMAC"):
        await h.service.read(snapshot.id, actor=acting("user:op-1"))
    with pytest.raises(IntegrityError, match="HMAC"):
        await h.service.verify(snapshot.id)
    [read, verify] = await h.failures()
    assert (read.entry.action, read.entry.outcome) == ("evidence.read", "failure")
    assert read.entry.target == snapshot.target
    assert "HMAC" in read.entry.details["reason"]
    assert verify.entry.action == "evidence.verify"
    assert (await h.service.read(clip.id, actor=acting("user:op-1")))[1] == CLIP


async def test_swapped_objects_are_detected(harness: Harness) -> None:
    h = harness
    snapshot, clip = await _store_two(h)
    one, two = await h.blobs.get(snapshot.storage_key), await h.blobs.get(clip.storage_key)
    await h.blobs.put(snapshot.storage_key, two)
    await h.blobs.put(clip.storage_key, one)
    for item in (snapshot, clip):
        with pytest.raises(IntegrityError):
            await h.service.read(item.id, actor=acting("user:op-1"))
    assert len(await h.failures()) == 2


async def test_a_missing_object_is_detected(harness: Harness) -> None:
    h = harness
    snapshot, _ = await _store_two(h)
    await h.blobs.delete(snapshot.storage_key)
    with pytest.raises(IntegrityError, match="missing"):
        await h.service.read(snapshot.id, actor=acting("user:op-1"))


def _swap_keys(snapshot: EvidenceItem, clip: EvidenceItem) -> list[tuple[str, dict[str, Any]]]:
    """SQL that points both rows at each other's objects (bodies only: columns agree)."""
    update = "UPDATE evidence SET body = json_set(body, '$.storage_key', :key) WHERE id = :id"
    return [
        (update, {"key": clip.storage_key, "id": snapshot.id}),
        (update, {"key": snapshot.storage_key, "id": clip.id}),
    ]


Edit = Callable[[EvidenceItem, EvidenceItem], list[tuple[str, dict[str, Any]]]]

ROW_EDITS: list[tuple[str, str, Edit]] = [
    (
        "camera_id-column",
        "column camera_id",
        lambda s, _: [("UPDATE evidence SET camera_id = 'cam-9' WHERE id = :id", {"id": s.id})],
    ),
    (
        "camera_id-column-and-body",
        "HMAC",
        lambda s, _: [
            (
                "UPDATE evidence SET camera_id = 'cam-9', "
                "body = json_set(body, '$.camera_id', 'cam-9') WHERE id = :id",
                {"id": s.id},
            )
        ],
    ),
    (
        "sha256-in-body",
        "HMAC",
        lambda s, _: [
            (
                "UPDATE evidence SET body = json_set(body, '$.sha256', :sha) WHERE id = :id",
                {"sha": "ab" * 32, "id": s.id},
            )
        ],
    ),
    (
        "created_at-column-and-body",
        "HMAC",
        lambda s, _: [
            (
                "UPDATE evidence SET created_at = '2026-02-01 12:00:00.000000', "
                "body = json_set(body, '$.created_at', '2026-02-01T12:00:00.000000Z') "
                "WHERE id = :id",
                {"id": s.id},
            )
        ],
    ),
    (
        "kid-in-body",
        "does not hold",
        lambda s, _: [
            (
                "UPDATE evidence SET body = json_set(body, '$.kid', 'k9') WHERE id = :id",
                {"id": s.id},
            )
        ],
    ),
    ("storage_keys-swapped", "HMAC", _swap_keys),
]


@pytest.mark.parametrize(("name", "reason", "edit"), ROW_EDITS, ids=[e[0] for e in ROW_EDITS])
async def test_an_edited_metadata_row_is_detected(
    harness: Harness, name: str, reason: str, edit: Edit
) -> None:
    h = harness
    snapshot, clip = await _store_two(h)
    for statement, params in edit(snapshot, clip):
        await h.sql(statement, **params)
    with pytest.raises(IntegrityError, match=reason):
        await h.service.read(snapshot.id, actor=acting("user:op-1"))
    [failure] = await h.failures()
    assert (failure.entry.action, failure.entry.outcome) == ("evidence.read", "failure"), name
    assert reason in failure.entry.details["reason"]
    with pytest.raises(IntegrityError):
        await h.service.export([snapshot.id], actor=acting("user:op-1"))


# --- lock, delete, retention ---------------------------------------------------------------------


async def test_locked_evidence_is_exempt_from_delete_and_retention(harness: Harness) -> None:
    h = harness
    snapshot, clip = await _store_two(h)
    locked = await h.service.lock(snapshot.id, actor=acting("user:op-1"))
    assert (locked.locked, locked.locked_by, locked.version) == (True, "user:op-1", 2)
    assert await h.service.lock(snapshot.id, actor=acting("user:op-2")) == locked  # idempotent
    with pytest.raises(ConflictError, match="locked"):
        await h.service.delete(snapshot.id, actor=acting("user:op-1"))
    [denied] = await h.failures()
    assert (denied.entry.action, denied.entry.outcome) == ("evidence.delete", "denied")

    h.clock.now = T0 + timedelta(days=31)
    assert await h.service.purge_expired(30) == 1
    assert await h.blobs.exists(snapshot.storage_key)
    assert not await h.blobs.exists(clip.storage_key)
    with pytest.raises(NotFoundError):
        await h.service.get(clip.id)
    assert (await h.service.read(snapshot.id, actor=acting("user:op-1")))[1] == SNAPSHOT

    await h.service.unlock(snapshot.id, actor=acting("user:op-1"))
    assert await h.service.purge_expired(30) == 1
    assert await h.blobs.keys() == []
    purges = [r.entry for r in await h.audit.records() if r.entry.action == "evidence.purge"]
    assert [(p.actor, p.target) for p in purges] == [
        ("system", clip.target),
        ("system", snapshot.target),
    ]


async def test_retention_keeps_what_is_younger(harness: Harness) -> None:
    h = harness
    snapshot, _ = await _store_two(h)
    h.clock.now = T0 + timedelta(days=29)
    assert await h.service.purge_expired(30) == 0
    assert await h.service.get(snapshot.id) == snapshot


async def test_delete_removes_row_and_object(harness: Harness) -> None:
    h = harness
    snapshot, clip = await _store_two(h)
    await h.service.delete(snapshot.id, actor=acting("user:admin"))
    assert await h.blobs.keys() == [clip.storage_key]
    with pytest.raises(NotFoundError):
        await h.service.read(snapshot.id, actor=acting("user:op-1"))
    deleted = (await h.audit.records(target=snapshot.target))[-2].entry
    assert (deleted.action, deleted.actor) == ("evidence.delete", "user:admin")


# --- key rotation --------------------------------------------------------------------------------


async def test_rotation_then_rewrap_lets_the_old_key_go(harness: Harness) -> None:
    h = harness
    old, _ = await _store_two(h)
    old = await h.service.lock(old.id, actor=acting("user:op-1"))
    ciphertext = await h.blobs.get(old.storage_key)

    rotated = h.with_keyring(Keyring({"k1": K1, "k2": K2}))
    assert (await rotated.read(old.id, actor=acting("user:op-1")))[1] == SNAPSHOT
    new = await rotated.store(b"after rotation", "document", "text/plain", actor=SYSTEM_ACTOR)
    assert new.kid == "k2"

    assert await rotated.rewrap(actor=acting("user:admin")) == 2
    assert await rotated.rewrap(actor=acting("user:admin")) == 0
    assert await h.blobs.get(old.storage_key) == ciphertext  # ciphertext untouched
    moved = await rotated.get(old.id)
    assert (moved.kid, moved.locked, moved.version) == ("k2", True, old.version + 1)

    only_new = h.with_keyring(Keyring({"k2": K2}))
    items = (await only_new.list()).items
    assert {item.kid for item in items} == {"k2"}
    for item in items:
        await only_new.verify(item.id)
    assert (await only_new.read(old.id, actor=acting("user:op-1")))[1] == SNAPSHOT
    rewraps = [r for r in await h.audit.records() if r.entry.action == "evidence.rewrap"]
    assert {r.entry.details["old_kid"] for r in rewraps} == {"k1"}


async def test_rewrap_never_re_signs_tampered_evidence(harness: Harness) -> None:
    h = harness
    snapshot, clip = await _store_two(h)
    stored = bytearray(await h.blobs.get(clip.storage_key))
    stored[5] ^= 0x80
    await h.blobs.put(clip.storage_key, bytes(stored))
    rotated = h.with_keyring(Keyring({"k1": K1, "k2": K2}))
    with pytest.raises(IntegrityError, match=f"re-wrapped 1 .*{clip.id}"):
        await rotated.rewrap(actor=acting("user:admin"))
    assert (await rotated.get(snapshot.id)).kid == "k2"
    assert (await rotated.get(clip.id)).kid == "k1"
    [failure] = await h.failures()
    assert (failure.entry.action, failure.entry.target) == ("evidence.rewrap", clip.target)


# --- export bundles ------------------------------------------------------------------------------


def _rezip(bundle: bytes, change: Callable[[dict[str, bytes]], None]) -> bytes:
    """The bundle with its members changed by ``change`` and written back consistently."""
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    change(members)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _evidence_file(members: dict[str, bytes], suffix: str) -> str:
    return next(name for name in members if name.endswith(suffix))


def _flip_in_file(members: dict[str, bytes]) -> None:
    name = _evidence_file(members, ".jpg")
    data = bytearray(members[name])
    data[10] ^= 0x01
    members[name] = bytes(data)


def _edit_manifest(members: dict[str, bytes]) -> None:
    members["manifest.json"] = members["manifest.json"].replace(b'"user:op-1"', b'"user:op-2"')


def _edit_audit(members: dict[str, bytes]) -> None:
    members["audit.json"] = members["audit.json"].replace(b"evidence.store", b"evidence.stor3")


def _remove_clip(members: dict[str, bytes]) -> None:
    del members[_evidence_file(members, ".mp4")]


def _add_file(members: dict[str, bytes]) -> None:
    members["evidence/planted.jpg"] = b"not from the camera"


def _re_sign_with_another_key(members: dict[str, bytes]) -> None:
    """Swap a file and re-sign a consistent manifest with a key the attacker holds."""
    attacker = Ed25519Signer.from_secret(b"the attacker's own secret key!!")
    manifest = json.loads(members["manifest.json"])
    name = _evidence_file(members, ".jpg")
    members[name] = b"a doctored snapshot"
    import hashlib

    for entry in manifest["items"]:
        if entry["file"] == name:
            entry.update(sha256=hashlib.sha256(members[name]).hexdigest(), size=len(members[name]))
            entry["evidence"].update(sha256=entry["sha256"], size=entry["size"])
    manifest["public_key"] = attacker.public_key.hex()
    raw = BundleManifest.from_json(json.dumps(manifest).encode()).to_json()
    members["manifest.json"] = raw
    members["manifest.sig"] = attacker.sign(bundle_signing_payload(raw)).hex().encode()


TAMPERS: list[tuple[str, Callable[[dict[str, bytes]], None], bool, set[str]]] = [
    ("one-byte-in-a-file", _flip_in_file, False, {"file evidence/*.jpg"}),
    ("manifest-field", _edit_manifest, False, {"signature"}),
    ("audit-excerpt", _edit_audit, False, {"file audit.json"}),
    ("file-removed", _remove_clip, False, {"file evidence/*.mp4"}),
    ("file-added", _add_file, False, {"contents"}),
    ("re-signed-unpinned", _re_sign_with_another_key, False, set()),
    ("re-signed-pinned", _re_sign_with_another_key, True, {"public key"}),
]


def _names(report_names: list[str]) -> set[str]:
    """Failed check names with evidence ids generalised (``file evidence/<id>.jpg`` -> ``*``)."""
    out = set()
    for name in report_names:
        generic = name
        if name.startswith("file evidence/"):
            generic = "file evidence/*" + name[name.rindex(".") :]
        out.add(generic)
    return out


async def test_export_makes_a_bundle_that_verifies_offline(harness: Harness) -> None:
    h = harness
    snapshot, clip = await _store_two(h)
    await h.service.read(snapshot.id, actor=acting("user:op-1"))
    h.clock.now = T0 + timedelta(hours=1)
    bundle = await h.service.export([snapshot.id, clip.id, snapshot.id], actor=acting("user:op-1"))

    report = verify_bundle(bundle)
    assert report.ok, report.failures
    assert report.items == 2
    assert report.fingerprint == h.signer.fingerprint
    assert verify_bundle(bundle, h.service.public_key).ok

    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        manifest = BundleManifest.from_json(archive.read("manifest.json"))
        audit = json.loads(archive.read("audit.json"))
        files = {item.evidence["id"]: archive.read(item.file.name) for item in manifest.items}
    assert files == {snapshot.id: SNAPSHOT, clip.id: CLIP}
    assert (manifest.exporter, manifest.created_at) == ("user:op-1", T0 + timedelta(hours=1))
    assert [item.file.name.rsplit(".", 1)[1] for item in manifest.items] == ["jpg", "mp4"]
    assert manifest.items[0].evidence["camera_id"] == "cam-1"
    assert "wrapped_key" not in manifest.items[0].evidence
    actions = [(r["action"], r["target"]) for r in audit["records"]]
    assert actions == [
        ("evidence.store", snapshot.target),
        ("evidence.store", clip.target),
        ("evidence.read", snapshot.target),
    ]
    exports = [r.entry for r in await h.audit.records() if r.entry.action == "evidence.export"]
    assert {e.target for e in exports} == {snapshot.target, clip.target}
    assert (await h.audit.verify()).ok


async def test_export_takes_a_given_audit_excerpt(harness: Harness) -> None:
    h = harness
    snapshot, _ = await _store_two(h)
    chosen = (await h.audit.records())[:1]
    bundle = await h.service.export([snapshot.id], actor=acting("user:op-1"), audit_records=chosen)
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        records = json.loads(archive.read("audit.json"))["records"]
    assert [r["seq"] for r in records] == [1]
    assert verify_bundle(bundle).ok


@pytest.mark.parametrize(("name", "tamper", "pin", "failed"), TAMPERS, ids=[t[0] for t in TAMPERS])
async def test_a_tampered_bundle_fails_naming_what(
    harness: Harness,
    name: str,
    tamper: Callable[[dict[str, bytes]], None],
    pin: bool,
    failed: set[str],
) -> None:
    h = harness
    snapshot, clip = await _store_two(h)
    bundle = await h.service.export([snapshot.id, clip.id], actor=acting("user:op-1"))
    report = verify_bundle(_rezip(bundle, tamper), h.service.public_key if pin else None)
    assert _names([c.name for c in report.failures]) == failed, (name, report.failures)
    assert report.ok == (not failed)


async def test_a_wrong_pinned_key_or_a_broken_zip_fails(harness: Harness) -> None:
    h = harness
    snapshot, _ = await _store_two(h)
    bundle = await h.service.export([snapshot.id], actor=acting("user:op-1"))
    other = Ed25519Signer.from_secret(b"another installation's secret!!")
    wrong = verify_bundle(bundle, other.public_key)
    assert [c.name for c in wrong.failures] == ["public key"]
    assert other.fingerprint in wrong.failures[0].detail
    raw = bytearray(bundle)
    raw[len(raw) // 2] ^= 0xFF
    assert not verify_bundle(bytes(raw)).ok
    assert [c.name for c in verify_bundle(b"not a zip").checks] == ["zip"]


# --- the composition root ------------------------------------------------------------------------


async def test_bootstrap_wires_the_configured_store(
    tmp_path: Path, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    bucket = f"argus-{uuid.uuid4().hex[:12]}"
    configs = {
        "default": Settings(data_dir=tmp_path / "a"),
        "path": Settings(data_dir=tmp_path / "b", evidence_url=str(tmp_path / "objects")),
        "s3": Settings(
            data_dir=tmp_path / "c",
            evidence_url=f"s3://{bucket}/site-1",
            s3_endpoint_url=s3_endpoint,
        ),
    }
    for name, settings in configs.items():
        audit = MemoryAuditLog(chain_key(SECRET))
        service = await open_evidence_service(
            settings, MemoryEvidenceRepository(), audit, secret=SECRET
        )
        try:
            item = await service.store(SNAPSHOT, "snapshot", "image/jpeg", actor=SYSTEM_ACTOR)
            assert (await service.read(item.id, actor=SYSTEM_ACTOR))[1] == SNAPSHOT, name
            assert service.public_key == Ed25519Signer.from_secret(SECRET).public_key
        finally:
            await service.close()
    assert any(path.is_file() for path in (tmp_path / "a" / "evidence").rglob("*"))
    assert (tmp_path / "a" / "evidence-keys.json").is_file()
    assert any(path.is_file() for path in (tmp_path / "objects").rglob("*"))
    s3 = await open_evidence_blobs(configs["s3"], create_bucket=False)
    try:
        assert len(await s3.keys()) == 1
    finally:
        await s3.close()


async def test_bootstrap_refuses_unknown_evidence_urls(tmp_path: Path) -> None:
    for url in ("ftp://host/x", "s3:///no-bucket"):
        with pytest.raises(ConfigError, match="evidence URL"):
            await open_evidence_blobs(Settings(data_dir=tmp_path, evidence_url=url))
