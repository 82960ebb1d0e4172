"""Settings of the control plane's side of edge nodes: health, thresholds, sync limits."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["NodeSettings"]


class NodeSettings(BaseSettings):
    """How the control plane watches edge nodes and turns their health into events."""

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

    edge_health_interval_s: float = Field(
        default=30.0,
        ge=1,
        le=3600,
        description="Seconds between two health reports of an edge node (told to each node at "
        "registration); a node with no report for three intervals is marked offline.",
    )
    node_health_retention_days: float = Field(
        default=30.0,
        gt=0,
        le=3650,
        description="Days the health time series of edge nodes is kept (swept daily).",
    )
    edge_max_clock_skew_s: float = Field(
        default=5.0,
        gt=0,
        le=86_400,
        description="Largest clock offset of an edge node that is tolerated. Beyond it the node "
        "is flagged (a node.clock_skew event) and the timestamps of its events are corrected by "
        "the offset its latest health report measured, the node's own time kept in the "
        "event payload as node_time.",
    )
    edge_disk_low_bytes: int = Field(
        default=1 << 30,
        ge=0,
        description="A node whose free disk falls below this many bytes raises node.disk_low.",
    )
    edge_disk_low_ratio: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="A node whose free share of its disk falls below this raises node.disk_low "
        "(either threshold is enough).",
    )
    edge_outbox_backlog_items: int = Field(
        default=10_000,
        ge=1,
        description="Outbox items on a node beyond which node.outbox_backlog is raised.",
    )
    edge_outbox_backlog_age_s: float = Field(
        default=300.0,
        gt=0,
        description="Age in seconds of a node's oldest outbox item beyond which "
        "node.outbox_backlog is raised.",
    )
    edge_fps_low_ratio: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="A live camera of a node analysed at less than this share of its "
        "configured detect_fps (fps_analysed < ratio * detect_fps) raises camera.fps_low.",
    )
    edge_sync_max_bytes: int = Field(
        default=16 << 20,
        ge=1 << 20,
        le=1 << 30,
        description="Largest body of one edge sync request (POST /api/v1/edge/sync), in bytes.",
    )
