"""``EdgeRegistry``: edge nodes register, and read their configuration by long polling.

A node registers with an API key holding the ``edge`` permission. The first
key that registers a node id owns it: the node id is bound to that key (its
``key_id``), and another key registering or using that id is refused
(``PermissionDeniedError``, 403), so a leaked key of one node cannot speak for
another. The first registration also makes the node's evidence key (32 random
bytes the node seals its evidence with); later registrations return the same
key and update the node's version, models, capabilities and host name.
Registrations are audited as ``edge.register``.

A node's configuration is built from the store on every request: its cameras
(every camera whose ``edge_node_id`` is the node and that the key's camera
scope includes, credentials in clear), their lines and zones, and per camera
the event types of the enabled rules that cover it (the node captures evidence
for those; a rule of any type covers every type of the catalogue). Its revision
is the SHA-256 of its canonical JSON (``config_revision``), so every replica
computes the same revision for the same stored state. ``wait_config``
long-polls: while the revision equals the one the node holds it reads the store
again about every ``poll_s`` seconds, so a change made through another replica
is seen too, and returns at the first change or the current configuration when
the wait runs out. At most ``MAX_CONFIG_WAITS_PER_KEY`` requests of one key
wait at once (more: 429), and a request that waited checks its key again before
it answers, so a key revoked meanwhile gets 401 instead of the (possibly new)
credentials.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from argus.domain.actor import Actor
from argus.domain.cameras import Camera, utc_now
from argus.domain.edge import (
    EdgeCamera,
    EdgeConfig,
    EdgeNode,
    NodeRegistration,
    RegistrationReply,
)
from argus.domain.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from argus.domain.event_types import EVENT_TYPES
from argus.domain.identity import Principal
from argus.domain.rules import Rule
from argus.domain.scene_codec import camera_to_dict, line_to_dict, zone_to_dict
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.repositories import Database
from argus.services.writes import record

__all__ = ["MAX_CONFIG_WAITS_PER_KEY", "MAX_CONFIG_WAIT_S", "EdgeRegistry", "node_key_id"]

MAX_CONFIG_WAIT_S = 25.0
"""Longest a configuration request may wait for a change."""
MAX_CONFIG_WAITS_PER_KEY = 8
"""Most configuration requests of one key that may wait at once (on one server); more: 429."""

Sleep = Callable[[float], Awaitable[None]]


def node_key_id(actor: Actor) -> str:
    """The id a node is bound to: the API key's (or user's) id of the caller.

    Raises:
        PermissionDeniedError: The actor has no principal (nothing to bind to).
    """
    if actor.principal is None:
        raise PermissionDeniedError("an edge node needs an API key")
    return actor.principal.id


class EdgeRegistry:
    """Registers edge nodes and serves their configuration.

    Args:
        database: The store (``database.nodes`` and the scene).
        health_interval_s: Seconds between a node's health reports.
        pre_roll_s: Seconds of video before an event in a node's clips.
        post_roll_s: Seconds after it.
        clock: The current UTC time.
        monotonic: A monotonic clock in seconds (the long poll's deadline).
        sleep: Waits between two reads of a long poll.
        poll_s: Seconds between two reads of a long poll.
        new_key: Makes a node's evidence key (32 random bytes).
    """

    def __init__(
        self,
        database: Database,
        *,
        health_interval_s: float,
        pre_roll_s: float,
        post_roll_s: float,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        poll_s: float = 0.5,
        new_key: Callable[[], bytes] = lambda: secrets.token_bytes(32),
    ) -> None:
        self._db = database
        self._interval = health_interval_s
        self._pre = pre_roll_s
        self._post = post_roll_s
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._poll = poll_s
        self._new_key = new_key
        self._waits: dict[str, int] = {}

    @property
    def health_interval_s(self) -> float:
        """Seconds between a node's health reports."""
        return self._interval

    async def register(self, actor: Actor, registration: NodeRegistration) -> RegistrationReply:
        """Register (or re-register) a node; audited ``edge.register``.

        Raises:
            PermissionDeniedError: The node id is bound to another key, or this key
                already owns another node.
        """
        key_id = node_key_id(actor)
        node_id = registration.node_id
        known = await self._db.nodes.get(node_id)
        if known is not None and known.key_id != key_id:
            raise PermissionDeniedError(f"node {node_id} is bound to another API key")
        if known is None:
            # One node per key: a key (or a stolen one) cannot claim further node ids,
            # such as one an admin assigned cameras to before its node registered.
            owned = [n.node_id for n in await self._db.nodes.list() if n.key_id == key_id]
            if owned:
                raise PermissionDeniedError(
                    f"this API key belongs to node {owned[0]}; create one key per node"
                )
        now = self._clock()
        draft = EdgeNode(
            node_id=node_id,
            key_id=key_id,
            version=registration.version,
            models=registration.models,
            capabilities=registration.capabilities,
            hostname=registration.hostname,
            registered_at=now,
            evidence_key=known.evidence_key if known is not None else self._new_key(),
        )
        stored = await self._db.nodes.upsert_registration(draft)
        if stored.key_id != key_id:  # another key registered it meanwhile
            raise PermissionDeniedError(f"node {node_id} is bound to another API key")
        await record(
            self._db.audit,
            actor,
            "edge.register",
            f"node:{node_id}",
            at=now,
            first=known is None,
            version=registration.version,
        )
        return RegistrationReply(
            node_id=node_id,
            evidence_key=base64.b64encode(stored.evidence_key).decode("ascii"),
            health_interval_s=self._interval,
            server_time=now,
        )

    async def node_of(self, actor: Actor, node_id: str) -> EdgeNode:
        """The registered node ``node_id``, when the caller's key owns it.

        Raises:
            NotFoundError: The node never registered.
            PermissionDeniedError: It is bound to another key.
        """
        node = await self._db.nodes.get(node_id)
        if node is None:
            raise NotFoundError(f"no edge node {node_id}: register it first")
        if node.key_id != node_key_id(actor):
            raise PermissionDeniedError(f"node {node_id} is bound to another API key")
        return node

    async def config(self, actor: Actor, node_id: str) -> EdgeConfig:
        """The node's current configuration (see the module docstring).

        Raises:
            NotFoundError: The node never registered.
            PermissionDeniedError: It is bound to another key.
        """
        await self.node_of(actor, node_id)
        return await self._build(node_id, actor.principal)

    async def wait_config(
        self, actor: Actor, node_id: str, *, after: str | None, wait_s: float
    ) -> EdgeConfig:
        """The configuration once its revision differs from ``after``, or after ``wait_s``.

        Without ``after`` (or a ``wait_s`` of 0) it answers at once. At most
        ``MAX_CONFIG_WAITS_PER_KEY`` requests of one key wait at once, and a
        request that waited answers only while its key is still valid (a key
        revoked meanwhile gets no configuration).

        Raises:
            NotFoundError: The node never registered.
            PermissionDeniedError: It is bound to another key.
            RateLimitedError: Too many requests of this key are waiting already.
            AuthenticationError: The key was revoked while the request waited.
        """
        await self.node_of(actor, node_id)
        if after is None or not wait_s > 0:  # NaN too: never an endless wait
            return await self._build(node_id, actor.principal)
        key_id = node_key_id(actor)
        if self._waits.get(key_id, 0) >= MAX_CONFIG_WAITS_PER_KEY:
            raise RateLimitedError(
                f"{MAX_CONFIG_WAITS_PER_KEY} configuration requests of this key wait already",
                retry_after=1.0,
            )
        self._waits[key_id] = self._waits.get(key_id, 0) + 1
        try:
            return await self._wait(actor, node_id, after, wait_s)
        finally:
            self._waits[key_id] -= 1
            if not self._waits[key_id]:
                del self._waits[key_id]

    async def _wait(self, actor: Actor, node_id: str, after: str, wait_s: float) -> EdgeConfig:
        deadline = self._monotonic() + min(wait_s, MAX_CONFIG_WAIT_S)
        while True:
            config = await self._build(node_id, actor.principal)
            left = deadline - self._monotonic()
            if config.revision != after or left <= 0:
                break
            await self._sleep(min(self._poll, left))
        await self._still_valid(actor)
        return config

    async def _still_valid(self, actor: Actor) -> None:
        """Raise ``AuthenticationError`` when the caller's API key is gone or revoked."""
        principal = actor.principal
        if principal is None or principal.kind != "apikey":
            return
        try:
            revoked = (await self._db.api_keys.get(principal.id)).revoked_at is not None
        except NotFoundError:
            revoked = True
        if revoked:
            raise AuthenticationError("this API key was revoked")

    async def _build(self, node_id: str, who: Principal | None) -> EdgeConfig:
        cameras = await all_pages(
            lambda skip: self._db.cameras.list(limit=MAX_PAGE, offset=skip, edge_node_id=node_id)
        )
        # A camera-scoped key gets only its cameras (their credentials are in the config).
        seen = [c for c in cameras if who is None or who.sees_camera(c.id)]
        mine = sorted(seen, key=lambda c: c.id)
        rules = await all_pages(
            lambda skip: self._db.rules.list(limit=MAX_PAGE, offset=skip, enabled=True)
        )
        entries = [await self._entry(camera, rules) for camera in mine]
        return EdgeConfig.build(
            node_id,
            entries,
            health_interval_s=self._interval,
            pre_roll_s=self._pre,
            post_roll_s=self._post,
            server_time=self._clock(),
        )

    async def _entry(self, camera: Camera, rules: list[Rule]) -> EdgeCamera:
        lines = await all_pages(
            lambda skip: self._db.lines.list(camera.id, limit=MAX_PAGE, offset=skip)
        )
        zones = await all_pages(
            lambda skip: self._db.zones.list(camera.id, limit=MAX_PAGE, offset=skip)
        )
        return EdgeCamera(
            camera=camera_to_dict(camera),
            lines=tuple(line_to_dict(line) for line in sorted(lines, key=lambda x: x.id)),
            zones=tuple(zone_to_dict(zone) for zone in sorted(zones, key=lambda x: x.id)),
            evidence_types=evidence_types(camera.id, rules),
        )


def evidence_types(camera_id: str, rules: list[Rule]) -> tuple[str, ...]:
    """Event types of the enabled rules covering ``camera_id`` (a rule of any type: all)."""
    types: set[str] = set()
    for rule in rules:
        if not rule.enabled or rule.camera_id not in (None, camera_id):
            continue
        types.update(rule.event_types or EVENT_TYPES)
    return tuple(sorted(types))
