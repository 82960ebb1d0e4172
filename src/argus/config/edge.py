"""Settings of an edge node (``argus edge``), read from ``ARGUS_EDGE_*``.

An edge node also reads the ordinary ``Settings`` (``ARGUS_*``: model packs,
inference threads, camera source timeouts and policy); these are only what
is particular to a node: where its control plane is, its API key and id,
and the bounds of its durable outbox.

The node's state lives in ``data_dir`` (``ARGUS_EDGE_DATA_DIR``, else
``ARGUS_DATA_DIR``, else the per-user data directory): the model packs under
``models/``, and per node id ``edge-<node_id>/`` with the outbox
(``outbox.db``) and the sealed caches of its registration and configuration.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from argus.domain.errors import ConfigError

__all__ = ["NODE_ID_PATTERN", "EdgeSettings", "default_node_id"]

NODE_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
"""What a node id may be: lower-case letters, digits, ``.``, ``_`` and ``-``, at most 64."""

_NODE_ID = re.compile(NODE_ID_PATTERN)
_LISTEN = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>[0-9]{1,5})$")


def default_node_id() -> str:
    """This host's name in the node-id alphabet (``edge`` when nothing of it is usable)."""
    name = socket.gethostname().split(".", 1)[0].lower()
    cleaned = re.sub(r"[^a-z0-9._-]+", "-", name).strip("-._")[:64]
    return cleaned if cleaned and _NODE_ID.match(cleaned) else "edge"


class EdgeSettings(BaseSettings):
    """What an edge node needs besides ``Settings``: its control plane, key, id and outbox."""

    model_config = SettingsConfigDict(env_prefix="ARGUS_EDGE_", extra="forbid", frozen=True)

    server_urls: str = Field(
        default="",
        max_length=4096,
        description="Control plane base URLs (ARGUS_EDGE_SERVER_URLS), comma-separated, "
        "e.g. https://argus-a.example:8000,https://argus-b.example:8000: tried in order, "
        "the next one when one is unreachable. Required.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="The node's API key (ARGUS_EDGE_API_KEY), created by an admin with the "
        "'edge' permission (POST /api/v1/api-keys); it also keys the node's sealed caches. "
        "Required.",
    )
    node_id: str = Field(
        default_factory=default_node_id,
        pattern=NODE_ID_PATTERN,
        description="This node's id (ARGUS_EDGE_NODE_ID): lower-case letters, digits, '.', "
        "'_' and '-', at most 64; default: the host name. The first key that registers an "
        "id owns it.",
    )
    data_dir: Path | None = Field(
        default=None,
        description="The node's state directory (ARGUS_EDGE_DATA_DIR): model packs, and "
        "edge-<node_id>/ with the outbox and the sealed configuration cache; default: "
        "ARGUS_DATA_DIR, else the per-user data directory.",
    )
    outbox_max_bytes: int = Field(
        default=1 << 30,
        ge=1 << 20,
        le=1 << 42,
        description="Bytes the outbox may hold on disk (ARGUS_EDGE_OUTBOX_MAX_BYTES, default "
        "1 GiB); beyond it the overflow policy drops the oldest health reports first, then "
        "evidence clips, then other evidence, then events, and counts what it dropped.",
    )
    health_interval_s: float = Field(
        default=30.0,
        ge=1,
        le=3600,
        description="Seconds between health reports (ARGUS_EDGE_HEALTH_INTERVAL_S) until the "
        "control plane tells its own (the same variable on a control plane sets the interval "
        "it tells its nodes).",
    )
    sync_batch_items: int = Field(
        default=200,
        ge=1,
        le=500,
        description="Outbox items sent in one sync request at most (ARGUS_EDGE_SYNC_BATCH_ITEMS).",
    )
    sync_batch_bytes: int = Field(
        default=4 << 20,
        ge=64 << 10,
        le=16 << 20,
        description="Bytes of items in one sync request at most (ARGUS_EDGE_SYNC_BATCH_BYTES); "
        "a single larger item travels alone.",
    )
    ca_file: Path | None = Field(
        default=None,
        description="PEM file of the certificate authorities trusted for the control plane's "
        "HTTPS (ARGUS_EDGE_CA_FILE); default: the system's.",
    )
    verify_tls: bool = Field(
        default=True,
        description="Check the control plane's certificate (ARGUS_EDGE_VERIFY_TLS); turn off "
        "only on a test bench.",
    )
    config_wait_s: float = Field(
        default=25.0,
        ge=0,
        le=25,
        description="Seconds a configuration request waits on the server for a change "
        "(ARGUS_EDGE_CONFIG_WAIT_S, long polling); changes reach the node within about this.",
    )
    request_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=300,
        description="Seconds one request to the control plane may take "
        "(ARGUS_EDGE_REQUEST_TIMEOUT_S), on top of a configuration request's wait.",
    )
    evidence_captures: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Evidence captures (snapshot and clip of an event) cut at once "
        "(ARGUS_EDGE_EVIDENCE_CAPTURES).",
    )
    evidence_queue: int = Field(
        default=64,
        ge=1,
        le=10_000,
        description="Evidence captures waiting at most (ARGUS_EDGE_EVIDENCE_QUEUE); when full "
        "the newest is skipped and counted.",
    )
    listen: str | None = Field(
        default=None,
        description="host:port of the node's own status endpoint (ARGUS_EDGE_LISTEN), serving "
        "/health (JSON) and /metrics (Prometheus); unset: none.",
    )

    @field_validator("server_urls")
    @classmethod
    def _urls(cls, value: str) -> str:
        for url in (part.strip() for part in value.split(",")):
            if not url:
                continue
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an http:// or https:// URL")
            if parts.password is not None or parts.username is not None:
                raise ValueError(f"{url!r}: no credentials in the URL; set ARGUS_EDGE_API_KEY")
            if parts.query or parts.fragment:
                raise ValueError(f"{url!r}: a base URL takes no query or fragment")
        return value

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = _LISTEN.match(value)
        if match is None or not 0 <= int(match["port"]) <= 65535:
            raise ValueError(f"{value!r} is not host:port (e.g. 127.0.0.1:9108)")
        return value

    @field_validator("api_key")
    @classmethod
    def _key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            return None
        return value

    @model_validator(mode="after")
    def _tls(self) -> Self:
        if self.ca_file is not None and not self.verify_tls:
            raise ValueError("ca_file and verify_tls=false contradict each other")
        return self

    @property
    def server_url_list(self) -> list[str]:
        """``server_urls`` as a list, in order, without trailing slashes."""
        return [part.strip().rstrip("/") for part in self.server_urls.split(",") if part.strip()]

    @property
    def listen_address(self) -> tuple[str, int] | None:
        """``listen`` as (host, port), or ``None``."""
        if self.listen is None:
            return None
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)

    def require(self) -> None:
        """Check that what a node cannot run without is set.

        Raises:
            ConfigError: No server URL or no API key, naming the variables.
        """
        missing = []
        if not self.server_url_list:
            missing.append("ARGUS_EDGE_SERVER_URLS (the control plane's URL)")
        if self.api_key is None:
            missing.append("ARGUS_EDGE_API_KEY (an API key with the 'edge' permission)")
        if missing:
            raise ConfigError("an edge node needs " + " and ".join(missing))

    def state_dir(self, data_dir: Path) -> Path:
        """The node's own directory under ``data_dir``: ``edge-<node_id>``."""
        return data_dir / f"edge-{self.node_id}"
