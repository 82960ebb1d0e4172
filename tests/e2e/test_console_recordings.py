"""Playback of continuous recording in chromium, against a real ``argus serve`` (issue 19).

The server records (``ARGUS_RECORDING=true``, segments of about ``SEGMENT_S``
seconds, cut at keyframes) a file camera looping ``bikes.mp4`` (H.264, 640x272,
25 fps, a keyframe every 1-2.5 s) in real time. Once it has written a few
segments the test posts two line crossings of the made-up class ``unicorn`` at
moments inside them; the camera's rules turn them into a high and a low alert,
so the timeline has alert markers of two severities and event markers at known
times. In the browser (``pages/recordings.js``): the camera tile links to its
recordings; the timeline shows the segments and the markers; Play plays the
segment (the video's time advances), the speed control sets ``playbackRate``,
playback moves on to the next segment by itself, a click on a marker or a key
on the timeline lands at the moment asked for, and "Export range" downloads a
signed bundle that verifies (and fails once tampered with). An alert's detail
opens the recording at the alert's moment; playback that reaches the end goes
on with what is recorded since. A viewer plays back at phone width but has no
export (and the API refuses it).
"""

from __future__ import annotations

import io
import itertools
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from argus.services.evidence import verify_bundle
from tests.auth_support import USER_PASSWORD
from tests.e2e.browser_support import bearer_of, nav_to, shoot, sign_in
from tests.e2e.conftest import eval_media
from tests.e2e.console_support import busy_server
from tests.e2e.dashboard_support import CLASS, alerts_of, call, crossings, signed_in
from tests.e2e.serve_support import ServeProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

SEGMENT_S = 4
"""ARGUS_RECORDING_SEGMENT_S: short segments, so a few are written within seconds."""
LONG_S = 3.0
"""A segment at least this long takes a marker or a seek 1.5 s before its end (the segment
cut where the looped file starts again can be a fraction of a second)."""
SEGMENTS_WAIT_S = 240.0
"""Longest wait for them (server start, then real-time recording of a looped file)."""
LINES = {"north": "high", "kerb": "low"}
"""The camera's lines and the severity of the alert a crossing of each raises."""
_RULES = {
    "high": {"weight": 1.0, "severity_floor": "high"},
    "low": {"weight": 0.1, "severity_ceiling": "low"},
}
VIEWER = "vera"
"""A viewer: plays recordings back, may not export them."""
TOLERANCE_MS = 300
"""How far a seek may land from the moment asked for: the clock is read from video.currentTime."""


_WATCH_SEGMENTS = """() => {
    window.playedSegments = [];
    window.playedStates = [];
    const screen = document.querySelector('.rec-screen');
    const note = () => {
        const id = screen.dataset.segment;
        if (id && window.playedSegments.at(-1) !== id) window.playedSegments.push(id);
        const state = screen.dataset.state;
        if (window.playedStates.at(-1) !== state) window.playedStates.push(state);
    };
    note();
    const watched = { attributes: true, attributeFilter: ['data-segment', 'data-state'] };
    new MutationObserver(note).observe(screen, watched);
}"""
"""Keeps ``window.playedSegments`` and ``window.playedStates``: what the player showed, in order."""


@dataclass(frozen=True, slots=True)
class World:
    """The recording server, its camera, the segments written, the posted alerts."""

    server: ServeProcess
    camera_id: str
    segments: list[dict[str, Any]]
    alerts: dict[str, dict[str, Any]]
    long: list[int]
    """Indices of segments of ``LONG_S`` or more that the next segment follows at once."""


def _long(segments: list[dict[str, Any]]) -> list[int]:
    """Indices of the segments of ``LONG_S`` or more that the next segment follows at once."""
    return [
        i
        for i, (one, after) in enumerate(itertools.pairwise(segments))
        if _ms(one["end"]) - _ms(one["start"]) >= LONG_S * 1000
        and _ms(after["start"]) - _ms(one["end"]) < 1000
    ]


