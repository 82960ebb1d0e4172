"""``SourcePolicy``: which hosts and local paths a camera may use (no DNS: a table resolves)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from argus.adapters.video.policy import REFUSED, SourcePolicy
from argus.config import Settings
from argus.domain.errors import SourceOpenError

NAMES = {
    "cam.lan": ["192.168.1.20"],
    "rebound.example": ["203.0.113.5", "127.0.0.1"],
    "metadata.example": ["169.254.169.254"],
    "public.example": ["203.0.113.9"],
}


def _resolve(host: str) -> Sequence[str]:
    if host in NAMES:
        return NAMES[host]
    if host[0].isdigit() or ":" in host:
        return [host]
    raise OSError(f"{host}: no such name")


def _default() -> SourcePolicy:
    defaults = Settings.model_fields
    return SourcePolicy.of(
        allow_networks=str(defaults["camera_allow_networks"].default),
        deny_networks=str(defaults["camera_deny_networks"].default),
        resolve=_resolve,
    )


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("rtsp://cam.lan/stream1", True),
        ("rtsp://10.0.0.5:554/1", True),
        ("http://public.example/snapshot", True),
        ("http://127.0.0.1:8080/", False),
        ("http://127.9.9.9/", False),
        ("http://[::1]/", False),
        ("http://[::ffff:127.0.0.1]/", False),
        ("http://0.0.0.0:8000/", False),
        ("http://169.254.169.254/latest/meta-data/", False),
        ("http://metadata.example/", False),
        ("http://rebound.example/", False),
        ("http://[fe80::1]/", False),
        ("http://100.100.100.200/", False),
    ],
    ids=[
        "lan-name",
        "private-address",
        "public-name",
        "loopback",
        "loopback-range",
        "ipv6-loopback",
        "ipv4-mapped-loopback",
        "unspecified",
        "link-local-metadata",
        "name-of-metadata",
        "one-of-several-addresses-denied",
        "ipv6-link-local",
        "alibaba-metadata",
    ],
)
def test_default_networks(url: str, allowed: bool) -> None:
    policy = _default()
    if allowed:
        assert policy.check(url) == url
    else:
        with pytest.raises(SourceOpenError, match="in a network cameras may not use"):
            policy.check(url)


def test_deny_wins_over_allow_and_an_allow_list_confines() -> None:
    policy = SourcePolicy.of(
        allow_networks="10.0.0.0/8", deny_networks="10.9.0.0/16", resolve=_resolve
    )
    assert policy.check("rtsp://10.1.0.1/") == "rtsp://10.1.0.1/"
    for url in ("rtsp://10.9.0.1/", "rtsp://cam.lan/"):
        with pytest.raises(SourceOpenError):
            policy.check(url)


def test_an_unresolvable_name_is_refused_unless_allowed_to_pass() -> None:
    policy = _default()
    with pytest.raises(SourceOpenError, match="does not resolve"):
        policy.check("rtsp://nowhere.invalid/")
    assert policy.check("rtsp://nowhere.invalid/", unresolved_ok=True) == "rtsp://nowhere.invalid/"


def test_local_paths_are_canonical_and_confined(tmp_path: Path) -> None:
    media, other = tmp_path / "media", tmp_path / "other"
    (media / "sub").mkdir(parents=True)
    other.mkdir()
    clip = media / "clip.mp4"
    clip.write_bytes(b"\0")
    (other / "secret.asc").write_text("key")
    (media / "link.asc").symlink_to(other / "secret.asc")
    policy = SourcePolicy.of(media_dirs=[media], resolve=_resolve)
    assert policy.check(str(media / "sub" / ".." / "clip.mp4")) == str(clip.resolve())
    assert policy.check(f"file://{clip}") == str(clip.resolve())
    assert policy.check(str(media)) == str(media.resolve())
    answers = []
    for target in (
        other / "secret.asc",
        media / "link.asc",
        media / ".." / "other" / "secret.asc",
        other / "missing.asc",
        media / "missing.mp4",
    ):
        with pytest.raises(SourceOpenError) as caught:
            policy.check(str(target))
        answers.append(str(caught.value).replace(str(target), "<path>"))
    assert answers == [f"<path>: {REFUSED}"] * len(answers)


def test_a_named_media_file_allows_only_itself(tmp_path: Path) -> None:
    clip, sibling = tmp_path / "bikes.mp4", tmp_path / "other.mp4"
    clip.write_bytes(b"\0")
    sibling.write_bytes(b"\0")
    policy = SourcePolicy.of(media_files=[clip], resolve=_resolve)
    assert policy.check(str(clip)) == str(clip.resolve())
    with pytest.raises(SourceOpenError):
        policy.check(str(sibling))
    with pytest.raises(SourceOpenError):
        policy.check(str(tmp_path))
