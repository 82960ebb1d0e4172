"""``argus edge``: run this machine as an edge node of a control plane."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pydantic
import typer

from argus.cli._settings import load_settings
from argus.config.edge import EdgeSettings
from argus.domain.errors import ConfigError

__all__ = ["edge"]


def _edge_settings(**overrides: Any) -> EdgeSettings:
    """``EdgeSettings`` from the environment with ``overrides`` (errors as one ConfigError)."""
    try:
        return EdgeSettings(**{k: v for k, v in overrides.items() if v is not None})
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"invalid settings (ARGUS_EDGE_* environment): {problems}") from exc


def _read_key(path: Path) -> str:
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the API key file {path}: {exc.strerror}") from exc
    if not key:
        raise ConfigError(f"the API key file {path} is empty")
    return key


def edge(
    server: str | None = typer.Option(
        None, "--server", help="Control plane URL(s), comma-separated (ARGUS_EDGE_SERVER_URLS)."
    ),
    node_id: str | None = typer.Option(
        None, "--node-id", help="This node's id (ARGUS_EDGE_NODE_ID; default: the host name)."
    ),
    data_dir: Path | None = typer.Option(
        None,
        "--data-dir",
        help="State directory (ARGUS_EDGE_DATA_DIR, else ARGUS_DATA_DIR, else the user data dir).",
    ),
    api_key_file: Path | None = typer.Option(
        None,
        "--api-key-file",
        dir_okay=False,
        help="Read the API key from this file instead of ARGUS_EDGE_API_KEY.",
    ),
    listen: str | None = typer.Option(
        None, "--listen", help="host:port of the node's /health and /metrics (ARGUS_EDGE_LISTEN)."
    ),
) -> None:
    """Run this machine as an edge node: analyse its cameras here, send the control plane
    events, health and evidence.

    \b
    The node registers with the control plane, receives the cameras assigned to it
    (a camera's edge_node_id), and caches that configuration (sealed) so that it
    starts and keeps analysing while the control plane is unreachable. Everything
    it produces goes first into a durable outbox (SQLite) and leaves only once the
    control plane has acknowledged it.

    \b
    Settings (environment; the options override them):
      ARGUS_EDGE_SERVER_URLS  control plane URL(s), comma-separated, tried
                              in order; required (--server)
      ARGUS_EDGE_API_KEY      an API key with the 'edge' permission; an
                              admin creates it with POST /api/v1/api-keys
                              {"permissions": ["edge"]}; required
                              (or --api-key-file)
      ARGUS_EDGE_NODE_ID      this node's id (default: the host name)
      ARGUS_EDGE_DATA_DIR     model packs, and edge-<node_id>/ with the
                              outbox and the sealed caches (default:
                              ARGUS_DATA_DIR)
      ARGUS_EDGE_OUTBOX_MAX_BYTES   outbox bound on disk (default 1 GiB)
      ARGUS_EDGE_HEALTH_INTERVAL_S  until the server sets one (30)
      ARGUS_EDGE_CA_FILE, ARGUS_EDGE_VERIFY_TLS  TLS trust of the server
      ARGUS_EDGE_LISTEN       host:port of the node's /health, /metrics
      ARGUS_*                 models, inference, camera sources (as serve)

    \b
    Exit status: 0 after SIGTERM or SIGINT (a graceful stop); 2 for a missing or
    invalid setting (no server URL, no API key) or a node that cannot start (its
    outbox cannot be opened), with one line on stderr. A control plane that is
    down or refuses the key is not an error: the node keeps analysing and
    buffering, and says so in its log and its /health."""
    from argus.bootstrap.edge_node import run_edge_node

    key = _read_key(api_key_file) if api_key_file is not None else None
    edge_settings = _edge_settings(
        server_urls=server, node_id=node_id, data_dir=data_dir, api_key=key, listen=listen
    )
    edge_settings.require()
    os.umask(0o077)  # the outbox and the caches are this account's only
    settings = load_settings(edge_settings.data_dir)
    asyncio.run(run_edge_node(settings, edge_settings))
