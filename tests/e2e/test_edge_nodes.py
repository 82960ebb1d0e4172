"""Edge nodes against real control planes: a cut link, a killed node, exactly-once storage.

Scale-out: PostgreSQL (a fresh database per run) and NATS JetStream (a private
stream) behind two ``argus serve`` processes; ``node-a`` reaches server 1
through a TCP relay the test cuts, ``node-b`` talks to server 2 directly. Both
run ``vtest.avi`` as a file camera with three lines and a zone; node B also runs a
copy whose view is covered after 25 s (tamper). While events keep coming, the
relay is stopped: node A buffers (its own /health says so), the control plane
marks it offline after three health intervals of 2 s and raises the
``node.offline`` alert; node A is SIGKILLed while buffering and started again
with the link still down (it runs from its cached configuration); then the
relay comes back, node A syncs and the alert is cleared. At the end the
cameras are disabled, the outboxes drain, and:

* no event id is stored twice, every event node A held in its outbox before
  the kill is stored, no event is stored twice under two ids;
* each pipeline run of node A's camera produced exactly the line and zone
  events of node B's uninterrupted run of the same clip (``edge_checks``: a
  file camera is deterministic in stream time), so the line counts are equal;
* line crossings and zone entries were stored in the order they happened
  (``received_at`` in the shared database);
* the covered camera raised a ``camera.tamper`` alert;
* the two replicas raised ``node.offline`` once (one event, one alert), never
  for node B, and the JetStream stream of the installation was used.

Each run of node A is compared up to the stream second both runs reached,
less 5 s (a track still in the zone at the kill never got its ``zone.exited``);
the tail of the killed run is covered by the outbox snapshot instead.

Single box: the default SQLite database and in-process bus, one ``argus
serve`` and one ``argus edge`` beside it through the relay, one camera (the
covered clip, with its lines and zone): the same checks without the kill and
the second node, and the link cut must not restart the camera's pipeline.

About 105 s for both on an idle 2-core machine (65 + 35 s, plus fixtures),
140 s with three busy processes beside them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import nats
import nats.js.errors
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from argus.adapters.db.sql import async_url
from tests.e2e.conftest import RunArgus
from tests.e2e.edge_checks import (
    analytic_events,
    compare_with_reference,
    delivery_order_errors,
    line_counts,
    received_rows,
    split_runs,
)
from tests.e2e.edge_media import covered_clip, vtest_copy
from tests.e2e.edge_scenario import (
    INTERVAL_S,
    WAIT_S,
    Running,
    analytic_count,
    check_stored,
    cut_link,
    drain,
    make_node,
    online,
    restore_link,
    square_camera,
    stream_seconds,
)
from tests.e2e.edge_support import (
    Logged,
    alerts,
    create_camera,
    create_node_key,
    create_rule,
    describe_node,
    stored_events,
    tails,
    wait_for,
)
from tests.servers.tcp_relay import TcpRelay

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.eval,
    pytest.mark.timeout(480),
]

POSTGRES_URL = os.environ.get(
    "ARGUS_TEST_POSTGRES_URL", "postgresql://argus:argus@127.0.0.1:5432/argus_test"
)
log = logging.getLogger(__name__)

NATS_URL = os.environ.get("ARGUS_TEST_NATS_URL", "nats://127.0.0.1:4222")
SECRET = "e2e-edge-nodes-secret-0123456789abcdef"
LINE_FPS = 5.0
TAMPER_FPS = 2.0


# --- fixtures ---------------------------------------------------------------------------------


async def _pg_admin(sql: str) -> None:
    engine = create_async_engine(async_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(sql))
    finally:
        await engine.dispose()


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database shared by both control planes; dropped afterwards."""
    name = f"argus_edge_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}"))
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def bus_prefix() -> Iterator[str]:
    """A private bus prefix; its JetStream stream is deleted afterwards."""
    prefix = f"edge{uuid.uuid4().hex[:10]}"
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


def _stream_messages(prefix: str) -> int:
    """Messages the installation's JetStream stream has taken (it exists once a server used it)."""

    async def read() -> int:
        client = await nats.connect(NATS_URL)
        try:
            info = await client.jetstream().stream_info(prefix.upper())
        finally:
            await client.close()
        return int(info.state.messages) + int(info.state.first_seq or 0)

    return asyncio.run(read())


