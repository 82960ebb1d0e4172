"""Killing ``argus serve`` mid-stream loses no event that was acknowledged to its producer.

Two producers, two acknowledgements:

* a NATS JetStream publish is acknowledged by the broker once the stream holds
  the message; the server's event store consumer acknowledges a delivery
  only after the batch holding it is committed, so whatever was in flight
  when the server died is delivered again after the restart;
* an HTTP batch (``POST /api/v1/events``) is answered only after its
  transaction committed.

Each test SIGKILLs the server (no shutdown code runs) while events are
flowing, restarts it on the same SQLite file and checks that every
acknowledged event is stored, exactly once.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats
import nats.js.errors
import pytest

from argus.adapters.bus.nats import NatsEventBus
from argus.bootstrap.adapters import EVENTS_SUBJECT
from argus.domain.events import Envelope, EventSource, LineCrossed, new_event_id
from tests.e2e.serve_support import ServeProcess, serving, stored_ids

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NATS_URL = os.environ.get("ARGUS_TEST_NATS_URL", "nats://127.0.0.1:4222")
CATCH_UP_TIMEOUT = 180.0
"""Seconds the restarted server may take to store every acknowledged event."""


def _envelope(camera_id: str, n: int) -> Envelope:
    # The whole payload of a pipeline's crossing: the ingest validates it per event type.
    crossing = LineCrossed(
        line="gate",
        track_id=n,
        class_id=0,
        class_name="person",
        direction="in",
        timestamp=float(n),
        confidence=0.9,
    )
    source = EventSource(edge_node_id="edge-crash", camera_id=camera_id)
    return Envelope.wrap(crossing, source, datetime.now(UTC), event_id=new_event_id())


def _stored_count(server: ServeProcess, camera_id: str) -> int:
    try:
        page = httpx.get(
            f"{server.base}/api/v1/events",
            params={"camera_id": camera_id, "limit": "1"},
            headers=server.headers,
            timeout=10,
        )
    except httpx.TransportError:
        return 0
    total: int = page.json()["total"] if page.status_code == 200 else 0
    return total


def _wait_until(server: ServeProcess, what: str, check: object) -> None:
    """Poll ``check()`` until it is true; fail with the server log after a generous timeout."""
    assert callable(check)
    deadline = time.monotonic() + CATCH_UP_TIMEOUT
    while not check():
        if server.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{server.output()}")
        time.sleep(0.2)


# --- over the bus ---------------------------------------------------------------------------


@pytest.fixture
def bus_prefix() -> Iterator[str]:
    """A private bus prefix; its JetStream stream is deleted afterwards."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    yield prefix

    async def delete() -> None:
        client = await nats.connect(NATS_URL)
        try:
            await client.jetstream().delete_stream(prefix.upper())
        except nats.js.errors.NotFoundError:
            pass
        finally:
            await client.close()

    asyncio.run(delete())


class Publisher(threading.Thread):
    """Publishes events to the bus from its own thread and event loop; records every acked id.

    It publishes ``before`` events, sets ``halfway``, waits for ``resume``, then
    publishes ``after`` more (while the server is down).
    """

    def __init__(self, prefix: str, camera_id: str, before: int, after: int) -> None:
        super().__init__(name="bus-publisher", daemon=True)
        self.prefix = prefix
        self.camera_id = camera_id
        self.counts = (before, after)
        self.acked: list[str] = []
        self.halfway = threading.Event()
        self.resume = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._publish())
        except Exception as exc:  # noqa: BLE001 - top of a thread: the test reports it
            self.error = exc
            self.halfway.set()

    async def _publish(self) -> None:
        bus = await NatsEventBus.connect(NATS_URL, stream=self.prefix.upper(), prefix=self.prefix)
        try:
            n = 0
            for phase, count in enumerate(self.counts):
                if phase == 1:
                    self.halfway.set()
                    await asyncio.to_thread(self.resume.wait)
                for _ in range(count):
                    envelope = _envelope(self.camera_id, n)
                    await bus.publish(EVENTS_SUBJECT, envelope)  # returns once JetStream acked
                    self.acked.append(envelope.event_id)
                    n += 1
        finally:
            await bus.close()


