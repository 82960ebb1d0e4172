"""``/api/v1/edge``: what ``argus edge`` nodes call (an API key with ``edge``).

* ``POST /edge/register`` binds a node id to the calling key (the first key
  that registers it; another key gets 403) and returns the node's evidence key
  and health interval.
* ``GET /edge/config?node_id=&after=&wait=`` returns the node's cameras, lines
  and zones; with ``after`` equal to the current revision it holds the request
  up to ``wait`` seconds (at most 25) until something changes.
* ``POST /edge/sync`` stores a batch of outbox items exactly once each and
  answers one result per item (``stored``, ``duplicate``, ``rejected`` with a
  reason); its body may be up to ``edge_sync_max_bytes`` (16 MiB).

A revoked key gets 401 on every route (authentication), a node id of another
key 403, an unregistered node 404 (register first).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, Text
from argus.api.schemas.edge import (
    EdgeConfigPublic,
    NodeRegistrationCreate,
    RegistrationReplyPublic,
    SyncBatchCreate,
    SyncReplyPublic,
)
from argus.api.security import Acting
from argus.services.edge_registry import MAX_CONFIG_WAIT_S, EdgeRegistry
from argus.services.edge_sync_intake import EdgeSyncIntake

__all__ = ["SYNC_PATH", "router"]

SYNC_PATH = re.compile(r"^/api/v1/edge/sync$")
"""The sync route (its body limit is ``edge_sync_max_bytes``)."""

router = APIRouter(prefix="/edge", tags=["edge"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})


def get_registry(runtime: RuntimeDep) -> EdgeRegistry:
    """The app's edge node registry."""
    return runtime.edge


def get_sync(runtime: RuntimeDep) -> EdgeSyncIntake:
    """The app's edge sync intake."""
    return runtime.edge_sync


RegistryDep = Annotated[EdgeRegistry, Depends(get_registry)]
SyncDep = Annotated[EdgeSyncIntake, Depends(get_sync)]


@router.post("/register", summary="Register an edge node")
async def register(
    body: NodeRegistrationCreate, registry: RegistryDep, actor: Acting
) -> RegistrationReplyPublic:
    """Register the node (or again, after a restart); audited ``edge.register``."""
    return RegistrationReplyPublic.of(await registry.register(actor, body.to_domain()))


@router.get("/config", summary="Read an edge node's configuration (long poll)")
async def config(
    registry: RegistryDep,
    actor: Acting,
    node_id: Annotated[Text, Query(min_length=1, max_length=64)],
    after: Annotated[
        Text | None,
        Query(min_length=64, max_length=64, description="The revision the node holds."),
    ] = None,
    wait: Annotated[
        float, Query(ge=0, le=MAX_CONFIG_WAIT_S, description="Seconds to wait for a change.")
    ] = 0.0,
) -> EdgeConfigPublic:
    """The node's configuration, at once or at its first change after ``after``."""
    current = await registry.wait_config(actor, node_id, after=after, wait_s=wait)
    return EdgeConfigPublic.of(current)


@router.post("/sync", summary="Store a batch of an edge node's outbox")
async def sync(body: SyncBatchCreate, intake: SyncDep, actor: Acting) -> SyncReplyPublic:
    """Store each item exactly once; one result per item, in order."""
    return SyncReplyPublic.of(await intake.sync(actor, body.to_domain()))
