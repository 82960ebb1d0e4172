"""``ARGUS_MOTION_GATING`` reaches every camera's scene through the shared detector defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argus.adapters.pipelines.scene import DEMO_DEFAULTS, DetectDefaults, camera_scene
from argus.bootstrap.edge import detect_defaults
from argus.config import Settings
from argus.domain.cameras import Camera
from argus.scene import MotionSpec
from tests.auth_support import settings_for

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return settings_for(tmp_path, **values)


def _camera() -> Camera:
    return Camera(
        id="cam-1", name="Gate", stream_url="rtsp://127.0.0.1/gate", created_at=T0, updated_at=T0
    )


def test_off_by_default(tmp_path: Path) -> None:
    assert detect_defaults(_settings(tmp_path), None) is None
    scene = camera_scene(_camera(), [], [], defaults=detect_defaults(_settings(tmp_path), None))
    assert scene.detect.motion is None


def test_on_every_camera_gets_the_settings_gate(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, motion_gating=True, motion_full_frame_every=10, motion_sensitivity=0.8
    )
    defaults = detect_defaults(settings, None)
    assert defaults is not None
    scene = camera_scene(_camera(), [], [], defaults=defaults)
    assert scene.detect.motion == MotionSpec(full_frame_every=10, sensitivity=0.8)
    # The demo keeps its own detector settings and gains the gate.
    demo = detect_defaults(_settings(tmp_path, motion_gating=True, demo=True), None)
    assert demo is not None
    assert demo.classes == DEMO_DEFAULTS.classes
    assert demo.motion is not None


def test_defaults_that_name_their_own_gate_keep_it(tmp_path: Path) -> None:
    own = DetectDefaults(motion=MotionSpec(full_frame_every=3))
    assert detect_defaults(_settings(tmp_path, motion_gating=True), own) is own
