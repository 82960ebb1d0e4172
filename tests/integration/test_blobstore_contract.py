"""One contract for every blob store: the local filesystem and S3 (a real ``moto_server``).

The S3 store talks over HTTP to a ``moto_server`` subprocess on a free
loopback port (``tests/servers/s3_server.py``); every test gets its own
bucket, so runs never see each other's objects.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from argus.adapters.evidence.fs import FileBlobStore
from argus.adapters.evidence.s3 import S3BlobStore
from argus.domain.errors import NotFoundError, StorageError, ValidationError
from argus.ports.evidence import BlobStore
from tests.servers.s3_server import ACCESS_KEY, REGION, SECRET_KEY, running_s3_server

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A running ``moto_server`` for this module's tests."""
    with running_s3_server() as endpoint:
        yield endpoint


async def open_s3(
    endpoint: str, bucket: str, prefix: str = "evidence", **options: bool
) -> S3BlobStore:
    return await S3BlobStore.open(
        bucket,
        prefix,
        endpoint_url=endpoint,
        region_name=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        **options,
    )


@pytest.fixture(params=["file", "s3"])
async def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    """A fresh, empty store of each kind; closed afterwards."""
    store: BlobStore
    if request.param == "file":
        store = FileBlobStore(tmp_path / "blobs")
    else:
        endpoint: str = request.getfixturevalue("s3_endpoint")
        store = await open_s3(endpoint, f"argus-{uuid.uuid4().hex[:12]}", create_bucket=True)
    try:
        yield store
    finally:
        await store.close()


async def test_put_then_get_returns_the_same_bytes(blobs: BlobStore) -> None:
    payloads = {
        "2026/03/01/a": bytes(range(256)) * 4,
        "2026/03/01/empty": b"",
        "b": b"\x00" * 3 + "café".encode(),
        "big/object": os.urandom(3 * 1024 * 1024 + 7),
    }
    for key, data in payloads.items():
        await blobs.put(key, data)
    for key, data in payloads.items():
        assert await blobs.get(key) == data


async def test_put_overwrites(blobs: BlobStore) -> None:
    await blobs.put("k", b"first version")
    await blobs.put("k", b"second")
    assert await blobs.get("k") == b"second"
    assert await blobs.keys() == ["k"]


async def test_a_missing_key_is_not_found(blobs: BlobStore) -> None:
    with pytest.raises(NotFoundError):
        await blobs.get("2026/03/01/missing")
    assert not await blobs.exists("2026/03/01/missing")


async def test_delete_removes_and_is_idempotent(blobs: BlobStore) -> None:
    await blobs.put("a/one", b"1")
    await blobs.put("a/two", b"2")
    assert await blobs.exists("a/one")
    await blobs.delete("a/one")
    assert not await blobs.exists("a/one")
    with pytest.raises(NotFoundError):
        await blobs.get("a/one")
    await blobs.delete("a/one")
    await blobs.delete("never/stored")
    assert await blobs.get("a/two") == b"2"


async def test_keys_lists_by_string_prefix_sorted(blobs: BlobStore) -> None:
    for key in ("2026/03/02/b", "2026/03/01/z", "2026/03/01/a", "2026/04/01/c", "other"):
        await blobs.put(key, key.encode())
    assert await blobs.keys() == [
        "2026/03/01/a",
        "2026/03/01/z",
        "2026/03/02/b",
        "2026/04/01/c",
        "other",
    ]
    assert await blobs.keys("2026/03/") == ["2026/03/01/a", "2026/03/01/z", "2026/03/02/b"]
    assert await blobs.keys("2026/03/0") == ["2026/03/01/a", "2026/03/01/z", "2026/03/02/b"]
    assert await blobs.keys("2026/03/01/a") == ["2026/03/01/a"]
    assert await blobs.keys("nothing") == []


BAD_KEYS = ["../escape", "a/../../escape", "/etc/passwd", "a\\b", "a\x00b", "", "a//b", ".x", "a/"]


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
async def test_traversal_keys_are_refused_before_any_io(blobs: BlobStore, key: str) -> None:
    with pytest.raises(ValidationError):
        await blobs.put(key, b"x")
    with pytest.raises(ValidationError):
        await blobs.get(key)
    with pytest.raises(ValidationError):
        await blobs.exists(key)
    with pytest.raises(ValidationError):
        await blobs.delete(key)
    assert await blobs.keys() == []


@pytest.mark.parametrize("prefix", ["../", "/", "a\\b", "a/../"], ids=repr)
async def test_traversal_prefixes_are_refused(blobs: BlobStore, prefix: str) -> None:
    with pytest.raises(ValidationError):
        await blobs.keys(prefix)


async def test_a_closed_store_refuses_calls(blobs: BlobStore) -> None:
    await blobs.put("k", b"v")
    await blobs.close()
    with pytest.raises(StorageError):
        await blobs.get("k")
    with pytest.raises(StorageError):
        await blobs.put("k", b"v")
    await blobs.close()


# --- what only one kind of store has -------------------------------------------------------------


async def test_file_store_writes_atomically_and_never_lists_temporaries(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path / "root")
    await store.put("2026/03/01/a", b"data")
    leftover = tmp_path / "root" / "2026" / "03" / "01" / ".tmp-crashed"
    leftover.write_bytes(b"half")
    assert await store.keys() == ["2026/03/01/a"]
    assert sorted(p.name for p in leftover.parent.iterdir()) == [".tmp-crashed", "a"]


async def test_file_store_refuses_symlinks_out_of_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"not evidence")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    store = FileBlobStore(root)
    with pytest.raises(ValidationError, match="outside"):
        await store.get("link/secret")
    with pytest.raises(ValidationError, match="outside"):
        await store.put("link/planted", b"x")
    assert not (outside / "planted").exists()


async def test_s3_stores_under_different_prefixes_do_not_see_each_other(s3_endpoint: str) -> None:
    bucket = f"argus-{uuid.uuid4().hex[:12]}"
    first = await open_s3(s3_endpoint, bucket, "site-a", create_bucket=True)
    second = await open_s3(s3_endpoint, bucket, "site-b/")
    try:
        await first.put("k", b"a")
        await second.put("k", b"b")
        assert await first.get("k") == b"a"
        assert await second.get("k") == b"b"
        assert await first.keys() == ["k"]
    finally:
        await first.close()
        await second.close()


async def test_s3_missing_bucket_is_a_storage_error_unless_created(s3_endpoint: str) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        await open_s3(s3_endpoint, f"argus-{uuid.uuid4().hex[:12]}")


async def test_s3_unreachable_endpoint_is_a_storage_error() -> None:
    # Port 9 (discard) on loopback: nothing listens there in a test environment.
    with pytest.raises(StorageError):
        await open_s3("http://127.0.0.1:9", "argus-unreachable", create_bucket=True)
