"""The evidence keyring: master keys by id, and envelope encryption under them.

Each object gets a random 32-byte data key (DEK). The plaintext is encrypted
with AES-256-GCM under the DEK with the evidence id as associated data (a
ciphertext moved to another id does not decrypt). The DEK is wrapped with
AES-256-GCM under the current master key, with the evidence id and the key id
as associated data; ``wrapped_key`` is ``nonce (12 bytes) | wrapped DEK + tag``.
The HMAC key is derived from the DEK with HKDF-SHA256 (info ``argus evidence
hmac v1``), so it stays the same when the DEK is re-wrapped under a new master
key, and old ciphertext never has to be re-encrypted.

Master keys come from ``ARGUS_EVIDENCE_MASTER_KEYS`` (``kid:base64,...``, the
last current) or from the key file ``data_dir/evidence-keys.json`` (created
with one key, mode 0600, on first use; ``rotate_key_file`` adds a new current
key). A file-backed keyring re-reads its file when asked for a key id it does
not hold, so a running server can read evidence that a ``rewrap`` moved onto a
key added after it started.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from argus.domain.errors import ConfigError, IntegrityError, ValidationError
from argus.domain.evidence import EvidenceItem, check_kid, signed_metadata
from argus.domain.keys import derive_key
from argus.ports.evidence import SealedEvidence

__all__ = ["KEY_FILE", "Keyring", "load_keyring", "parse_master_keys", "rotate_key_file"]

KEY_FILE = "evidence-keys.json"
"""The key file's name under ``data_dir``."""

_KEY_SIZE = 32
_NONCE = 12
_HMAC_INFO = b"argus evidence hmac v1"
_HMAC_LABEL = b"argus evidence hmac v1\n"
_CONTENT_AAD = b"argus evidence content v1\x00"
_WRAP_AAD = b"argus evidence dek v1\x00"


def _master(kid: str, key: bytes) -> bytes:
    check_kid(kid)
    if len(key) != _KEY_SIZE:
        raise ConfigError(f"evidence master key {kid!r} must be {_KEY_SIZE} bytes, not {len(key)}")
    return key


