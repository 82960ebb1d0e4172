"""The shared capacity document in Redis (a ``CapacityStore``), for several server processes.

The document is one hash, ``{prefix}:capacity`` with the fields ``version``
and ``state`` (JSON). ``save`` is a Lua script, so the version check and the
write are one atomic step on the server (compare-and-set).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Any, Self, cast

import redis.asyncio as redis_asyncio
import redis.exceptions

from argus.domain.errors import StorageError
from argus.ports.workstations import VersionedState

__all__ = ["RedisCapacityStore"]

_ERRORS = (redis.exceptions.RedisError, OSError)

_COMPARE_AND_SET = """
local stored = redis.call('HGET', KEYS[1], 'version')
if not stored then stored = '0' end
if stored ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'state', ARGV[3])
return 1
"""


class RedisCapacityStore:
    """The capacity document in a Redis hash (see ``CapacityStore``).

    Args:
        client: A connected client (closed by ``close``).
        prefix: Namespace of the key (``ARGUS_BUS_PREFIX`` by default).
    """

    def __init__(self, client: redis_asyncio.Redis, prefix: str = "argus") -> None:
        self.client = client
        self.key = f"{prefix}:capacity"
        self._script = client.register_script(_COMPARE_AND_SET)

    @classmethod
    async def connect(cls, url: str, *, prefix: str = "argus", timeout: float = 5.0) -> Self:
        """Connect to ``url`` and check that the server answers.

        Raises:
            StorageError: Redis is unreachable.
        """
        client = redis_asyncio.Redis.from_url(
            url, socket_connect_timeout=timeout, decode_responses=False
        )
        try:
            await cast("Awaitable[bool]", client.ping())
        except _ERRORS as exc:
            await client.aclose()
            raise StorageError(f"cannot connect to Redis at {url}: {exc}") from exc
        return cls(client, prefix)

    async def load(self) -> VersionedState | None:
        """The stored document (see ``CapacityStore``)."""
        try:
            version, state = await cast(
                "Awaitable[list[bytes | None]]", self.client.hmget(self.key, ["version", "state"])
            )
        except _ERRORS as exc:
            raise StorageError(f"reading the capacity state from Redis failed: {exc}") from exc
        if version is None or state is None:
            return None
        try:
            data: Any = json.loads(state)
            number = int(version)
        except ValueError as exc:
            raise StorageError(f"the capacity state in Redis is unreadable: {exc}") from exc
        if not isinstance(data, dict):
            raise StorageError("the capacity state in Redis is not a JSON object")
        return VersionedState(data, number)

    async def save(self, state: dict[str, Any], expected_version: int) -> bool:
        """Compare-and-set (see ``CapacityStore``)."""
        body = json.dumps(state, allow_nan=False, separators=(",", ":"))
        try:
            done = await self._script(
                keys=[self.key], args=[str(expected_version), str(expected_version + 1), body]
            )
        except _ERRORS as exc:
            raise StorageError(f"saving the capacity state to Redis failed: {exc}") from exc
        return bool(int(done))

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()

    async def clear(self) -> None:
        """Delete the document (tests and resets)."""
        try:
            await cast("Awaitable[int]", self.client.delete(self.key))
        except _ERRORS as exc:
            raise StorageError(f"deleting the capacity state from Redis failed: {exc}") from exc
