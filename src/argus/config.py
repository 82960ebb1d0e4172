"""Settings: strict, validated, loaded once by the composition root and passed down."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from argus.errors import ConfigError

__all__ = [
    "BusKind",
    "BusUrl",
    "Settings",
    "default_data_dir",
    "is_placeholder",
    "parse_bus_url",
]

BusKind = Literal["memory", "nats", "redis"]
"""The event bus adapters a URL can name."""

_BUS_SCHEMES: dict[str, BusKind] = {
    "memory": "memory",
    "nats": "nats",
    "tls": "nats",
    "redis": "redis",
    "rediss": "redis",
}


@dataclass(frozen=True, slots=True)
class BusUrl:
    """A parsed event bus URL.

    Attributes:
        kind: The adapter it names.
        url: The URL as given (passed to the broker client).
    """

    kind: BusKind
    url: str


def parse_bus_url(url: str) -> BusUrl:
    """Parse an event bus URL: ``memory://``, ``nats://host:4222`` or ``redis://host:6379/0``.

    NATS takes several servers separated by commas (``nats://a:4222,nats://b:4222``)
    and ``tls://`` for TLS; Redis takes ``rediss://`` for TLS.

    Raises:
        ConfigError: An unknown scheme, a broker URL without a host, or a
            ``memory://`` URL with anything after the scheme.
    """
    text = url.strip()
    parts = text.split(",")
    kinds: set[BusKind] = set()
    for part in parts:
        split = urlsplit(part.strip())
        scheme = split.scheme.lower()
        kind = _BUS_SCHEMES.get(scheme)
        if kind is None:
            known = ", ".join(f"{name}://" for name in _BUS_SCHEMES)
            raise ConfigError(f"bus URL {url!r}: unknown scheme {scheme!r} (use one of {known})")
        if kind == "memory" and (part.strip().lower() != "memory://" or len(parts) > 1):
            raise ConfigError(f"bus URL {url!r}: the in-process bus is just 'memory://'")
        if kind != "memory" and not split.hostname:
            raise ConfigError(f"bus URL {url!r}: {scheme}:// needs a host, e.g. {scheme}://host")
        kinds.add(kind)
    if len(kinds) > 1 or (len(parts) > 1 and kinds != {"nats"}):
        raise ConfigError(f"bus URL {url!r}: only NATS takes several comma-separated servers")
    return BusUrl(kind=kinds.pop(), url=text)


PLACEHOLDERS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "secret",
        "password",
        "passw0rd",
        "admin",
        "argus",
        "default",
        "example",
        "test",
        "dev",
        "placeholder",
        "replaceme",
        "replace-me",
        "your-secret-key",
        "your_secret_key",
        "secret-key",
        "secretkey",
        "todo",
        "xxx",
        "none",
        "null",
    }
)
"""Values (lower-cased, stripped) that secrets are refused at outside dev mode."""


def is_placeholder(value: str) -> bool:
    """True for a placeholder secret: a known word, ``<...>``, or one repeated character."""
    text = value.strip().lower()
    return (
        not text
        or text in PLACEHOLDERS
        or (text.startswith("<") and text.endswith(">"))
        or (text.startswith("${") and text.endswith("}"))
        or len(set(text)) == 1
    )


def default_data_dir() -> Path:
    """Return the per-user data directory (``$XDG_DATA_HOME/argus`` on Linux)."""
    return Path(platformdirs.user_data_dir("argus", appauthor=False))


class Settings(BaseSettings):
    """Argus settings, read from ``ARGUS_*`` environment variables.

    Nothing reads these at import time: ``Settings()`` is built once by the
    entry point and handed to ``bootstrap``.
    """

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where model packs and other state live (ARGUS_DATA_DIR).",
    )
    default_model: str = Field(
        default="yolov7-tiny", description="Model pack used when none is named."
    )
    default_input_size: int = Field(
        default=416, ge=32, le=2048, description="Square network input in pixels."
    )
    intra_op_threads: int = Field(
        default=0,
        ge=0,
        le=256,
        description="ONNX Runtime intra-op threads (0 lets the runtime choose).",
    )
    inter_op_threads: int = Field(
        default=0, ge=0, le=256, description="ONNX Runtime inter-op threads (0 = runtime default)."
    )
    database_url: str | None = Field(
        default=None,
        description="Database URL (ARGUS_DATABASE_URL): sqlite:///path or "
        "postgresql://user:password@host/db; default: the SQLite file argus.db in data_dir.",
    )
    bus_url: str = Field(
        default="memory://",
        description="Event bus (ARGUS_BUS_URL): memory:// (in-process, the default), "
        "nats://host:4222 (NATS JetStream) or redis://host:6379/0 (Redis Streams).",
    )
    bus_prefix: str = Field(
        default="argus",
        pattern=r"^[a-z][a-z0-9_-]{0,31}$",
        description="Namespace on the broker (ARGUS_BUS_PREFIX): NATS subjects prefix.> in "
        "the stream named PREFIX in upper case; Redis stream keys prefix:subject.",
    )
    bus_ack_wait_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds before a bus delivery that was not acknowledged (its consumer "
        "died) is delivered again.",
    )
    node_id: str = Field(
        default="argus",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="This server's id (ARGUS_NODE_ID): the edge_node_id of the events its "
        "embedded worker produces and of the envelopes it publishes.",
    )
    source_connect_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds a live camera stream (RTSP, HTTP) may take to connect and send "
        "its response or stream headers, in all (ARGUS_SOURCE_CONNECT_TIMEOUT_S); a camera "
        "that answers a header line at a time fails like one that does not answer.",
    )
    source_first_frame_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds from a live stream's headers to its first frame "
        "(ARGUS_SOURCE_FIRST_FRAME_TIMEOUT_S).",
    )
    source_read_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Seconds without a frame after which a live stream counts as lost and is "
        "reconnected with backoff (ARGUS_SOURCE_READ_TIMEOUT_S).",
    )
    demo: bool = Field(
        default=False,
        description="Register the demo camera (bikes.mp4 with a line and a zone) on "
        "start-up if it is missing (argus serve --demo).",
    )
    media_dirs: str = Field(
        default="",
        max_length=8192,
        description="Directories whose video files and image folders cameras and stream "
        "probes may read, separated by os.pathsep (':' on Linux) (ARGUS_MEDIA_DIRS). Paths "
        "are canonicalised with symlinks resolved; empty: no local media but the demo clip.",
    )
    camera_allow_networks: str = Field(
        default="0.0.0.0/0,::/0",
        max_length=4096,
        pattern=r"^[0-9A-Fa-f.:/, ]*$",
        description="Comma-separated networks camera and probe hosts may resolve to "
        "(ARGUS_CAMERA_ALLOW_NETWORKS); default any.",
    )
    camera_deny_networks: str = Field(
        default="127.0.0.0/8,::1/128,0.0.0.0/8,::/128,169.254.0.0/16,fe80::/10,"
        "100.100.100.200/32,fd00:ec2::254/128",
        max_length=4096,
        pattern=r"^[0-9A-Fa-f.:/, ]*$",
        description="Comma-separated networks camera and probe hosts must not resolve to, "
        "checked after the allow list (ARGUS_CAMERA_DENY_NETWORKS); default loopback, "
        "unspecified and link-local addresses, cloud metadata services included.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Installation secret, at least 16 bytes (ARGUS_SECRET_KEY); camera "
        "credentials are encrypted under a key derived from it. When unset, a random key "
        "is generated into data_dir/secret.key on first use.",
    )

    dev_mode: bool = Field(
        default=False,
        description="Development mode (ARGUS_DEV_MODE): accepts placeholder secrets such as "
        "'changeme'. Never set it on a deployment.",
    )
    admin_username: str = Field(
        default="admin",
        pattern=r"^[A-Za-z0-9_.@-]{1,100}$",
        description="Username of the first admin, created on first start when there are no "
        "users (ARGUS_ADMIN_USERNAME).",
    )
    admin_password: SecretStr | None = Field(
        default=None,
        description="Password of the first admin (ARGUS_ADMIN_PASSWORD, at least 12 "
        "characters). When unset, a one-time password is printed on first start and must be "
        "changed at first login.",
    )
    access_token_ttl_s: int = Field(
        default=900, ge=30, le=86_400, description="Lifetime of a JWT access token in seconds."
    )
    refresh_token_ttl_s: int = Field(
        default=14 * 86_400,
        ge=60,
        le=365 * 86_400,
        description="Lifetime of a refresh token in seconds (each use rotates it).",
    )
    login_max_failures: int = Field(
        default=5, ge=1, le=100, description="Failed logins in a row before an account locks."
    )
    login_lockout_s: float = Field(
        default=900.0, gt=0, le=86_400, description="Seconds a locked account stays locked."
    )
    login_ip_per_s: float = Field(
        default=0.5, gt=0, le=1e6, description="Sustained sign-in attempts per second per address."
    )
    login_ip_burst: int = Field(
        default=20, ge=1, le=10**7, description="Sign-in attempts one address may burst."
    )
    rate_limit_ip_per_s: float = Field(
        default=100.0, gt=0, le=1e6, description="Sustained API requests per second per client IP."
    )
    rate_limit_ip_burst: int = Field(
        default=400, ge=1, le=10**7, description="Requests one client IP may burst above that."
    )
    rate_limit_user_per_s: float = Field(
        default=50.0, gt=0, le=1e6, description="Sustained API requests per second per user or key."
    )
    rate_limit_user_burst: int = Field(
        default=200, ge=1, le=10**7, description="Requests one user or key may burst above that."
    )
    streams_per_principal: int = Field(
        default=8,
        ge=1,
        le=1000,
        description="Live video streams (GET /cameras/{id}/stream) one user or API key may "
        "hold open at once (ARGUS_STREAMS_PER_PRINCIPAL); past it the answer is 429, so one "
        "account cannot take all of the server's 32 streams. A dashboard holds one per "
        "camera it shows.",
    )
    analytics_queries_per_principal: int = Field(
        default=3,
        ge=1,
        le=64,
        description="Analytics queries (GET /analytics/..., heatmaps) one user or API key may "
        "run at once (ARGUS_ANALYTICS_QUERIES_PER_PRINCIPAL); past it the answer is 429 with "
        "Retry-After. The dashboard's analytics page runs two at once.",
    )
    analytics_queries_total: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Analytics queries all callers together may run at once "
        "(ARGUS_ANALYTICS_QUERIES_TOTAL), at least the per-principal limit; kept below the "
        "database pool (15 connections) so sign-in, alerts and ingest always find one.",
    )
    ingest_events_per_s: float = Field(
        default=100.0,
        gt=0,
        le=1e6,
        description="Sustained events per second one API key (or user) may post to "
        "POST /api/v1/events (ARGUS_INGEST_EVENTS_PER_S); past it the batch is refused "
        "whole with 429 and Retry-After.",
    )
    ingest_events_burst: int = Field(
        default=1000,
        ge=1,
        le=10**7,
        description="Events one key may post at once above that rate (ARGUS_INGEST_EVENTS_BURST); "
        "a batch larger than this is refused with 422.",
    )
    evidence_queue: int = Field(
        default=64,
        ge=1,
        le=100_000,
        description="Alerts waiting for evidence capture (ARGUS_EVIDENCE_QUEUE); when full, the "
        "lowest-severity waiting alert (the oldest of them) is shed and its evidence gap recorded.",
    )
    evidence_captures: int = Field(
        default=4, ge=1, le=64, description="Evidence captures in flight at once."
    )
    evidence_url: str | None = Field(
        default=None,
        description="Where evidence objects go (ARGUS_EVIDENCE_URL): a directory path or "
        "file:///path, or s3://bucket/prefix for S3-compatible storage (endpoint from "
        "ARGUS_S3_ENDPOINT_URL, credentials from the usual AWS_* variables); default: "
        "data_dir/evidence.",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="Endpoint of an S3-compatible server (MinIO, SeaweedFS, Ceph); unset = AWS.",
    )
    evidence_master_keys: SecretStr | None = Field(
        default=None,
        description="Evidence master keys (ARGUS_EVIDENCE_MASTER_KEYS): 'kid:base64-32-bytes' "
        "separated by commas, the last one current. When unset, keys live in "
        "data_dir/evidence-keys.json (created on first use; rotate with "
        "'argus evidence rotate-key').",
    )
    evidence_pre_roll_s: float = Field(
        default=5.0, ge=0, le=60, description="Seconds of video kept before an alert's event."
    )
    evidence_post_roll_s: float = Field(
        default=5.0, ge=0, le=60, description="Seconds of video kept after an alert's event."
    )
    evidence_retention_days: float = Field(
        default=30.0,
        gt=0,
        le=36_500,
        description="Days evidence is kept; locked evidence is kept until unlocked.",
    )

    ack_deadline_high_s: float = Field(
        default=60.0, gt=0, le=86_400, description="Seconds to acknowledge a high alert."
    )
    ack_deadline_medium_s: float = Field(
        default=300.0, gt=0, le=86_400, description="Seconds to acknowledge a medium alert."
    )
    ack_deadline_low_s: float = Field(
        default=900.0, gt=0, le=86_400, description="Seconds to acknowledge a low alert."
    )
    escalation_max: int = Field(
        default=3, ge=1, le=100, description="Escalations of one alert before it stops repeating."
    )
    escalation_tick_s: float = Field(
        default=1.0, gt=0, le=60, description="Seconds between sweeps for overdue alerts."
    )
    risk_night_start: int = Field(
        default=22,
        ge=0,
        le=23,
        description="Hour (0-23, in risk_timezone) the night starts (ARGUS_RISK_NIGHT_START): "
        "an alert raised at night gets the full time-of-day risk. Equal start and end hours "
        "mean no night hours.",
    )
    risk_night_end: int = Field(
        default=6,
        ge=0,
        le=23,
        description="Hour (0-23, in risk_timezone) the night ends (ARGUS_RISK_NIGHT_END).",
    )
    risk_timezone: str = Field(
        default="UTC",
        description="IANA time zone of the night hours (ARGUS_RISK_TIMEZONE), e.g. Europe/Berlin.",
    )

    # workstation security (``/ws/verify``): capacity, decision policy, limits
    workstation_max_pipelines: int = Field(
        default=2, ge=1, le=64, description="Verification pipelines that may run at once."
    )
    workstation_clients_per_pipeline: int = Field(
        default=5, ge=1, le=256, description="Workstation clients one pipeline serves."
    )
    workstation_max_queue: int = Field(
        default=16, ge=0, le=10_000, description="Clients that may wait for a pipeline."
    )
    workstation_idle_s: float = Field(
        default=60.0, ge=0, le=86_400, description="Seconds an empty pipeline lives on."
    )
    workstation_redis_url: str | None = Field(
        default=None,
        description="Redis URL for the shared capacity state of several servers "
        "(ARGUS_WORKSTATION_REDIS_URL, redis://host:6379/0); default: the database.",
    )
    workstation_max_frame_bytes: int = Field(
        default=2 << 20,
        ge=1024,
        le=15 << 20,
        description="Largest frame a client may send (bytes; the WebSocket layer itself "
        "closes connections over 16 MiB).",
    )
    workstation_max_frame_pixels: int = Field(
        default=1920 * 1080, ge=64 * 64, le=8192 * 8192, description="Largest frame in pixels."
    )
    workstation_frame_queue: int = Field(
        default=2,
        ge=1,
        le=100,
        description="Frames buffered per client; the oldest is dropped when a client sends "
        "faster than it is analysed.",
    )
    workstation_no_face_s: float = Field(
        default=3.0, ge=0, le=3600, description="Seconds without a face before locking."
    )
    workstation_wrong_user_frames: int = Field(
        default=3, ge=1, le=1000, description="Frames of another face in a row before locking."
    )
    workstation_spoof_windows: int = Field(
        default=2, ge=1, le=1000, description="Spoof verdicts in a row before signing out."
    )
    workstation_match_threshold: float = Field(
        default=0.6, gt=0, le=2, description="Largest face descriptor distance accepted."
    )
    workstation_violations_to_block: int = Field(
        default=3, ge=1, le=1000, description="Violations that block a client."
    )
    workstation_violation_window_s: float = Field(
        default=300.0, gt=0, le=86_400, description="Span over which violations are counted."
    )
    workstation_evidence_repeat_s: float = Field(
        default=30.0,
        gt=0,
        le=86_400,
        description="Seconds between evidence frames while a lock or sign-out persists.",
    )
    workstation_lease_s: float = Field(
        default=15.0,
        ge=1,
        le=3600,
        description="Seconds a client's place survives when its server stops renewing it.",
    )
    trusted_proxies: str = Field(
        default="",
        max_length=4096,
        pattern=r"^[0-9A-Fa-f.:/, ]*$",
        description="Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto headers are "
        "believed (ARGUS_TRUSTED_PROXIES): comma-separated addresses or networks such as "
        "127.0.0.1,10.0.0.0/8. Empty (the default): no proxy is trusted and the client "
        "address is the TCP peer's.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token of the Prometheus scraper (ARGUS_METRICS_TOKEN, at least 16 "
        "characters): /metrics also accepts it besides an admin's token. Unset: only admins "
        "may read /metrics.",
    )

    @field_validator("trusted_proxies", "camera_allow_networks", "camera_deny_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"{item!r} is not an IP address or network") from exc
        return value

    @field_validator("metrics_token")
    @classmethod
    def _long_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("metrics_token must have at least 16 characters")
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        """``trusted_proxies`` as a list of addresses or networks (empty: trust none)."""
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    @property
    def media_dir_list(self) -> list[Path]:
        """``media_dirs`` as a list of directories (empty: none but the demo clip's)."""
        return [Path(part.strip()) for part in self.media_dirs.split(os.pathsep) if part.strip()]

    @model_validator(mode="after")
    def _analytics_budget(self) -> Self:
        if self.analytics_queries_total < self.analytics_queries_per_principal:
            raise ValueError(
                "analytics_queries_total must be at least analytics_queries_per_principal"
            )
        return self

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Self:
        if self.dev_mode:
            return self
        for name in ("secret_key", "admin_password", "evidence_master_keys", "metrics_token"):
            value: SecretStr | None = getattr(self, name)
            if value is not None and is_placeholder(value.get_secret_value()):
                raise ValueError(
                    f"{name} is a placeholder value; set a real secret "
                    "(or ARGUS_DEV_MODE=1 on a development machine)"
                )
        return self

    @field_validator("risk_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value

    @field_validator("bus_url")
    @classmethod
    def _known_bus(cls, value: str) -> str:
        try:
            return parse_bus_url(value).url
        except ConfigError as exc:
            raise ValueError(str(exc)) from exc

    @property
    def bus(self) -> BusUrl:
        """``bus_url`` parsed."""
        return parse_bus_url(self.bus_url)

    @property
    def resolved_database_url(self) -> str:
        """``database_url``, or the default SQLite file under ``data_dir``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'argus.db'}"

    @property
    def models_dir(self) -> Path:
        """Directory holding one sub-directory per model pack."""
        return self.data_dir / "models"
