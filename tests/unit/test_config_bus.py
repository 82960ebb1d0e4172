"""Bus URL settings: which adapter a URL names, and clear errors for the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import pytest

from argus.config import BusUrl, Settings, parse_bus_url
from argus.domain.errors import ConfigError


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("memory://", "memory"),
        ("MEMORY://", "memory"),
        ("nats://127.0.0.1:4222", "nats"),
        ("nats://user:secret@nats.example:4222", "nats"),
        ("nats://a:4222,nats://b:4222", "nats"),
        ("tls://nats.example:4222", "nats"),
        ("redis://127.0.0.1:6379/0", "redis"),
        ("rediss://redis.example:6380/2", "redis"),
        (" redis://localhost ", "redis"),
    ],
    ids=[
        "memory",
        "memory-upper-case",
        "nats",
        "nats-credentials",
        "nats-cluster",
        "nats-tls",
        "redis",
        "redis-tls",
        "surrounding-spaces",
    ],
)
def test_known_urls_name_their_adapter(url: str, kind: str) -> None:
    assert parse_bus_url(url) == BusUrl(kind=kind, url=url.strip())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("kafka://broker:9092", "unknown scheme 'kafka'"),
        ("amqp://guest@rabbit", "unknown scheme 'amqp'"),
        ("127.0.0.1:4222", "unknown scheme"),
        ("", "unknown scheme ''"),
        ("nats://", "needs a host"),
        ("redis:///0", "needs a host"),
        ("memory://somewhere", "just 'memory://'"),
        ("nats://a:4222,redis://b", "only NATS takes several"),
        ("redis://a,redis://b", "only NATS takes several"),
        ("memory://,memory://", "just 'memory://'"),
    ],
    ids=[
        "kafka",
        "amqp",
        "no-scheme",
        "empty",
        "nats-without-host",
        "redis-without-host",
        "memory-with-host",
        "mixed-brokers",
        "redis-cluster-list",
        "memory-list",
    ],
)
def test_bad_urls_are_config_errors(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_bus_url(url)


def test_settings_default_to_the_in_process_bus(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.bus == BusUrl(kind="memory", url="memory://")
    assert settings.bus_prefix == "argus"
    assert settings.node_id == "argus"
    assert settings.demo is False


def test_settings_read_the_bus_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGUS_BUS_URL", "nats://10.0.0.5:4222")
    monkeypatch.setenv("ARGUS_BUS_PREFIX", "site-7")
    settings = Settings(data_dir=tmp_path)
    assert settings.bus == BusUrl(kind="nats", url="nats://10.0.0.5:4222")
    assert settings.bus_prefix == "site-7"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("bus_url", "kafka://broker:9092"),
        ("bus_prefix", "Argus"),
        ("bus_prefix", "a.b"),
        ("bus_prefix", ""),
        ("bus_ack_wait_s", 0.0),
        ("node_id", "node 1"),
    ],
    ids=["unknown-scheme", "upper-case-prefix", "dotted-prefix", "empty-prefix", "ack-0", "space"],
)
def test_settings_refuse_bad_bus_values(tmp_path: Path, field: str, value: object) -> None:
    values: dict[str, Any] = {"data_dir": tmp_path, field: value}
    with pytest.raises(pydantic.ValidationError, match=field):
        Settings(**values)