def test_events_acked_by_jetstream_survive_a_killed_server(tmp_path: Path, bus_prefix: str) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "serve.log"
    env = {
        "ARGUS_BUS_URL": NATS_URL,
        "ARGUS_BUS_PREFIX": bus_prefix,
        # Deliveries in flight at the kill come back after this; short keeps the test quick.
        "ARGUS_BUS_ACK_WAIT_S": "2",
    }
    camera = f"cam-{uuid.uuid4().hex[:8]}"
    publisher = Publisher(bus_prefix, camera, before=3000, after=500)
    with serving(data_dir, log, env) as server:
        publisher.start()
        # Kill as soon as the store has taken some events, while the rest still flows in.
        _wait_until(server, "the first stored events", lambda: _stored_count(server, camera))
        server.kill()
    publisher.resume.set()
    publisher.halfway.wait()
    publisher.join(timeout=CATCH_UP_TIMEOUT)
    assert publisher.error is None, publisher.error
    assert not publisher.is_alive()
    assert len(publisher.acked) == 3500

    with serving(data_dir, log, env) as server:
        _wait_until(
            server,
            "every acked event to be stored",
            lambda: _stored_count(server, camera) >= len(publisher.acked),
        )
        stored = stored_ids(server.base, camera, server.headers)
        assert server.stop() == 0, server.output()
    assert len(stored) == len(set(stored)), "an event was stored twice"
    assert set(stored) == set(publisher.acked)


# --- over HTTP ------------------------------------------------------------------------------


class BatchPoster(threading.Thread):
    """POSTs batches until the server goes away; records the batches that got a 2xx."""

    def __init__(
        self, base: str, headers: dict[str, str], camera_id: str, batch_size: int = 100
    ) -> None:
        super().__init__(name="batch-poster", daemon=True)
        self.base = base
        self.headers = headers
        self.camera_id = camera_id
        self.batch_size = batch_size
        self.acked: list[list[str]] = []
        self.unanswered: list[list[Envelope]] = []
        self.other: list[str] = []
        self.n = 0

    def batch(self) -> list[Envelope]:
        out = [_envelope(self.camera_id, self.n + i) for i in range(self.batch_size)]
        self.n += self.batch_size
        return out

    def run(self) -> None:
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=60) as client:
            while True:
                envelopes = self.batch()
                body = {"events": [e.to_dict() for e in envelopes]}
                try:
                    response = client.post("/api/v1/events", json=body)
                except httpx.TransportError:
                    self.unanswered.append(envelopes)  # in flight at the kill: fate unknown
                    return
                if response.is_success:
                    self.acked.append([e.event_id for e in envelopes])
                else:
                    self.other.append(f"{response.status_code}: {response.text}")
                    return


def test_batches_answered_2xx_survive_a_killed_server(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "serve.log"
    with serving(data_dir, log) as server:
        # The ingest refuses events of unknown cameras: register it first.
        made = httpx.post(
            f"{server.base}/api/v1/cameras",
            json={"name": "crash gate", "stream_url": f"rtsp://10.0.0.9/{uuid.uuid4().hex[:8]}"},
            headers=server.headers,
            timeout=30,
        )
        assert made.status_code == 201, made.text
        camera = str(made.json()["id"])
        poster = BatchPoster(server.base, server.headers, camera)
        poster.start()
        _wait_until(server, "five acknowledged batches", lambda: len(poster.acked) >= 5)
        server.kill()
        poster.join(timeout=60)
    assert not poster.is_alive()
    assert poster.other == []
    acked = {event_id for batch in poster.acked for event_id in batch}
    attempted = acked | {e.event_id for batch in poster.unanswered for e in batch}

    with serving(data_dir, log) as server:
        stored = stored_ids(server.base, camera, server.headers)
        assert len(stored) == len(set(stored)), "an event was stored twice"
        assert acked <= set(stored), f"{len(acked - set(stored))} acknowledged events were lost"
        assert set(stored) <= attempted
        # The producer retries the batch that got no answer: safe, whatever its fate was.
        for batch in poster.unanswered:
            body = {"events": [e.to_dict() for e in batch]}
            retried = httpx.post(
                f"{server.base}/api/v1/events", json=body, headers=server.headers, timeout=60
            )
            assert retried.status_code == 200, retried.text
            result = retried.json()
            ids = [e.event_id for e in batch]
            assert sorted(result["inserted"] + result["duplicates"]) == sorted(ids)
        after = stored_ids(server.base, camera, server.headers)
        assert server.stop() == 0, server.output()
    assert sorted(after) == sorted(attempted)
