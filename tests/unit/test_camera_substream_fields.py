"""A camera's detect sub-stream and recording flag: invariants and the edge configuration's JSON."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from argus.domain.cameras import Camera, Credentials, stream_origin
from argus.domain.errors import ValidationError
from argus.domain.scene_codec import camera_to_dict
from argus.services.edge_config import camera_from_json

LOGIN = Credentials(username="viewer", password="s3cret/pass")


def _camera(**changes: Any) -> Camera:
    camera = Camera(id="cam-1", name="Gate", stream_url="rtsp://10.0.0.5/main", credentials=LOGIN)
    return replace(camera, **changes)


def test_the_sub_stream_gets_the_login_only_when_the_stream_is_opened() -> None:
    camera = _camera(detect_stream_url="rtsp://10.0.0.5:554/sub")
    assert camera.detect_source_url() == "rtsp://viewer:s3cret%2Fpass@10.0.0.5:554/sub"
    assert "s3cret" not in repr(camera)
    assert _camera().detect_source_url() is None
    assert _camera().record is True


@pytest.mark.parametrize(
    ("main", "sub"),
    [
        ("rtsp://10.0.0.5/main", "rtsp://10.0.0.6/sub"),  # another host
        ("rtsp://10.0.0.5/main", "rtsp://10.0.0.5:8554/sub"),  # another port
        ("rtsp://10.0.0.5/main", "rtsps://10.0.0.5/sub"),  # another scheme
        ("rtsp://10.0.0.5/main", "/media/small.mp4"),  # a file beside a network stream
        ("/media/big.mp4", "http://10.0.0.5/sub.mjpg"),
    ],
)
def test_a_sub_stream_elsewhere_than_the_main_stream_is_refused(main: str, sub: str) -> None:
    with pytest.raises(ValidationError, match="same scheme, host and port"):
        _camera(stream_url=main, detect_stream_url=sub)


def test_a_password_in_the_sub_stream_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="detect_stream_url must not contain a password"):
        _camera(detect_stream_url="rtsp://u:p@10.0.0.5/sub")


def test_record_must_be_a_bool() -> None:
    with pytest.raises(ValidationError, match="record must be a bool"):
        _camera(record="yes")


def test_two_files_may_pair_and_the_default_port_is_the_same_port() -> None:
    assert _camera(stream_url="/m/big.mp4", detect_stream_url="/m/small.mp4").detect_stream_url
    assert stream_origin("rtsp://10.0.0.5/x") == stream_origin("RTSP://10.0.0.5:554/y")


def test_an_edge_node_receives_both_fields() -> None:
    camera = _camera(detect_stream_url="rtsp://10.0.0.5/sub", record=False)
    assert camera_from_json(camera_to_dict(camera)) == camera
