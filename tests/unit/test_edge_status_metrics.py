"""The edge node's own ``/metrics``: each camera's inference grant, once per camera."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

import httpx
import pytest

from argus.adapters.edge.outbox_memory import MemoryOutbox
from argus.bootstrap.edge_status import status_app
from argus.ports.pipelines import CameraStatus

if TYPE_CHECKING:
    from argus.bootstrap.edge_node_parts import EdgeNode

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


@dataclass
class _Syncer:
    running: bool = True
    state: str = "online"
    unauthorized: bool = False
    sent_items: int = 0
    clock_offset_s: float | None = None


@dataclass
class _Pipelines:
    items: list[CameraStatus] = field(default_factory=list)

    def statuses(self) -> list[CameraStatus]:
        return list(self.items)


@dataclass
class _Node:
    """The parts of a node the collector reads."""

    pipelines: _Pipelines
    outbox: MemoryOutbox = field(default_factory=MemoryOutbox)
    syncer: _Syncer = field(default_factory=_Syncer)


def _status(camera_id: str, **extra: object) -> CameraStatus:
    return CameraStatus(camera_id, "online", None, 25.0, 25.0, 4.0, NOW, **extra)  # type: ignore[arg-type]


async def _scrape(*statuses: CameraStatus) -> list[str]:
    node = cast("EdgeNode", _Node(_Pipelines(list(statuses))))
    transport = httpx.ASGITransport(app=status_app(node))
    async with httpx.AsyncClient(transport=transport, base_url="http://node") as client:
        answer = await client.get("/metrics")
    assert answer.status_code == 200
    return [line for line in answer.text.splitlines() if not line.startswith("#")]


async def test_a_scheduled_camera_shows_its_grant_once() -> None:
    lines = await _scrape(
        _status("cam-a", target_fps=10.0, granted_fps=4.0, saturated=True),
        _status("cam-b", target_fps=5.0, granted_fps=5.0, saturated=False),
    )
    assert 'argus_edge_camera_target_fps{camera="cam-a"} 10.0' in lines
    assert 'argus_edge_camera_granted_fps{camera="cam-a"} 4.0' in lines
    assert 'argus_edge_camera_saturated{camera="cam-a"} 1.0' in lines
    assert 'argus_edge_camera_saturated{camera="cam-b"} 0.0' in lines
    for name in ("target_fps", "granted_fps", "saturated"):
        series = [line for line in lines if line.startswith(f"argus_edge_camera_{name}{{")]
        assert len(series) == 2, series  # one per camera, never twice


async def test_a_camera_without_a_scheduler_has_no_grant_series() -> None:
    lines = await _scrape(_status("cam-a"))
    assert 'argus_edge_camera_fps_analysed{camera="cam-a"} 4.0' in lines
    assert not [line for line in lines if "target_fps" in line or "granted_fps" in line]
    assert not [line for line in lines if line.startswith("argus_edge_camera_saturated")]
