"""The alert overlay's pure parts: a track's path from the trajectory log, its box; the undo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from argus.domain.alerts.lifecycle import (
    ALERT_TRANSITIONS,
    DISMISSAL_UNDO_WINDOW,
    Transition,
    dismissal_undo_until,
)
from argus.domain.alerts.overlay import ASPECT, DEFAULT_ASPECT, box_at, track_path

MINUTE = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def minute_log(
    rows: list[list[int]],
    *,
    run: int = 1,
    minute: datetime = MINUTE,
    classes: list[str] | None = None,
) -> tuple[datetime, dict[str, object]]:
    """A ``tracks.minute`` event's timestamp and payload (rows: track, class, t, x, y, h, ...)."""
    payload: dict[str, object] = {
        "frame_width": 640,
        "frame_height": 360,
        "run": run,
        "part": 0,
        "dropped": 0,
        "classes": classes or ["person", "car"],
        "tracks": rows,
    }
    return minute, payload


def at(seconds: float) -> datetime:
    return MINUTE + timedelta(seconds=seconds)


def test_the_box_is_interpolated_between_the_samples_around_the_moment() -> None:
    # Track 7 (person): at 10.0 s foot (100, 200) height 100; at 10.4 s foot (120, 220) height 120.
    log = [minute_log([[7, 0, 100, 100, 200, 100, 104, 120, 220, 120], [8, 1, 100, 500, 300, 40]])]
    path = track_path(log, 7, at(10.2))
    assert path is not None
    assert (path.frame_width, path.frame_height, path.class_name) == (640, 360, "person")
    assert [s.at for s in path.samples] == [at(10.0), at(10.4)]
    box = box_at(path, at(10.2))
    assert box is not None
    assert box.width_estimated
    x1, y1, x2, y2 = box.xyxy
    assert (y1, y2) == (100.0, 210.0)  # foot y 210, height 110
    assert x2 - x1 == pytest.approx(110 * ASPECT["person"], abs=0.2)
    assert (x1 + x2) / 2 == pytest.approx(110, abs=0.1)


@pytest.mark.parametrize(
    ("class_name", "aspect"),
    [("car", ASPECT["car"]), ("unicorn", DEFAULT_ASPECT)],
    ids=["known-class", "unknown-class"],
)
def test_the_width_follows_the_class(class_name: str, aspect: float) -> None:
    log = [minute_log([[3, 0, 50, 300, 300, 50]], classes=[class_name])]
    path = track_path(log, 3, at(5.0))
    assert path is not None
    box = box_at(path, at(5.0))
    assert box is not None
    assert box.xyxy[2] - box.xyxy[0] == pytest.approx(50 * aspect, abs=0.2)


def test_the_box_stays_inside_the_frame() -> None:
    log = [minute_log([[3, 1, 50, 630, 350, 300]])]
    path = track_path(log, 3, at(5.0))
    assert path is not None
    box = box_at(path, at(5.0))
    assert box is not None
    assert box.xyxy[0] >= 0
    assert box.xyxy[2] <= 640
    assert box.xyxy[1] >= 0


def test_of_two_runs_reusing_an_id_the_nearer_one_is_taken() -> None:
    far = minute_log([[5, 0, 0, 10, 10, 10]], run=1)  # at 0 s
    near = minute_log([[5, 0, 300, 400, 300, 90]], run=2)  # at 30 s
    path = track_path([far, near], 5, at(30.5))
    assert path is not None
    assert [(s.x, s.y) for s in path.samples] == [(400.0, 300.0)]


def test_no_path_when_the_log_has_no_sample_near_the_moment() -> None:
    log = [minute_log([[5, 0, 0, 10, 10, 10]])]
    assert track_path(log, 5, at(30.0)) is None
    assert track_path(log, 6, at(0.0)) is None
    assert track_path([], 5, at(0.0)) is None


def test_the_path_spans_both_minutes_and_is_cut_to_the_span() -> None:
    first = minute_log([[5, 0, 595, 10, 10, 10, 500, 1, 1, 1]])  # at 59.5 s and 50 s
    second = minute_log([[5, 0, 5, 20, 20, 20, 300, 2, 2, 2]], minute=MINUTE + timedelta(minutes=1))
    path = track_path([second, first], 5, at(60.0), span=timedelta(seconds=5))
    assert path is not None
    assert [s.at for s in path.samples] == [at(59.5), at(60.5)]


@pytest.mark.parametrize(
    "rows",
    [[[5, 0, 1, 2]], [[5, 9, 1, 2, 3, "x"]], ["not a row"], [[5, 0, 1, 2, 3, True]]],
    ids=["short", "text", "not-a-list", "bool"],
)
def test_malformed_rows_are_skipped(rows: list[object]) -> None:
    _, payload = minute_log([])
    payload["tracks"] = rows
    assert track_path([(MINUTE, payload)], 5, at(0.1)) is None


def test_a_dismissal_may_be_undone_within_the_window_only() -> None:
    assert "acknowledged" in ALERT_TRANSITIONS["false_positive"]
    dismissed = (
        Transition("notified", "acknowledged", at(0), "user:ann"),
        Transition("acknowledged", "false_positive", at(5), "user:ann", "a cat"),
    )
    assert dismissal_undo_until("false_positive", dismissed) == at(5) + DISMISSAL_UNDO_WINDOW
    assert dismissal_undo_until("acknowledged", dismissed[:1]) is None
    assert dismissal_undo_until("false_positive", ()) is None