class Keyring:
    """Master keys by id (see ``EvidenceKeyring``).

    Args:
        keys: 32-byte master keys by key id, in order of age.
        current: The key new data keys are wrapped under (default: the last).
        source: The key file these came from; it is re-read on an unknown key id.

    Raises:
        ConfigError: No keys, a key of the wrong size, a bad key id, or an
            unknown current key.
    """

    def __init__(
        self, keys: Mapping[str, bytes], current: str | None = None, *, source: Path | None = None
    ) -> None:
        if not keys:
            raise ConfigError("the evidence keyring holds no master keys")
        try:
            self._keys = {kid: _master(kid, key) for kid, key in keys.items()}
        except ValidationError as exc:
            raise ConfigError(str(exc)) from exc
        self._current = current if current is not None else list(self._keys)[-1]
        if self._current not in self._keys:
            raise ConfigError(f"the current evidence key {self._current!r} is not in the keyring")
        self._source = source

    @property
    def current_kid(self) -> str:
        """The master key new data keys are wrapped under."""
        return self._current

    @property
    def kids(self) -> tuple[str, ...]:
        """Every master key id held, the current one last."""
        return (*(kid for kid in self._keys if kid != self._current), self._current)

    def seal(self, evidence_id: str, plaintext: bytes) -> SealedEvidence:
        """Encrypt ``plaintext`` for ``evidence_id`` under a new data key."""
        dek = AESGCM.generate_key(bit_length=256)
        nonce = secrets.token_bytes(_NONCE)
        ciphertext = AESGCM(dek).encrypt(nonce, plaintext, _CONTENT_AAD + evidence_id.encode())
        kid = self._current
        return SealedEvidence(kid, self._wrap(evidence_id, kid, dek), nonce, ciphertext)

    def mac(self, item: EvidenceItem, ciphertext: bytes) -> bytes:
        """HMAC-SHA256 over ``ciphertext`` and ``signed_metadata(item)``, keyed by its data key."""
        key = derive_key(self._unwrap(item), _HMAC_INFO.decode())
        digest = hmac.new(key, _HMAC_LABEL, hashlib.sha256)
        digest.update(len(ciphertext).to_bytes(8, "big"))
        digest.update(ciphertext)
        digest.update(signed_metadata(item))
        return digest.digest()

    def open(self, item: EvidenceItem, ciphertext: bytes) -> bytes:
        """Decrypt ``ciphertext`` (``IntegrityError`` when it does not authenticate)."""
        try:
            return AESGCM(self._unwrap(item)).decrypt(
                item.nonce, ciphertext, _CONTENT_AAD + item.id.encode()
            )
        except (InvalidTag, ValueError) as exc:
            raise IntegrityError(f"evidence {item.id}: the ciphertext does not decrypt") from exc

    def rewrap(self, item: EvidenceItem) -> tuple[str, bytes]:
        """``item``'s data key wrapped under the current master key: ``(kid, wrapped_key)``."""
        kid = self._current
        return kid, self._wrap(item.id, kid, self._unwrap(item))

    def _wrap(self, evidence_id: str, kid: str, dek: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        aad = _WRAP_AAD + evidence_id.encode() + b"\x00" + kid.encode()
        return nonce + AESGCM(self._keys[kid]).encrypt(nonce, dek, aad)

    def _unwrap(self, item: EvidenceItem) -> bytes:
        master = self._key(item.kid)
        if master is None:
            raise IntegrityError(
                f"evidence {item.id}: its data key is wrapped under key {item.kid!r}, which the "
                "keyring does not hold (removed before a rewrap, or the metadata was altered)"
            )
        nonce, wrapped = item.wrapped_key[:_NONCE], item.wrapped_key[_NONCE:]
        aad = _WRAP_AAD + item.id.encode() + b"\x00" + item.kid.encode()
        try:
            dek = AESGCM(master).decrypt(nonce, wrapped, aad)
        except (InvalidTag, ValueError) as exc:
            raise IntegrityError(f"evidence {item.id}: the data key does not unwrap") from exc
        if len(dek) != _KEY_SIZE:
            raise IntegrityError(f"evidence {item.id}: the data key has the wrong size")
        return dek

    def _key(self, kid: str) -> bytes | None:
        if kid not in self._keys and self._source is not None:
            try:
                reloaded = _read_key_file(self._source)
            except (OSError, ConfigError):
                return None
            # Adopt the file's keys and current key together: they were written together.
            self._keys, self._current = dict(reloaded._keys), reloaded._current
        return self._keys.get(kid)


def parse_master_keys(text: str) -> Keyring:
    """Parse ``kid:base64,kid2:base64`` (the last key current).

    Raises:
        ConfigError: The text is malformed, a key is not 32 bytes of base64, or a
            key id repeats.
    """
    keys: dict[str, bytes] = {}
    for part in (p.strip() for p in text.split(",")):
        kid, sep, encoded = part.partition(":")
        if not sep or not kid:
            raise ConfigError("evidence master keys must be 'kid:base64' separated by commas")
        if kid in keys:
            raise ConfigError(f"evidence master key id {kid!r} is given twice")
        try:
            keys[kid] = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConfigError(f"evidence master key {kid!r} is not valid base64") from exc
    return Keyring(keys)


def _read_key_file(path: Path) -> Keyring:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = {
            entry["kid"]: base64.b64decode(entry["key"], validate=True) for entry in data["keys"]
        }
        current = data["current"]
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ConfigError(f"{path} is not a valid evidence key file: {exc!r}") from exc
    if not isinstance(current, str):
        raise ConfigError(f"{path}: 'current' must be a key id")
    return Keyring(keys, current, source=path)


def _key_entry(kid: str) -> dict[str, str]:
    return {
        "kid": kid,
        "key": base64.b64encode(secrets.token_bytes(_KEY_SIZE)).decode("ascii"),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _write_key_file(path: Path, data: dict[str, object], *, exclusive: bool) -> None:
    """Write the key file with mode 0600: exclusively, or atomically over the old one."""
    payload = (json.dumps(data, indent=2) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    if exclusive:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        return
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".evidence-keys-")
    try:
        with os.fdopen(fd, "wb") as file:  # mkstemp creates it 0600
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def load_keyring(configured: str | None, data_dir: Path) -> Keyring:
    """The keyring from settings, or from the key file under ``data_dir``.

    Args:
        configured: ``Settings.evidence_master_keys`` (its secret value), if set.
        data_dir: Where ``evidence-keys.json`` is kept when nothing is configured;
            it is created with one random key on first use. Creation is
            exclusive, so two processes starting together agree on one key.

    Raises:
        ConfigError: The configured keys or the key file are invalid.
    """
    if configured is not None:
        return parse_master_keys(configured)
    path = data_dir / KEY_FILE
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    first: dict[str, object] = {"version": 1, "current": "k1", "keys": [_key_entry("k1")]}
    with contextlib.suppress(FileExistsError):  # another process won the race
        _write_key_file(path, first, exclusive=True)
    return _read_key_file(path)


def rotate_key_file(data_dir: Path, kid: str | None = None) -> str:
    """Add a new random master key to the key file and make it current.

    Old keys stay, so old evidence still reads; ``EvidenceService.rewrap``
    moves every data key onto the new key, after which old keys may be removed
    from the file. Servers pick up the new key for writing when restarted.

    Args:
        data_dir: The directory of ``evidence-keys.json`` (created if missing).
        kid: The new key's id (default: ``k<n>`` for the next free ``n``).

    Returns:
        The new current key id.

    Raises:
        ConfigError: The key file is invalid, or ``kid`` is taken or malformed.
    """
    path = data_dir / KEY_FILE
    load_keyring(None, data_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        taken = {entry["kid"] for entry in data["keys"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is not a valid evidence key file: {exc!r}") from exc
    if kid is None:
        number = len(taken) + 1
        while f"k{number}" in taken:
            number += 1
        kid = f"k{number}"
    try:
        check_kid(kid)
    except ValidationError as exc:
        raise ConfigError(str(exc)) from exc
    if kid in taken:
        raise ConfigError(f"evidence key id {kid!r} is already in {path}")
    data["keys"].append(_key_entry(kid))
    data["current"] = kid
    _write_key_file(path, data, exclusive=False)
    return kid
