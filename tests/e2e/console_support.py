"""A busy console for the dashboard tests of issue 23: a server that has raised > 200 alerts.

``busy_server`` starts a real ``argus serve`` (the demo camera streaming, so live
tiles, analytics and the demo's own alerts are real) and ``seed`` gives it a
second camera, "North gate", that never streams, with three lines and three
rules whose alerts are high, medium and low; posted crossings of the made-up
class ``unicorn`` raise them. High alerts must be acknowledged within
``ACK_HIGH_S`` seconds or they escalate, so escalations happen while a test
runs (the server's own escalation tick, no clock in the test).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.auth_support import server_env
from tests.e2e.dashboard_support import CLASS, alerts_of, call, camera, crossings
from tests.e2e.serve_support import ServeProcess, serving

__all__ = ["ACK_HIGH_S", "LINES", "SEED", "Seeded", "busy_server", "seed"]

ACK_HIGH_S = 20.0
"""Seconds a high alert may wait unacknowledged before it escalates (ARGUS_ACK_DEADLINE_HIGH_S)."""
LINES = {"north": "high", "south": "medium", "kerb": "low"}
"""The seeded camera's lines and the severity of the alert a crossing of each raises."""
SEED = {"north": 24, "south": 60, "kerb": 130}
"""Crossings posted per line by ``seed``: 214 alerts, more than the 200 the issue names."""
_RULES = {
    "high": {"weight": 1.0, "severity_floor": "high"},
    "medium": {"weight": 0.6, "severity_floor": "medium", "severity_ceiling": "medium"},
    "low": {"weight": 0.1, "severity_ceiling": "low"},
}


@dataclass(frozen=True, slots=True)
class Seeded:
    """What ``seed`` made: the camera, a rule id per line, the alerts raised (oldest first)."""

    camera_id: str
    rules: dict[str, str]
    alerts: list[dict[str, object]]


@contextmanager
def busy_server(root: Path, *, demo: bool = True, **env: str) -> Iterator[ServeProcess]:
    """A started ``argus serve`` (with the demo camera unless ``demo`` is false)."""
    settings = server_env(
        ARGUS_ACK_DEADLINE_HIGH_S=str(ACK_HIGH_S),
        ARGUS_ACK_DEADLINE_MEDIUM_S="3600",
        ARGUS_ACK_DEADLINE_LOW_S="3600",
        ARGUS_ESCALATION_TICK_S="1",
        **env,
    )
    args = ("--demo",) if demo else ()
    with serving(root / "data", root / "serve.log", env=settings, args=args) as running:
        yield running


def seed(server: ServeProcess, counts: dict[str, int] | None = None) -> Seeded:
    """The "North gate" camera, its lines and rules, and the alerts of posted crossings."""
    per_line = counts or SEED
    gate = camera(server, "North gate")
    rules: dict[str, str] = {}
    for i, (line, severity) in enumerate(LINES.items()):
        x = 100.0 + 150.0 * i
        call(
            server,
            "POST",
            f"/cameras/{gate}/lines",
            {"name": line, "start": [x, 50.0], "end": [x, 400.0]},
        )
        body = {
            "name": f"{line.capitalize()} line crossed",
            "camera_id": gate,
            "event_types": ["line.crossed"],
            "classes": [CLASS],
            "line": line,
            **_RULES[severity],
        }
        rules[line] = str(call(server, "POST", "/rules", body)["id"])
    # Interleaved, oldest first, all in the recent past: a realistic mixed inbox.
    order = [
        line for n in range(max(per_line.values())) for line in LINES if n < per_line.get(line, 0)
    ]
    start = datetime.now(UTC) - timedelta(minutes=30)
    events: list[str] = []
    for chunk in range(0, len(order), 50):
        at = start + timedelta(seconds=chunk)
        events += crossings(server, gate, order[chunk : chunk + 50], at=at)
    return Seeded(gate, rules, alerts_of(server, events))
