"""Two verify hubs sharing one capacity state, as two server processes would.

Each hub has its own connection to the store (two ``SqlDatabase`` opens of one
SQLite file, or two Redis clients), so they share only what the store holds.
Time is a shared, hand-moved wall clock: a hub that stops renewing its leases
(a crashed process) loses its clients' places once the lease runs out, and the
other hub promotes its waiting client. No frames are sent, so no model is built.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from argus.adapters.capacity_redis import RedisCapacityStore
from argus.adapters.db.sql import SqlDatabase
from argus.adapters.face.images import decode_image
from argus.domain.capacity import CapacityLimits
from argus.domain.errors import ConflictError
from argus.domain.faces import EnrolledFaces
from argus.domain.workstations import VerifyClient
from argus.ports.workstations import CapacityStore
from argus.services.verification import VerificationModels
from argus.services.verify_decisions import DecisionRecorder
from argus.services.verify_hub import HubConfig, VerifyHub
from argus.services.verify_outcomes import (
    Ending,
    VerifyAssigned,
    VerifyClosed,
    VerifyQueued,
    VerifyRejected,
)
from argus.services.verify_pipeline import Outbound, VerifySession
from argus.services.workstations import WorkstationService
from tests.integration.test_workstations_contract import REDIS_URL

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SECRET = b"shared-capacity-secret-0123456789"
LEASE = 15.0
ENROLLED = EnrolledFaces.of({"subject": [np.zeros(128, np.float32)]})


def _no_models() -> VerificationModels:
    raise AssertionError("no frame is sent in these tests, so no model may be built")


def _no_enrolment() -> Any:
    raise AssertionError("nothing is enrolled in these tests")


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _messages(session: VerifySession) -> list[Outbound]:
    out: list[Outbound] = []
    while not session.outbox.empty():
        out.append(session.outbox.get_nowait())
    return out


@pytest.fixture(params=["sqlite", "redis"])
async def hubs(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[VerifyHub, VerifyHub, Clock, Callable[[str], Awaitable[VerifyClient]]]]:
    """Two hubs (two "processes") over one database file and one capacity store."""
    clock = Clock()
    limits = CapacityLimits(max_clients_per_pipeline=1, max_pipelines=1, max_queue=1)
    config = HubConfig(limits=limits, lease_seconds=LEASE)
    url = f"sqlite:///{tmp_path / 'argus.db'}"
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    made: list[VerifyHub] = []
    async with AsyncExitStack() as stack:
        for node in ("a", "b"):
            database = await SqlDatabase.open(url, secret_key=SECRET)
            stack.push_async_callback(database.close)
            capacity: CapacityStore = database.capacity
            if request.param == "redis":
                redis = await RedisCapacityStore.connect(REDIS_URL, prefix=prefix)
                stack.push_async_callback(redis.close)
                if node == "a":
                    stack.push_async_callback(redis.clear)
                capacity = redis
            registry = WorkstationService(database, database.audit, _no_enrolment, decode_image)
            hub = VerifyHub(
                registry,
                database,
                capacity,
                recorder=DecisionRecorder(database, None, database.audit),
                models=_no_models,
                decode=decode_image,
                config=config,
                node_id=node,
                wall=clock,
            )
            stack.push_async_callback(hub.stop)
            made.append(hub)

        async def client(name: str) -> VerifyClient:
            """A registered client (the hubs re-read their clients from the database)."""
            made_client = VerifyClient(
                id=name,
                name=name,
                key_hash="0" * 64,
                subjects=("subject",),
                created_at=datetime.now(UTC),
            )
            with contextlib.suppress(ConflictError):
                await database.verify_clients.add(made_client)
            return made_client

        yield made[0], made[1], clock, client


async def test_limits_are_shared_and_a_dead_servers_places_expire(
    hubs: tuple[VerifyHub, VerifyHub, Clock, Callable[[str], Awaitable[VerifyClient]]],
) -> None:
    a, b, clock, client = hubs
    first = await a.join(await client("c1"), ENROLLED)
    assert _messages(first) == [VerifyAssigned(0)]
    second = await b.join(await client("c2"), ENROLLED)
    assert _messages(second) == [VerifyQueued(1)]
    third = await b.join(await client("c3"), ENROLLED)
    assert _messages(third) == [
        VerifyRejected("system full"),
        VerifyClosed(Ending.FULL, "system full"),
    ]
    view = await a.view()
    assert (view.pipelines, view.queue) == ({0: ("c1",)}, ("c2",))

    # Server a dies (it renews nothing any more); b keeps ticking.
    clock.now += LEASE / 2
    await b.tick()
    assert _messages(second) == []  # c1's lease has not run out yet
    clock.now += LEASE
    await b.tick()
    assert _messages(second) == [VerifyAssigned(0)]
    view = await b.view()
    assert (view.pipelines, view.queue) == ({0: ("c2",)}, ())


async def test_leaving_promotes_a_client_waiting_on_the_other_server(
    hubs: tuple[VerifyHub, VerifyHub, Clock, Callable[[str], Awaitable[VerifyClient]]],
) -> None:
    a, b, _, client = hubs
    first = await a.join(await client("c1"), ENROLLED)
    second = await b.join(await client("c2"), ENROLLED)
    _messages(first)
    _messages(second)
    await a.leave(first)
    await a.tick()
    assert _messages(second) == []  # b has not read the shared state yet
    await b.tick()
    assert _messages(second) == [VerifyAssigned(0)]


async def test_a_client_reconnecting_to_the_other_server_takes_its_place_over(
    hubs: tuple[VerifyHub, VerifyHub, Clock, Callable[[str], Awaitable[VerifyClient]]],
) -> None:
    a, b, _, client = hubs
    old = await a.join(await client("c1"), ENROLLED)
    new = await b.join(await client("c1"), ENROLLED)
    assert _messages(new) == [VerifyAssigned(0)]
    await a.tick()
    messages = _messages(old)
    assert messages[-1] == VerifyClosed(Ending.REPLACED, "replaced")
    await a.leave(old)  # its socket closes: the place stays b's
    assert (await b.view()).pipelines == {0: ("c1",)}
