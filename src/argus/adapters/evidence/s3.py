"""Blobs in an S3-compatible bucket (AWS S3, MinIO, SeaweedFS, Ceph RGW).

boto3 is synchronous, so each call runs in a worker thread
(``asyncio.to_thread``); a boto3 client is safe to share between threads.
Objects live under ``prefix`` in the bucket; keys are checked with
``check_blob_key`` before any request. botocore errors are translated at this
boundary: a missing object becomes ``NotFoundError``, anything else (a missing
bucket, refused credentials, an unreachable endpoint) ``StorageError``.
Credentials come from the arguments or boto3's usual chain (``AWS_*``
variables, shared files, instance roles).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Self, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from argus.domain.errors import NotFoundError, StorageError
from argus.domain.evidence import check_blob_key, check_blob_prefix

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["S3BlobStore"]

T = TypeVar("T")

_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3BlobStore:
    """A ``BlobStore`` on an S3-compatible bucket.

    Build it with ``await S3BlobStore.open(...)``, which can create the bucket.

    Args:
        client: A boto3 S3 client (``S3BlobStore.open`` makes one).
        bucket: The bucket name.
        prefix: Where objects live in the bucket (``""`` or parts ending in ``/``).
    """

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        check_blob_prefix(prefix)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self._client = client
        self._bucket = bucket
        self._prefix = prefix
        self._closed = False

    @classmethod
    async def open(
        cls,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        create_bucket: bool = False,
    ) -> Self:
        """Make a client and the store, and check (or create) the bucket.

        Args:
            bucket: The bucket name.
            prefix: Where objects live in the bucket.
            endpoint_url: An S3-compatible server; ``None`` for AWS. Requests to
                it use path-style addressing, which every such server understands.
            region_name: The region (default: boto3's, else ``us-east-1``).
            access_key_id: Credentials; ``None`` uses boto3's chain.
            secret_access_key: Credentials; ``None`` uses boto3's chain.
            create_bucket: Create the bucket when it is missing.

        Raises:
            StorageError: The endpoint is unreachable, the credentials are refused,
                or the bucket is missing (and not to be created).
        """
        config = Config(
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        try:
            client = await asyncio.to_thread(
                boto3.client,
                "s3",
                endpoint_url=endpoint_url,
                region_name=region_name or boto3.session.Session().region_name or "us-east-1",
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=config,
            )
        except (BotoCoreError, ValueError) as exc:
            raise StorageError(f"cannot make an S3 client: {exc}") from exc
        store = cls(client, bucket, prefix)
        try:
            await store.ensure_bucket(create=create_bucket)
        except BaseException:
            await store.close()
            raise
        return store

    async def ensure_bucket(self, *, create: bool = True) -> None:
        """Check that the bucket exists, creating it when missing and ``create``.

        Raises:
            StorageError: It is missing (and not to be created) or unreachable.
        """
        try:
            await self._call(lambda c: c.head_bucket(Bucket=self._bucket))
            return
        except NotFoundError:
            if not create:
                raise StorageError(f"S3 bucket {self._bucket!r} does not exist") from None
        region = self._client.meta.region_name

        def make(client: S3Client) -> None:
            try:
                if region in (None, "us-east-1"):
                    client.create_bucket(Bucket=self._bucket)
                else:
                    client.create_bucket(
                        Bucket=self._bucket,
                        CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
                    )
            except ClientError as exc:
                # Another server may have created it meanwhile; that is success.
                if _code(exc) != "BucketAlreadyOwnedByYou":
                    raise

        await self._call(make)

    def _object(self, key: str) -> str:
        check_blob_key(key)
        return self._prefix + key

    async def _call(self, request: Callable[[S3Client], T]) -> T:
        if self._closed:
            raise StorageError("the evidence S3 store is closed")
        try:
            return await asyncio.to_thread(request, self._client)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise NotFoundError(f"not found in S3 bucket {self._bucket!r}") from exc
            raise StorageError(f"S3 request to bucket {self._bucket!r} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 request to bucket {self._bucket!r} failed: {exc}") from exc

    async def put(self, key: str, data: bytes) -> None:
        name = self._object(key)
        await self._call(lambda c: c.put_object(Bucket=self._bucket, Key=name, Body=bytes(data)))

    async def get(self, key: str) -> bytes:
        name = self._object(key)

        def read(client: S3Client) -> bytes:
            return client.get_object(Bucket=self._bucket, Key=name)["Body"].read()

        try:
            return await self._call(read)
        except NotFoundError:
            raise NotFoundError(f"no blob {key!r}") from None

    async def delete(self, key: str) -> None:
        name = self._object(key)
        await self._call(lambda c: c.delete_object(Bucket=self._bucket, Key=name))

    async def exists(self, key: str) -> bool:
        name = self._object(key)
        try:
            await self._call(lambda c: c.head_object(Bucket=self._bucket, Key=name))
        except NotFoundError:
            return False
        return True

    async def keys(self, prefix: str = "") -> list[str]:
        check_blob_prefix(prefix)
        start = self._prefix + prefix

        def walk(client: S3Client) -> list[str]:
            found: list[str] = []
            pages = client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=start
            )
            for page in pages:
                found.extend(entry["Key"] for entry in page.get("Contents", ()) if "Key" in entry)
            return found

        names = await self._call(walk)
        return sorted(name[len(self._prefix) :] for name in names)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await asyncio.to_thread(self._client.close)
