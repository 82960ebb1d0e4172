"""``pin_url``: a URL's host swapped for the address the camera policy gave, nothing else."""

from __future__ import annotations

import pytest

from argus.adapters.video._base import pin_url
from argus.adapters.video.policy import SourcePolicy, parse_networks
from argus.domain.errors import SourceOpenError


def test_the_host_is_replaced_and_credentials_port_path_and_query_kept() -> None:
    pinned = pin_url("rtsp://u%40x:p%3Aw@cam.example:8554/live/1?ch=2#f", lambda host: "10.0.0.7")
    assert pinned == "rtsp://u%40x:p%3Aw@10.0.0.7:8554/live/1?ch=2#f"


def test_without_a_port_none_is_added() -> None:
    assert pin_url("rtsps://cam.example/s", lambda host: "10.0.0.7") == "rtsps://10.0.0.7/s"


def test_ipv6_addresses_are_bracketed_and_zone_ids_escaped() -> None:
    assert pin_url("rtsp://cam:554/s", lambda host: "fd00::5") == "rtsp://[fd00::5]:554/s"
    assert pin_url("rtsp://cam/s", lambda host: "fe80::1%eth0") == "rtsp://[fe80::1%25eth0]/s"


def test_the_resolver_sees_the_bare_host() -> None:
    asked: list[str] = []

    def remember(host: str) -> str:
        asked.append(host)
        return "10.0.0.7"

    pin_url("rtsp://admin:pw@Cam.Example:554/s", remember)
    assert asked == ["cam.example"]


def test_without_connect_to_or_host_the_url_is_unchanged() -> None:
    assert pin_url("rtsp://cam/s", None) == "rtsp://cam/s"
    assert pin_url("/media/clip.mp4", lambda host: "10.0.0.7") == "/media/clip.mp4"


def test_a_refused_host_raises_the_policys_error() -> None:
    policy = SourcePolicy(
        deny_networks=parse_networks("169.254.0.0/16"), resolve=lambda h: ["169.254.169.254"]
    )
    with pytest.raises(SourceOpenError, match=r"169\.254\.169\.254"):
        pin_url("rtsp://metadata.example/s", policy.pin)