@pytest.fixture
def cluster_env(database_url: str, bus_prefix: str) -> dict[str, str]:
    """What both control planes of the scale-out installation share."""
    return {
        "ARGUS_DATABASE_URL": database_url,
        "ARGUS_SECRET_KEY": SECRET,
        "ARGUS_BUS_URL": NATS_URL,
        "ARGUS_BUS_PREFIX": bus_prefix,
    }


@pytest.fixture
def models(built: RunArgus, data_dir: Path) -> Path:
    """The built model packs, linked into every server's and node's data directory."""
    return data_dir / "models"


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """The media directory of servers and nodes, with vtest.avi and its covered copy."""
    directory = tmp_path / "media"
    vtest_copy(directory)
    covered_clip(directory)
    return directory.resolve()


@pytest.fixture
def running() -> Iterator[Running]:
    kept = Running()
    try:
        yield kept
    finally:
        kept.close()


# --- scale-out --------------------------------------------------------------------------------


def test_two_nodes_two_servers_cut_link_and_killed_node(
    tmp_path: Path, media: Path, cluster_env: dict[str, str], models: Path, running: Running
) -> None:
    env = {
        **cluster_env,
        "ARGUS_MEDIA_DIRS": str(media),
        "ARGUS_EDGE_HEALTH_INTERVAL_S": str(INTERVAL_S),
    }
    one = running.server(tmp_path / "server-1", models, env)
    two = running.server(tmp_path / "server-2", models, env)
    offline_rule = create_rule(one, "Node offline", ["node.offline"])
    tamper_rule = create_rule(one, "Camera tampered", ["camera.tamper"])
    cam_a = square_camera(one, "Square (node A)", media / "vtest.avi", "node-a", LINE_FPS)
    cam_b = square_camera(two, "Square (node B)", media / "vtest.avi", "node-b", LINE_FPS)
    cam_t = create_camera(
        two, "Covered (node B)", str(media / "vtest-covered.mp4"), "node-b", TAMPER_FPS
    )

    relay = TcpRelay(("127.0.0.1", one.port))
    running.relays.append(relay)
    relay.start()
    node_a = running.node(
        make_node(
            tmp_path,
            "node-a",
            models=models,
            media=media,
            url=f"http://127.0.0.1:{relay.port}",
            key=create_node_key(one, "node-a"),
        )
    )
    node_b = running.node(
        make_node(
            tmp_path,
            "node-b",
            models=models,
            media=media,
            url=two.base,
            key=create_node_key(two, "node-b"),
        )
    )
    watch: list[Logged] = [one, two, node_a, node_b]
    for node, server in ((node_a, one), (node_b, two)):
        wait_for(
            functools.partial(online, server, node.node_id),
            f"{node.node_id} online",
            WAIT_S,
            watch=watch,
            describe=functools.partial(describe_node, server, node),
        )
    wait_for(
        functools.partial(stream_seconds, one, cam_a, 20.0),
        "20 s of node A's camera analysed and stored",
        WAIT_S,
        watch=watch,
    )

    held = cut_link(one, relay, node_a, offline_rule, watch)
    node_a.kill()
    node_a.start()
    wait_for(
        lambda: node_a.state() == "buffering",
        "node A buffering after the kill",
        WAIT_S,
        watch=watch,
    )

    def restarted_events() -> list[str] | None:
        pending = node_a.pending()
        return pending if len(set(pending) - set(held)) >= 2 else None

    after_kill = wait_for(
        restarted_events,
        "new events of the restarted node (from its cached configuration)",
        WAIT_S,
        watch=watch,
    )
    assert set(held) <= set(after_kill), "the outbox lost events in the SIGKILL"
    restore_link(one, relay, node_a, offline_rule, watch)
    wait_for(
        lambda: alerts(two, rule_id=tamper_rule, camera_id=cam_t),
        "the tamper alert",
        WAIT_S,
        watch=watch,
    )

    wait_for(
        functools.partial(stream_seconds, one, cam_a, 20.0, run=2),
        "20 s of node A's second run stored",
        WAIT_S,
        watch=watch,
    )
    drain(one, [cam_a, cam_b, cam_t], [node_a, node_b], watch)

    events_a = check_stored(one, cam_a, after_kill)
    events_b = check_stored(two, cam_b, [])
    runs_a = split_runs(analytic_events(events_a))
    runs_b = split_runs(analytic_events(events_b))
    assert len(runs_b) == 1, f"the reference camera's pipeline restarted: {len(runs_b)} runs"
    assert len(runs_a) >= 2, f"node A's kill should start a second run, found {len(runs_a)}"
    for number, run in enumerate(runs_a, 1):
        compared, difference = compare_with_reference(run, runs_b[0])
        assert difference is None, f"run {number} of node A: {difference}"
        assert compared >= 5, f"run {number} of node A compared only {compared} events"
        horizon = min(run[-1][1], runs_b[0][-1][1]) - 5.0
        counts = line_counts(run, horizon)
        assert counts == line_counts(runs_b[0], horizon)
        log.info(
            "node A run %d: %d events, %d compared with node B's run, line counts %s",
            number,
            len(run),
            compared,
            dict(counts),
        )
    log.info(
        "node A held %d events at the cut, %d at the kill; node B's run has %d events",
        len(held),
        len(after_kill),
        len(runs_b[0]),
    )
    for camera in (cam_a, cam_b):
        errors = delivery_order_errors(received_rows(cluster_env["ARGUS_DATABASE_URL"], camera))
        assert errors == [], errors[:5]
    # Both replicas watch the nodes; the compare-and-set lets one of them raise the fact.
    offline = [e for e in stored_events(two, "node:node-a") if e["type"] == "node.offline"]
    assert len(offline) == 1, offline
    assert len(alerts(two, rule_id=offline_rule, camera_id="node:node-a")) == 1
    assert alerts(two, rule_id=offline_rule, camera_id="node:node-b") == [], "B was never cut off"
    assert _stream_messages(cluster_env["ARGUS_BUS_PREFIX"]) > 0, "the servers never used NATS"
    for node in (node_a, node_b):
        assert node.stop() == 0, tails([node])


