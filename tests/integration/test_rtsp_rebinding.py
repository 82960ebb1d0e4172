"""DNS rebinding past the camera network policy, against the suite's real RTSP server.

The policy checks a camera's host when the camera is saved and when its pipeline
or recorder starts. FFmpeg used to resolve the name again itself when it
connected, so a DNS answer that changed in between (an allowed address at the
check, loopback or a metadata address at the connection) was followed. Now the
RTSP source, the recorder and the probe resolve through the policy at every
connection and hand FFmpeg an address literal (``pin_url``).

``camera.invalid`` never resolves in DNS (RFC 6761), so a stream that plays from
it proves FFmpeg connected to the address the policy gave, not to a name it
resolved itself. The attacks use ``localhost``, which FFmpeg would resolve to
the server's loopback itself: the policy's resolver answers an allowed address
at the check and loopback afterwards, as a rebinding DNS server does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from argus.adapters.pipelines import SourceOptions, open_camera
from argus.adapters.recording.remux import SegmentRecorder
from argus.adapters.video import RtspSource
from argus.adapters.video.policy import SourcePolicy, parse_networks
from argus.bootstrap.sources import open_probe_source
from argus.domain.backoff import BackoffPolicy
from argus.domain.cameras import Camera
from argus.domain.errors import SourceOpenError

if TYPE_CHECKING:
    from tests.integration.conftest import ServerProcess

pytestmark = pytest.mark.integration

FAST = BackoffPolicy(initial=0.1, max_delay=0.5)
QUICK_PROBE = {"analyzeduration": "500000"}


class Rebinding:
    """A resolver whose first answer is an allowed address and every later one loopback."""

    def __init__(self, first: str = "192.0.2.10") -> None:
        self.first = first
        self.asked: list[str] = []

    def __call__(self, host: str) -> Sequence[str]:
        self.asked.append(host)
        return [self.first] if len(self.asked) == 1 else ["127.0.0.1"]


def loopback_denied(resolver: Rebinding) -> SourcePolicy:
    return SourcePolicy(deny_networks=parse_networks("127.0.0.0/8"), resolve=resolver)


def url(server: ServerProcess, host: str = "camera.invalid") -> str:
    return f"rtsp://viewer:secret@{host}:{server.port}/test"


def first_frame(frames: Iterator[object]) -> object:
    return next(frames)


def test_a_name_ffmpeg_cannot_resolve_plays_from_the_address_the_policy_gave(
    rtsp_server: ServerProcess,
) -> None:
    asked: list[str] = []

    def to_loopback(host: str) -> str:
        asked.append(host)
        return "127.0.0.1"

    source = RtspSource(
        url(rtsp_server),
        open_timeout=20.0,
        max_retries=0,
        options=QUICK_PROBE,
        connect_to=to_loopback,
    )
    with source:
        frame = first_frame(iter(source.frames()))
    assert frame is not None
    assert asked == ["camera.invalid"]


def test_a_camera_opened_with_the_policy_pin_connects_to_the_pinned_address(
    rtsp_server: ServerProcess,
) -> None:
    plain = f"rtsp://camera.invalid:{rtsp_server.port}/test"
    camera = Camera(id="gate", name="Gate", stream_url=plain, detect_fps=5.0)
    source = open_camera(
        camera,
        SourceOptions(open_timeout=20.0, backoff=FAST, connect_to=lambda host: "127.0.0.1"),
    )
    try:
        assert first_frame(iter(source.frames())) is not None
    finally:
        source.close()


def test_a_dns_answer_that_rebinds_to_loopback_after_the_check_is_refused_at_connect(
    rtsp_server: ServerProcess,
) -> None:
    resolver = Rebinding()
    policy = loopback_denied(resolver)
    target = url(rtsp_server, "localhost")
    assert policy.check(target) == target  # the check sees 192.0.2.10: allowed
    source = RtspSource(target, open_timeout=20.0, max_retries=0, connect_to=policy.pin)
    with source, pytest.raises(SourceOpenError, match=r"resolves to 127\.0\.0\.1") as refused:
        first_frame(iter(source.frames()))
    assert "secret" not in str(refused.value)
    assert resolver.asked == ["localhost", "localhost"]
    assert source.stats.frames_decoded == 0


def test_the_recorder_refuses_a_rebound_name_at_connect(
    rtsp_server: ServerProcess, tmp_path: Path
) -> None:
    resolver = Rebinding()
    policy = loopback_denied(resolver)
    target = url(rtsp_server, "localhost")
    policy.check(target)
    recorder = SegmentRecorder(
        "gate",
        target,
        tmp_path,
        segment_seconds=1.0,
        open_timeout=20.0,
        max_retries=0,
        backoff=FAST,
        connect_to=policy.pin,
    )
    with pytest.raises(SourceOpenError, match=r"resolves to 127\.0\.0\.1"):
        list(recorder.segments())
    assert list(tmp_path.rglob("*.mp4*")) == []


def test_the_recorder_records_from_the_pinned_address(
    rtsp_server: ServerProcess, tmp_path: Path
) -> None:
    recorder = SegmentRecorder(
        "gate",
        url(rtsp_server),
        tmp_path,
        segment_seconds=1.0,
        open_timeout=20.0,
        max_retries=0,
        backoff=FAST,
        connect_to=lambda host: "127.0.0.1",
    )
    segments = recorder.segments()
    try:
        first = next(segments)
    finally:
        recorder.stop()
        for _ in segments:  # the open segment is closed on stop
            pass
    assert first.bytes > 0


def test_a_probe_is_pinned_too(rtsp_server: ServerProcess) -> None:
    resolver = Rebinding()
    policy = loopback_denied(resolver)
    target = url(rtsp_server, "localhost")
    policy.check(target)
    probe = open_probe_source(target, 20.0, connect_to=policy.pin)
    try:
        with pytest.raises(SourceOpenError, match=r"resolves to 127\.0\.0\.1"):
            first_frame(iter(probe.frames()))
    finally:
        probe.close()
