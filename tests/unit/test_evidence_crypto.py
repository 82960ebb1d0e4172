"""Evidence envelopes, keyrings, key files, metadata signing and the bundle signer.

Everything here is in-process: the keyring's AES-GCM envelope and HMAC, the
key file under a temporary data directory, and the domain's validation of
items, blob keys and bundle manifests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from argus.adapters.evidence.crypto import (
    KEY_FILE,
    Keyring,
    load_keyring,
    parse_master_keys,
    rotate_key_file,
)
from argus.adapters.evidence.signing import Ed25519Signer
from argus.domain.errors import ConfigError, IntegrityError, ValidationError
from argus.domain.evidence import (
    SIGNED_FIELDS,
    BundleFile,
    BundleItem,
    BundleManifest,
    EvidenceItem,
    check_blob_key,
    check_blob_prefix,
    key_fingerprint,
    signed_metadata,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
K1 = bytes(range(32))
K2 = bytes(range(100, 132))
PLAINTEXT = b"\xff\xd8\xff\xe0 a JPEG snapshot of the north gate"


def _seal(
    keyring: Keyring, evidence_id: str = "01HEVIDENCE0000000000000001"
) -> tuple[EvidenceItem, bytes]:
    """A signed item and its ciphertext, as ``EvidenceService.store`` makes them."""
    sealed = keyring.seal(evidence_id, PLAINTEXT)
    draft = EvidenceItem(
        id=evidence_id,
        kind="snapshot",
        content_type="image/jpeg",
        created_at=T0,
        size=len(PLAINTEXT),
        sha256=hashlib.sha256(PLAINTEXT).hexdigest(),
        storage_key=f"2026/03/01/{evidence_id}",
        kid=sealed.kid,
        wrapped_key=sealed.wrapped_key,
        nonce=sealed.nonce,
        alert_id="alert-1",
        incident_id="incident-1",
        camera_id="cam-1",
        created_by="user:op-1",
    )
    return replace(draft, hmac=keyring.mac(draft, sealed.ciphertext)), sealed.ciphertext


# --- the envelope --------------------------------------------------------------------------------


def test_seal_then_open_round_trips_and_the_mac_is_stable() -> None:
    keyring = Keyring({"k1": K1})
    item, ciphertext = _seal(keyring)
    assert PLAINTEXT not in ciphertext
    assert len(ciphertext) == len(PLAINTEXT) + 16
    assert keyring.open(item, ciphertext) == PLAINTEXT
    assert keyring.mac(item, ciphertext) == item.hmac
    assert len(item.hmac) == 32


def test_every_object_gets_its_own_data_key_and_nonce() -> None:
    keyring = Keyring({"k1": K1})
    first, one = _seal(keyring)
    second, two = _seal(keyring)
    assert first.wrapped_key != second.wrapped_key
    assert first.nonce != second.nonce
    assert one != two


CHANGES: list[tuple[str, Any]] = [
    ("id", "01HEVIDENCE0000000000000099"),
    ("kind", "clip"),
    ("content_type", "image/png"),
    ("created_at", T0 + timedelta(microseconds=1)),
    ("size", len(PLAINTEXT) + 1),
    ("sha256", "0" * 64),
    ("storage_key", "2026/03/01/elsewhere"),
    ("alert_id", "alert-2"),
    ("incident_id", None),
    ("camera_id", "cam-2"),
    ("created_by", "user:someone-else"),
]


@pytest.mark.parametrize(("field", "value"), CHANGES, ids=[c[0] for c in CHANGES])
def test_the_mac_covers_each_signed_field(field: str, value: Any) -> None:
    keyring = Keyring({"k1": K1})
    item, ciphertext = _seal(keyring)
    changed = replace(item, **{field: value})
    # A changed id also moves the associated data of the wrapped key, which no longer unwraps.
    try:
        assert keyring.mac(changed, ciphertext) != item.hmac
    except IntegrityError:
        assert field == "id"


def test_signed_fields_are_what_the_metadata_holds() -> None:
    item, _ = _seal(Keyring({"k1": K1}))
    covered = json.loads(signed_metadata(item).split(b"\n", 1)[1])
    assert sorted(covered) == sorted(SIGNED_FIELDS)
    assert not {"hmac", "locked", "locked_by", "locked_at", "version"} & set(covered)


def test_lock_and_version_changes_leave_the_mac_valid() -> None:
    keyring = Keyring({"k1": K1})
    item, ciphertext = _seal(keyring)
    locked = item.with_lock("user:op-1", T0 + timedelta(hours=1))
    assert locked.version == 2
    assert keyring.mac(locked, ciphertext) == item.hmac
    assert keyring.mac(locked.without_lock(), ciphertext) == item.hmac


def test_a_flipped_ciphertext_byte_changes_the_mac_and_fails_decryption() -> None:
    keyring = Keyring({"k1": K1})
    item, ciphertext = _seal(keyring)
    flipped = bytes([ciphertext[0] ^ 0x01]) + ciphertext[1:]
    assert keyring.mac(item, flipped) != item.hmac
    with pytest.raises(IntegrityError, match="does not decrypt"):
        keyring.open(item, flipped)


def test_a_ciphertext_moved_to_another_id_does_not_decrypt() -> None:
    keyring = Keyring({"k1": K1})
    item, ciphertext = _seal(keyring)
    other, _ = _seal(keyring, "01HEVIDENCE0000000000000002")
    # Even with the other item's data key wrapped for it, the content AAD binds the id.
    moved = replace(item, id=other.id, wrapped_key=other.wrapped_key, nonce=item.nonce)
    with pytest.raises(IntegrityError):
        keyring.open(moved, ciphertext)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda i: replace(i, wrapped_key=b"\x00" + i.wrapped_key[1:]), id="key-byte"),
        pytest.param(lambda i: replace(i, wrapped_key=i.wrapped_key[:-1]), id="key-truncated"),
        pytest.param(lambda i: replace(i, kid="k2"), id="other-kid"),
        pytest.param(lambda i: replace(i, kid="gone"), id="unknown-kid"),
    ],
)
def test_a_tampered_envelope_does_not_unwrap(tamper: Any) -> None:
    keyring = Keyring({"k1": K1, "k2": K2}, current="k1")
    item, ciphertext = _seal(keyring)
    with pytest.raises(IntegrityError):
        keyring.mac(tamper(item), ciphertext)
    with pytest.raises(IntegrityError):
        keyring.open(tamper(item), ciphertext)


def test_rewrap_keeps_the_data_key_so_the_old_master_key_can_go() -> None:
    old = Keyring({"k1": K1})
    item, ciphertext = _seal(old)
    both = Keyring({"k1": K1, "k2": K2})
    assert both.current_kid == "k2"
    assert both.kids == ("k1", "k2")
    draft = item.rewrapped(*both.rewrap(item))
    assert draft.kid == "k2"
    assert draft.version == item.version + 1
    rewrapped = replace(draft, hmac=both.mac(draft, ciphertext))
    only_new = Keyring({"k2": K2})
    assert only_new.mac(rewrapped, ciphertext) == rewrapped.hmac
    assert only_new.open(rewrapped, ciphertext) == PLAINTEXT
    with pytest.raises(IntegrityError, match="does not hold"):
        only_new.open(item, ciphertext)


# --- keyrings from settings and the key file -----------------------------------------------------


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_master_keys_from_settings_last_is_current() -> None:
    keyring = parse_master_keys(f"k1:{_b64(K1)}, k2:{_b64(K2)}")
    assert keyring.current_kid == "k2"
    assert keyring.kids == ("k1", "k2")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no-colon-here", "kid:base64"),
        (f":{_b64(K1)}", "kid:base64"),
        ("k1:not base64!", "not valid base64"),
        (f"k1:{_b64(K1[:16])}", "32 bytes"),
        (f"k1:{_b64(K1)},k1:{_b64(K2)}", "given twice"),
        (f"bad kid:{_b64(K1)}", "key id"),
    ],
    ids=["no-colon", "no-kid", "bad-base64", "short-key", "duplicate", "bad-kid"],
)
def test_bad_master_keys_are_a_config_error(text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        parse_master_keys(text)


def test_an_unknown_current_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not in the keyring"):
        Keyring({"k1": K1}, current="k9")
    with pytest.raises(ConfigError, match="no master keys"):
        Keyring({})


def test_the_key_file_is_created_private_once_and_rotated(tmp_path: Path) -> None:
    first = load_keyring(None, tmp_path)
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.current_kid == "k1"
    again = load_keyring(None, tmp_path)
    item, ciphertext = _seal(first)
    assert again.open(item, ciphertext) == PLAINTEXT

    assert rotate_key_file(tmp_path) == "k2"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rotated = load_keyring(None, tmp_path)
    assert rotated.kids == ("k1", "k2")
    assert rotated.open(item, ciphertext) == PLAINTEXT
    assert rotate_key_file(tmp_path, "2026-q2") == "2026-q2"
    with pytest.raises(ConfigError, match="already"):
        rotate_key_file(tmp_path, "k1")
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE]


def test_configured_keys_win_over_the_key_file(tmp_path: Path) -> None:
    keyring = load_keyring(f"env1:{_b64(K1)}", tmp_path)
    assert keyring.kids == ("env1",)
    assert not (tmp_path / KEY_FILE).exists()


def test_a_file_keyring_reads_keys_added_after_it_was_loaded(tmp_path: Path) -> None:
    running = load_keyring(None, tmp_path)
    rotate_key_file(tmp_path)
    fresh = load_keyring(None, tmp_path)
    item, ciphertext = _seal(fresh)
    assert item.kid == "k2"
    assert running.open(item, ciphertext) == PLAINTEXT
    assert running.current_kid == "k2"


@pytest.mark.parametrize(
    "content",
    ["not json", "{}", '{"current": "k1", "keys": [{"kid": "k1", "key": "%%%"}]}'],
    ids=["not-json", "empty", "bad-key"],
)
def test_a_corrupt_key_file_is_a_config_error(tmp_path: Path, content: str) -> None:
    (tmp_path / KEY_FILE).write_text(content)
    with pytest.raises(ConfigError, match="evidence key file"):
        load_keyring(None, tmp_path)


# --- items and keys ------------------------------------------------------------------------------


def test_items_round_trip_through_their_dict() -> None:
    item, _ = _seal(Keyring({"k1": K1}))
    locked = item.with_lock("user:op-1", T0 + timedelta(hours=2))
    for value in (item, locked):
        assert EvidenceItem.from_dict(json.loads(json.dumps(value.to_dict()))) == value
    public = item.public_dict()
    assert not {"wrapped_key", "nonce", "hmac", "storage_key"} & set(public)


def test_times_are_kept_in_utc() -> None:
    item, _ = _seal(Keyring({"k1": K1}))
    local = replace(item, created_at=T0.astimezone(timezone(timedelta(hours=2))))
    assert local.created_at.tzinfo == UTC
    assert signed_metadata(local) == signed_metadata(item)


INVALID: list[tuple[str, dict[str, Any]]] = [
    ("kind", {"kind": "photo"}),
    ("content_type", {"content_type": "jpeg"}),
    ("sha256", {"sha256": "ABC"}),
    ("storage_key", {"storage_key": "../outside"}),
    ("kid", {"kid": "k 1"}),
    ("hmac", {"hmac": b"short"}),
    ("size", {"size": -1}),
    ("created_at", {"created_at": datetime(2026, 3, 1)}),
    ("locked", {"locked": True}),
    ("locked_by", {"locked_by": "user:x"}),
    ("version", {"version": 0}),
]


@pytest.mark.parametrize(("name", "changes"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_items_are_refused(name: str, changes: dict[str, Any]) -> None:
    item, _ = _seal(Keyring({"k1": K1}))
    with pytest.raises(ValidationError):
        replace(item, **changes)


def test_a_malformed_stored_item_is_a_validation_error() -> None:
    data = _seal(Keyring({"k1": K1}))[0].to_dict()
    del data["sha256"]
    with pytest.raises(ValidationError, match="not a stored evidence item"):
        EvidenceItem.from_dict(data)
    with pytest.raises(ValidationError, match="hex"):
        EvidenceItem.from_dict({**_seal(Keyring({"k1": K1}))[0].to_dict(), "nonce": "zz"})


BAD_KEYS = ["", "../x", "a/../b", "a/./b", "/etc/passwd", "a\\b", "a\x00b", "a//b", "a/", ".hidden"]


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_traversal_and_odd_blob_keys_are_refused(key: str) -> None:
    with pytest.raises(ValidationError):
        check_blob_key(key)


@pytest.mark.parametrize("key", ["a", "2026/03/01/01HXYZ", "x-y_z.bin", "a/b.c/d"])
def test_ordinary_blob_keys_pass(key: str) -> None:
    assert check_blob_key(key) == key


@pytest.mark.parametrize("prefix", ["../", "/", "a\\", "a/..", "\x00"], ids=repr)
def test_traversal_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ValidationError):
        check_blob_prefix(prefix)


# --- the bundle signer and manifest --------------------------------------------------------------


def test_the_signer_is_derived_deterministically_from_the_secret() -> None:
    secret = b"an installation secret of 32 by"
    signer = Ed25519Signer.from_secret(secret)
    assert signer.public_key == Ed25519Signer.from_secret(secret).public_key
    assert signer.public_key != Ed25519Signer.from_secret(secret + b"!").public_key
    assert len(signer.public_key) == 32
    signature = signer.sign(b"manifest")
    Ed25519PublicKey.from_public_bytes(signer.public_key).verify(signature, b"manifest")
    assert signer.fingerprint == key_fingerprint(signer.public_key)
    assert len(signer.fingerprint.split(":")) == 8
    with pytest.raises(ConfigError):
        Ed25519Signer.from_secret(b"short")


def test_manifests_round_trip_and_refuse_garbage() -> None:
    file = BundleFile("evidence/a.jpg", "a" * 64, 10)
    manifest = BundleManifest(
        created_at=T0,
        exporter="user:op-1",
        public_key=bytes(32),
        items=(BundleItem(file, {"id": "a", "sha256": "a" * 64, "size": 10}),),
        audit=BundleFile("audit.json", "b" * 64, 5),
    )
    assert BundleManifest.from_json(manifest.to_json()) == manifest
    assert manifest.files == (file, manifest.audit)
    for raw in (b"not json", b"{}", manifest.to_json().replace(b"argus-evidence-bundle/1", b"x/2")):
        with pytest.raises(ValidationError):
            BundleManifest.from_json(raw)
    with pytest.raises(ValidationError, match="unique"):
        replace(manifest, audit=BundleFile("evidence/a.jpg", "b" * 64, 5))