def _ms(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


def _timeline(server: ServeProcess, camera_id: str) -> dict[str, Any]:
    body: dict[str, Any] = call(server, "GET", f"/cameras/{camera_id}/recordings")
    return body


def _recorded(server: ServeProcess, camera_id: str) -> list[dict[str, Any]]:
    """The camera's segments of the last hour once three are long; else nothing."""
    segments: list[dict[str, Any]] = _timeline(server, camera_id)["segments"]
    return segments if len(_long(segments)) >= 3 else []


def _wait(what: str, check: Any, server: ServeProcess, limit: float = SEGMENTS_WAIT_S) -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"{what}: not within {limit} s\n{server.output()[-4000:]}")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("recordings")
    media = root / "media"
    media.mkdir()
    clip = media / "bikes.mp4"
    clip.write_bytes(eval_media("bikes.mp4").read_bytes())
    env = {
        "ARGUS_MEDIA_DIRS": str(media),
        "ARGUS_RECORDING": "true",
        "ARGUS_RECORDING_SEGMENT_S": str(SEGMENT_S),
    }
    with busy_server(root, demo=False, **env) as server:
        body = {"name": "Bike lane", "stream_url": str(clip), "detect_fps": 1.0}
        camera_id = str(call(server, "POST", "/cameras", body)["id"])
        for i, (line, severity) in enumerate(LINES.items()):
            x = 100.0 + 300.0 * i
            geometry = {"name": line, "start": [x, 20.0], "end": [x, 250.0]}
            call(server, "POST", f"/cameras/{camera_id}/lines", geometry)
            rule = {
                "name": f"{line.capitalize()} line crossed",
                "camera_id": camera_id,
                "event_types": ["line.crossed"],
                "classes": [CLASS],
                "line": line,
                **_RULES[severity],
            }
            call(server, "POST", "/rules", rule)
        segments: list[dict[str, Any]] = _wait(
            "three long recorded segments",
            lambda: _recorded(server, camera_id),
            server,
        )
        # A crossing inside the first and the third long segment: markers at known moments.
        long = _long(segments)
        posted: dict[str, str] = {}
        for line, i, offset in (("north", long[0], 1.5), ("kerb", long[2], 1.0)):
            segment = segments[i]
            start = datetime.fromisoformat(segment["start"].replace("Z", "+00:00"))
            at = start + timedelta(seconds=offset)
            (posted[line],) = crossings(server, camera_id, [line], at=at)
        raised = alerts_of(server, list(posted.values()))
        alerts = dict(zip(posted, raised, strict=True))
        wanted = {a["id"] for a in raised}
        _wait(
            "the alerts on the timeline",
            lambda: wanted <= {m["id"] for m in _timeline(server, camera_id)["markers"]},
            server,
        )
        yield World(server, camera_id, segments, alerts, long)


def _screen(page: Page) -> Locator:
    return page.locator(".rec-screen")


def _position_ms(page: Page) -> float:
    at = _screen(page).get_attribute("data-at")
    assert at is not None, "the player shows no position"
    return _ms(at)


def _lands_at(page: Page, moment_ms: float) -> None:
    """Wait (bounded) until the player's position is ``moment_ms`` (within ``TOLERANCE_MS``)."""
    page.wait_for_function(
        """([ms, tolerance]) => {
            const at = document.querySelector('.rec-screen')?.dataset.at;
            return at !== undefined && Math.abs(Date.parse(at) - ms) <= tolerance;
        }""",
        arg=[moment_ms, TOLERANCE_MS],
    )


def _plays(page: Page, beyond_s: float = 0.3) -> None:
    """Wait until the visible video has data and its time has passed ``beyond_s`` seconds."""
    page.wait_for_function(
        """(beyond) => {
            const video = document.querySelector('.rec-video:not([hidden])');
            return video && video.readyState >= 2 && !video.paused && video.currentTime > beyond;
        }""",
        arg=beyond_s,
    )


def _active_video(page: Page, expression: str) -> Any:
    return page.evaluate(f"() => document.querySelector('.rec-video:not([hidden])').{expression}")


def _click_at(page: Page, moment_ms: float) -> None:
    """Click the timeline's track at the x of ``moment_ms``."""
    timeline = page.locator(".timeline")
    start = _ms(str(timeline.get_attribute("data-start")))
    end = _ms(str(timeline.get_attribute("data-end")))
    box = page.locator(".tl-track").bounding_box()
    assert box is not None
    x = (moment_ms - start) / (end - start) * box["width"]
    page.locator(".tl-track").click(position={"x": x, "y": box["height"] / 2})


def _tap(target: Locator) -> None:
    """Tap ``target`` once scrolled to the middle of the screen (clear of the phone's header)."""
    target.evaluate("(e) => e.scrollIntoView({ block: 'center' })")
    target.tap()


def _marker(page: Page, alert: dict[str, Any]) -> Locator:
    return page.locator(f".tl-marker[data-kind='alert'][data-id='{alert['id']}']")


