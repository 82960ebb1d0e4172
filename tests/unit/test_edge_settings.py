"""``EdgeSettings``: what a node needs, checked strictly; clear errors for what is missing."""

from __future__ import annotations

import os
from pathlib import Path

import pydantic
import pytest

from argus.bootstrap.edge_node_parts import node_settings
from argus.config import Settings
from argus.config.edge import EdgeSettings, default_node_id
from argus.domain.errors import ConfigError


@pytest.fixture(autouse=True)
def _no_edge_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests set what they read; a developer's ARGUS_EDGE_* must not leak in."""
    for name in [n for n in os.environ if n.startswith("ARGUS_EDGE_")]:
        monkeypatch.delenv(name)


def test_defaults_and_lists() -> None:
    edge = EdgeSettings(server_urls=" https://a.example:8000/ , http://b.example ", api_key="k")
    assert edge.server_url_list == ["https://a.example:8000", "http://b.example"]
    assert edge.outbox_max_bytes == 1 << 30
    assert edge.health_interval_s == 30.0
    assert edge.sync_batch_items == 200
    assert edge.sync_batch_bytes == 4 << 20
    assert edge.config_wait_s == 25.0
    assert edge.listen_address is None
    assert edge.node_id == default_node_id()
    edge.require()


def test_the_environment_is_read_with_its_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARGUS_EDGE_SERVER_URLS", "https://argus.example")
    monkeypatch.setenv("ARGUS_EDGE_API_KEY", "secret-key")
    monkeypatch.setenv("ARGUS_EDGE_NODE_ID", "gate-2")
    monkeypatch.setenv("ARGUS_EDGE_LISTEN", "[::1]:9108")
    edge = EdgeSettings()
    assert edge.node_id == "gate-2"
    assert edge.api_key is not None
    assert edge.api_key.get_secret_value() == "secret-key"
    assert "secret-key" not in repr(edge)
    assert edge.listen_address == ("::1", 9108)


@pytest.mark.parametrize(
    "bad",
    [
        {"server_urls": "ftp://a.example"},
        {"server_urls": "https://user:pw@a.example"},
        {"server_urls": "https://a.example/?x=1"},
        {"node_id": "Gate"},
        {"node_id": "-gate"},
        {"listen": "9108"},
        {"outbox_max_bytes": 10},
        {"sync_batch_items": 501},
        {"config_wait_s": 26},
        {"ca_file": "/etc/ca.pem", "verify_tls": False},
        {"surprise": 1},
    ],
)
def test_bad_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        EdgeSettings(**bad)  # type: ignore[arg-type]


def test_a_node_without_url_or_key_says_which_variables_to_set() -> None:
    with pytest.raises(ConfigError, match=r"ARGUS_EDGE_SERVER_URLS.*ARGUS_EDGE_API_KEY"):
        EdgeSettings(api_key="  ").require()
    with pytest.raises(ConfigError, match="ARGUS_EDGE_API_KEY"):
        EdgeSettings(server_urls="https://a.example").require()


def test_the_node_runs_in_its_data_dir_under_its_id(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "default")
    edge = EdgeSettings(node_id="gate-2", data_dir=tmp_path / "edge")
    mine = node_settings(settings, edge)
    assert mine.node_id == "gate-2"
    assert mine.data_dir == tmp_path / "edge"
    assert mine.models_dir == tmp_path / "edge" / "models"
    assert edge.state_dir(mine.data_dir) == tmp_path / "edge" / "edge-gate-2"
    assert node_settings(settings, EdgeSettings(node_id="n")).data_dir == tmp_path / "default"
