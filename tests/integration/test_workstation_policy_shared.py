"""A stored workstation policy reaches every verify hub; the hubs' counters follow their state.

Two hubs over one SQLite file, as two server processes would run (each its own
``SqlDatabase`` open): a policy stored through one server's
``WorkstationPolicyService`` is in force there at once and on the other server
after its next status check; a hub started later reads it before its first
session. Time is a hand-moved wall clock; no frame is sent, so no model is built.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from argus.adapters.db.sql import SqlDatabase
from argus.adapters.face.images import decode_image
from argus.domain.actor import Actor
from argus.domain.capacity import CapacityLimits
from argus.domain.faces import EnrolledFaces
from argus.domain.verification import VerificationPolicy
from argus.domain.workstations import VerifyClient
from argus.services.verification import VerificationModels
from argus.services.verify_decisions import DecisionRecorder
from argus.services.verify_hub import HubConfig, VerifyHub
from argus.services.workstation_policy import WorkstationPolicyService
from argus.services.workstations import WorkstationService

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SECRET = b"policy-shared-secret-0123456789ab"
ENROLLED = EnrolledFaces.of({"subject": [np.zeros(128, np.float32)]})
ADMIN = Actor(None, name="test-admin")
CONFIG = HubConfig(
    limits=CapacityLimits(max_clients_per_pipeline=1, max_pipelines=1, max_queue=1),
    policy=VerificationPolicy(match_threshold=0.55),
)


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


class Servers:
    """Opens hubs over one SQLite file, each with its own connection."""

    def __init__(self, stack: AsyncExitStack, url: str, clock: Clock) -> None:
        self.stack, self.url, self.clock = stack, url, clock

    async def hub(self, node: str) -> tuple[VerifyHub, SqlDatabase]:
        database = await SqlDatabase.open(self.url, secret_key=SECRET)
        self.stack.push_async_callback(database.close)
        registry = WorkstationService(database, database.audit, _no_enrolment, decode_image)
        hub = VerifyHub(
            registry,
            database,
            database.capacity,
            recorder=DecisionRecorder(database, None, database.audit),
            models=_no_models,
            decode=decode_image,
            config=CONFIG,
            node_id=node,
            wall=self.clock,
        )
        self.stack.push_async_callback(hub.stop)
        return hub, database


@pytest.fixture
async def servers(tmp_path: Path) -> AsyncIterator[Servers]:
    async with AsyncExitStack() as stack:
        yield Servers(stack, f"sqlite:///{tmp_path / 'argus.db'}", Clock())


def _client(name: str) -> VerifyClient:
    return VerifyClient(name, name, "0" * 64, ("subject",), datetime.now(UTC))


async def test_a_stored_policy_reaches_every_hub(servers: Servers) -> None:
    (a, database), (b, _) = await servers.hub("a"), await servers.hub("b")
    await a.tick()
    await b.tick()
    assert a.config.policy.match_threshold == b.config.policy.match_threshold == 0.55

    stored = await WorkstationPolicyService(database, a.policy).update(
        ADMIN, {"verification": {"match_threshold": 0.4}, "phone": {"window": 6}}
    )
    assert stored.verification.match_threshold == 0.4
    assert (a.config.policy.match_threshold, a.config.phone.window) == (0.4, 6)
    assert b.config.policy.match_threshold == 0.55  # until its next status check
    servers.clock.now += CONFIG.status_seconds
    await b.tick()
    assert (b.config.policy.match_threshold, b.config.phone.window) == (0.4, 6)
    assert b.config.policy.wrong_user_frames == CONFIG.policy.wrong_user_frames

    c, _ = await servers.hub("c")  # started later: reads the policy before its first session
    await c.join(_client("late"), ENROLLED)
    assert c.config.policy.match_threshold == 0.4


async def test_the_hub_counts_clients_queue_and_registrations(servers: Servers) -> None:
    hub, database = await servers.hub("a")
    first, second, third = _client("first"), _client("second"), _client("third")
    for client in (first, second, third):
        await database.verify_clients.add(client)
    await database.verify_clients.set_status("third", "paused")
    await hub.join(first, ENROLLED)
    await hub.join(second, ENROLLED)
    await hub.tick()
    assert hub.stats.clients() == {"connected": 2, "assigned": 1, "waiting": 1}
    assert hub.stats.queue_depth == 1
    assert hub.stats.pipelines() == 1
    assert hub.stats.registered == {"active": 2, "paused": 1, "blocked": 0}
