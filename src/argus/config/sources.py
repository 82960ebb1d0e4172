"""Settings of camera sources: stream timeouts, local media and allowed networks."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["SourceSettings", "check_networks"]


def check_networks(value: str) -> str:
    """``value`` when it is a comma-separated list of IP addresses or networks.

    Raises:
        ValueError: An item is neither (pydantic reports it as a validation error).
    """
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ValueError(f"{item!r} is not an IP address or network") from exc
    return value


class SourceSettings(BaseSettings):
    """How camera streams are opened and which media and hosts they may reach."""

    model_config = SettingsConfigDict(env_prefix="ARGUS_", extra="forbid", frozen=True)

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

    @field_validator("camera_allow_networks", "camera_deny_networks")
    @classmethod
    def _camera_networks(cls, value: str) -> str:
        return check_networks(value)

    @property
    def media_dir_list(self) -> list[Path]:
        """``media_dirs`` as a list of directories (empty: none but the demo clip's)."""
        return [Path(part.strip()) for part in self.media_dirs.split(os.pathsep) if part.strip()]