def _check_bundle(server: ServeProcess, saved: Path) -> None:
    """The bundle verifies, holds an MP4, and fails to verify once a byte of it changed."""
    key = bytes.fromhex(call(server, "GET", "/evidence/keys/signing")["public_key_hex"])
    data = saved.read_bytes()
    report = verify_bundle(data, key)
    assert report.ok, report
    assert report.items >= 1
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        videos = [n for n in archive.namelist() if n.endswith(".mp4")]
        assert videos, archive.namelist()
        members = {n: archive.read(n) for n in archive.namelist()}
    clip = bytearray(members[videos[0]])
    clip[len(clip) // 2] ^= 0xFF
    members[videos[0]] = bytes(clip)
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, member in members.items():
            archive.writestr(name, member)
    assert not verify_bundle(tampered.getvalue(), key).ok


def test_the_timeline_plays_seeks_changes_speed_and_exports(
    chromium: Browser, world: World, shots: list[Path], tmp_path: Path
) -> None:
    errors: list[str] = []
    page = signed_in(chromium, world.server, errors)
    # The camera's tile on the live wall links to its recordings.
    page.get_by_role("link", name="Recordings: Bike lane").click()
    expect(page.get_by_role("heading", name="Recordings", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/ui/#/recordings\?camera={world.camera_id}&"))
    expect(page.get_by_label("Camera", exact=True)).to_have_value(world.camera_id)
    expect(page.locator(".rec-state")).to_have_text("Recording now.")
    # The last ten minutes: a bar fine enough to click into a 4-second segment.
    page.get_by_label("Length", exact=True).select_option(label="10 minutes")
    expect(page).to_have_url(
        re.compile(rf"#/recordings\?camera={world.camera_id}&start=.+&span=600$")
    )
    segments = page.locator(".tl-segment")
    expect(segments.nth(len(world.segments) - 1)).to_be_attached()
    for segment in world.segments:
        expect(page.locator(f".tl-segment[data-segment='{segment['id']}']")).to_have_count(1)
    high, low = world.alerts["north"], world.alerts["kerb"]
    expect(_marker(page, high)).to_have_attribute("data-severity", "high")
    expect(_marker(page, low)).to_have_attribute("data-severity", "low")
    expect(page.locator(".tl-marker[data-kind='event']")).not_to_have_count(0)
    expect(page.locator(".rec-summary")).to_contain_text("2 alert(s)")

    # Play from the first recording: the video's own time advances.
    page.get_by_role("button", name="Play", exact=True).click()
    _plays(page)
    expect(_screen(page)).to_have_attribute("data-state", "playing")
    expect(_screen(page)).to_have_attribute("data-segment", world.segments[0]["id"])
    shoot(page, shots, "recordings-playing")
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(_screen(page)).to_have_attribute("data-state", "paused")

    # Speed: 4x is the video's playbackRate, and stays so across segments. From 1.5 s
    # before the end of the third segment, playback moves on to the fourth by itself.
    page.get_by_label("Speed", exact=True).select_option(value="4")
    assert _active_video(page, "playbackRate") == 4
    third, fourth = world.segments[world.long[1]], world.segments[world.long[1] + 1]
    _click_at(page, _ms(third["end"]) - 1500)
    expect(_screen(page)).to_have_attribute("data-segment", third["id"])
    expect(_screen(page)).to_have_attribute("data-state", "paused")
    page.evaluate(_WATCH_SEGMENTS)
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("(id) => window.playedSegments.includes(id)", arg=fourth["id"])
    played = page.evaluate("() => window.playedSegments")
    assert played[played.index(third["id"]) + 1] == fourth["id"], played
    _plays(page, 0.2)
    assert _active_video(page, "playbackRate") == 4

    # Pause, then a click on the high alert's marker lands at the alert's moment.
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(_screen(page)).to_have_attribute("data-state", "paused")
    moment = _ms(str(_marker(page, high).get_attribute("data-time")))
    marked = world.segments[world.long[0]]
    assert _ms(marked["start"]) < moment < _ms(marked["end"])
    _marker(page, high).click()
    _lands_at(page, moment)
    expect(_screen(page)).to_have_attribute("data-segment", marked["id"])
    assert _active_video(page, "paused") is True
    clock = page.locator(".rec-clock")
    expect(clock).to_have_attribute("data-at", str(_screen(page).get_attribute("data-at")))

    # The keyboard: the slider moves 10 s; N goes to the next marker after the position.
    slider = page.get_by_role("slider", name="Timeline")
    slider.focus()
    slider.press("ArrowRight")
    _lands_at(page, moment + 10_000)
    slider.press("ArrowLeft")
    _lands_at(page, moment)
    times = sorted(
        _ms(t)
        for t in page.locator(".tl-marker").evaluate_all("(ms) => ms.map((m) => m.dataset.time)")
    )
    slider.press("n")
    _lands_at(page, next(t for t in times if t > moment + 500))

    # Export the ten seconds after the high alert as a signed bundle.
    _marker(page, high).click()
    _lands_at(page, moment)
    export = page.get_by_role("form", name="Export range")
    export.get_by_role("button", name="Start here").click()
    slider.focus()
    slider.press("ArrowRight")
    _lands_at(page, moment + 10_000)
    export.get_by_role("button", name="End here").click()
    shoot(page, shots, "recordings-export")
    with page.expect_download() as download:
        export.get_by_role("button", name="Export range").click()
    saved = tmp_path / "range.zip"
    download.value.save_as(saved)
    assert download.value.suggested_filename.startswith(f"argus-recording-{world.camera_id}-")
    _check_bundle(world.server, saved)
    expect(page.locator(".rec-export .form-status")).to_contain_text("Bundle downloaded")
    assert errors == [], errors


def test_a_viewer_plays_back_on_a_phone_but_cannot_export(
    chromium: Browser, world: World, shots: list[Path]
) -> None:
    errors: list[str] = []
    body = {"username": VIEWER, "password": USER_PASSWORD, "role": "viewer"}
    call(world.server, "POST", "/users", body)
    context = chromium.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
    try:
        sign_in(page, f"{world.server.base}/ui/", VIEWER, USER_PASSWORD)
        expect(page.get_by_role("heading", name="Live")).to_be_visible()
        nav_to(page, "Recordings")
        expect(page.get_by_role("heading", name="Recordings", exact=True)).to_be_visible()
        page.get_by_label("Length", exact=True).select_option(label="10 minutes")
        expect(page.locator(".tl-segment").nth(len(world.segments) - 1)).to_be_attached()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"the recordings page is {width} px wide on a 390 px phone"

        # Markers a few seconds apart overlap on a phone's bar: the list under it takes taps.
        high = world.alerts["north"]
        moment = _ms(str(_marker(page, high).get_attribute("data-time")))
        listed = page.get_by_role("list", name="Alerts and events")
        _tap(listed.locator(f"button[data-id='{high['id']}']"))
        _lands_at(page, moment)
        _tap(page.get_by_role("button", name="Play", exact=True))
        _plays(page, 0.2)
        page.get_by_label("Speed", exact=True).select_option(value="2")
        assert _active_video(page, "playbackRate") == 2
        # Exporting needs the evidence export permission a viewer lacks: no form, and a 403.
        expect(page.get_by_role("region", name="Export range")).to_contain_text(
            "Operators and admins"
        )
        expect(page.get_by_role("form", name="Export range")).to_have_count(0)
        segment = world.segments[world.long[0]]
        refused = httpx.post(
            f"{world.server.base}/api/v1/cameras/{world.camera_id}/recordings/export",
            json={"start": segment["start"], "end": segment["end"]},
            headers=bearer_of(page),
            timeout=30,
        )
        assert refused.status_code == 403, refused.text
        shoot(page, shots, "recordings-phone")
        assert errors == [], errors
    finally:
        context.close()


def test_an_alert_opens_the_recording_at_its_moment(chromium: Browser, world: World) -> None:
    errors: list[str] = []
    page = signed_in(chromium, world.server, errors)
    high = world.alerts["north"]
    page.goto(f"{world.server.base}/ui/#/alerts/{high['id']}")
    page.get_by_role("link", name="Play the recording").click()
    expect(page.get_by_role("heading", name="Recordings", exact=True)).to_be_visible()
    _lands_at(page, _ms(high["event_time"]))
    expect(_screen(page)).to_have_attribute("data-segment", world.segments[world.long[0]]["id"])
    expect(page.locator(".tl-playhead")).to_be_visible()
    # Back from the recording's marker list to the alert.
    listed = page.get_by_role("list", name="Alerts and events")
    listed.get_by_role("link", name=re.compile(r"^Open alert: High alert")).click()
    expect(page).to_have_url(re.compile(rf"#/alerts/{high['id']}$"))
    assert errors == [], errors


def test_playback_at_the_end_goes_on_with_what_is_recorded_since(
    chromium: Browser, world: World
) -> None:
    errors: list[str] = []
    page = signed_in(chromium, world.server, errors)
    page.goto(f"{world.server.base}/ui/#/recordings?camera={world.camera_id}&span=600")
    expect(page.locator(".tl-segment").nth(len(world.segments) - 1)).to_be_attached()
    slider = page.get_by_role("slider", name="Timeline")
    slider.focus()
    slider.press("End")  # a second before the end of the last segment
    expect(_screen(page)).to_have_attribute("data-segment", re.compile(r"."))
    listed = page.locator(".tl-segment").evaluate_all("(s) => s.map((e) => e.dataset.segment)")
    assert _screen(page).get_attribute("data-segment") in listed[-2:]
    page.evaluate(_WATCH_SEGMENTS)
    slider.press(" ")
    # The page reads the range again every 15 s. Mostly playback has reached the end by then
    # and waits ("ended"); the segments recorded since then play. (When a re-read comes first,
    # playback goes on without stopping.)
    page.wait_for_function(
        "(known) => window.playedSegments.some((id) => !known.includes(id))",
        arg=listed,
        timeout=60_000,
    )
    expect(page.get_by_role("button", name="Pause", exact=True)).to_be_visible()
    if "ended" in page.evaluate("() => window.playedStates"):
        expect(page.locator(".rec-said")).to_have_text("Playing what was recorded since.")
    assert errors == [], errors