# --- single box -------------------------------------------------------------------------------


def test_single_box_node_beside_the_server(
    tmp_path: Path, models: Path, media: Path, running: Running
) -> None:
    env = {"ARGUS_MEDIA_DIRS": str(media), "ARGUS_EDGE_HEALTH_INTERVAL_S": str(INTERVAL_S)}
    server = running.server(tmp_path / "server", models, env)
    offline_rule = create_rule(server, "Node offline", ["node.offline"])
    tamper_rule = create_rule(server, "Camera tampered", ["camera.tamper"])
    camera = square_camera(server, "Covered square", media / "vtest-covered.mp4", "box", LINE_FPS)
    relay = TcpRelay(("127.0.0.1", server.port))
    running.relays.append(relay)
    relay.start()
    node = running.node(
        make_node(
            tmp_path,
            "box",
            models=models,
            media=media,
            url=f"http://127.0.0.1:{relay.port}",
            key=create_node_key(server, "box"),
        )
    )
    watch: list[Logged] = [server, node]
    wait_for(
        lambda: online(server, "box"),
        "node online",
        WAIT_S,
        watch=watch,
        describe=functools.partial(describe_node, server, node),
    )
    wait_for(lambda: analytic_count(server, camera) >= 2, "first events", WAIT_S, watch=watch)

    held = cut_link(server, relay, node, offline_rule, watch)
    restore_link(server, relay, node, offline_rule, watch)
    wait_for(
        lambda: alerts(server, rule_id=tamper_rule, camera_id=camera),
        "the tamper alert",
        WAIT_S,
        watch=watch,
    )
    drain(server, [camera], [node], watch)

    events = check_stored(server, camera, held)
    runs = split_runs(analytic_events(events))
    assert len(runs) == 1, f"a link cut must not restart the pipeline: {len(runs)} runs"
    log.info(
        "single box: %d events stored, %d held in the outbox at the cut", len(events), len(held)
    )
    rows = received_rows(f"sqlite:///{server.data_dir / 'argus.db'}", camera)
    errors = delivery_order_errors(rows)
    assert errors == [], errors[:5]
    assert node.stop() == 0, tails([node])
