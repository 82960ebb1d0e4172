"""Recording settings: defaults, the disk budget in bytes, and clear refusals of bad values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from argus.bootstrap.recording import recordings_root
from argus.config import Settings


def test_recording_is_off_by_default_and_kept_a_week_without_a_budget(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.recording is False
    assert settings.recording_segment_s == 60
    assert settings.recording_retain_days == 7
    assert settings.recording_sweep_s == 300
    assert settings.recording_max_bytes is None
    assert recordings_root(settings) == tmp_path / "recordings"


def test_a_directory_and_a_budget_in_gib(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, recording_dir=tmp_path / "nvr", recording_max_gb=1.5)
    assert recordings_root(settings) == tmp_path / "nvr"
    assert settings.recording_max_bytes == 3 * 1024**3 // 2


def test_the_environment_switches_recording_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGUS_RECORDING", "true")
    monkeypatch.setenv("ARGUS_RECORDING_SEGMENT_S", "30")
    monkeypatch.setenv("ARGUS_RECORDING_MAX_GB", "20")
    settings = Settings(data_dir=tmp_path)
    assert (settings.recording, settings.recording_segment_s) == (True, 30)
    assert settings.recording_max_bytes == 20 * 1024**3


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"recording_segment_s": 0}, "recording_segment_s"),
        ({"recording_segment_s": 7200}, "recording_segment_s"),
        ({"recording_segment_s": float("nan")}, "recording_segment_s"),
        ({"recording_retain_days": 0}, "recording_retain_days"),
        ({"recording_max_gb": -1}, "recording_max_gb"),
        ({"recording_sweep_s": 1}, "recording_sweep_s"),
        ({"recording": "sometimes"}, "recording"),
    ],
    ids=[
        "segment-zero",
        "segment-long",
        "segment-nan",
        "days-zero",
        "budget-negative",
        "sweep-fast",
        "not-a-bool",
    ],
)
def test_bad_values_are_refused_naming_the_setting(
    tmp_path: Path, values: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(data_dir=tmp_path, **values)


def test_a_file_is_not_a_recordings_directory(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("not a directory")
    with pytest.raises(ValidationError, match="must name a directory"):
        Settings(data_dir=tmp_path, recording_dir=taken)
