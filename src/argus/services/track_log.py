"""``tracks.minute`` events: the trajectory log a re-count reads, and its reader.

A camera pipeline feeds ``MinuteTracks`` each analysed frame's tracked
detections, dated like the frame's events; when the minute (or the frame
size) changes it hands back the finished minute as ``tracks.minute``
envelopes (``argus.domain.event_payloads.TracksMinute``). ``MinuteLogs``
bundles it with the heatmap producer, so a worker calls one object per frame.
``TrackAssembler`` reads the events of a period back into trajectories for
``argus.domain.analytics.recount``.

What is kept, and the bounds (one camera, one minute):

* per track, at most one sample per ``SAMPLE_INTERVAL_S`` (0.2 s: 5 Hz): the
  box's bottom-centre and its height in whole pixels, and the time in tenths
  of a second since the minute; frames in between are not recorded;
* at most ``MAX_TRACKS`` (200) tracks: samples of further tracks are dropped;
* at most ``MAX_SAMPLES`` (300, a minute at 5 Hz) samples per track;
* at most ``MAX_PARTS`` (6) events of at most ``PART_BYTES`` (12 000 bytes of
  JSON, under the default 16 KiB ingest limit). When a busy minute needs more,
  every track is thinned (every other sample goes; its first and last stay)
  until it fits, so a crowd lowers the rate instead of losing people.

Dropped samples are counted in the minute's ``dropped`` (part 0). A quiet
minute (no track) sends no event. A busy minute costs at most about 72 KB of
payload; a minute with a few people walking through a few kilobytes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from argus.domain.analytics.recount import Trajectory
from argus.domain.detections import Detections
from argus.domain.event_payloads import TracksMinute
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.frames import Frame
from argus.ports.repositories import EventFilter, EventRepository
from argus.scene import Scene
from argus.services.heatmap_minutes import MinuteHeatmap

__all__ = [
    "MAX_PARTS",
    "MAX_SAMPLES",
    "MAX_TRACKS",
    "PART_BYTES",
    "SAMPLE_INTERVAL_S",
    "TRACKS_TYPE",
    "MinuteLogs",
    "MinuteTracks",
    "TrackAssembler",
    "TrackWindow",
    "track_windows",
]

TRACKS_TYPE = TracksMinute.type
SAMPLE_INTERVAL_S = 0.2
MAX_TRACKS = 200
MAX_SAMPLES = 300
PART_BYTES = 12_000
MAX_PARTS = 6
_TICKS = 10  # tenths of a second
_LAST_TICK = 60 * _TICKS - 1


def _size(value: object) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def _thin(row: list[int]) -> int:
    """Drop every other sample of a row (first and last stay); return how many went."""
    samples = [row[i : i + 4] for i in range(2, len(row), 4)]
    if len(samples) <= 2:
        return 0
    kept = [*samples[:-1:2], samples[-1]]
    row[2:] = [v for sample in kept for v in sample]
    return len(samples) - len(kept)


@dataclass(slots=True)
class _Track:
    row: list[int]
    last: float  # seconds since the minute of the latest sample


class MinuteTracks:
    """Each track's sampled anchor and height, handed out as envelopes per minute.

    Args:
        source: The camera (the events' source).
        class_names: The detector's class names, by class id.
        run: The tracker run's id (ms since the epoch of its first frame).
    """

    def __init__(self, source: EventSource, class_names: Sequence[str], run: int) -> None:
        self._source = source
        self._names = tuple(class_names)
        self._run = run
        self._minute: datetime | None = None
        self._size = (0, 0)
        self._tracks: dict[int, _Track] = {}
        self._classes: dict[str, int] = {}
        self._dropped = 0

    def add(self, taken_at: datetime, frame: Frame, detections: Detections) -> tuple[Envelope, ...]:
        """Record a frame's tracks; return the previous minute's envelopes when it ended.

        Args:
            taken_at: When the frame was taken (timezone-aware), like its events.
            frame: The frame (for its size).
            detections: Its tracked detections (not modified); untracked ones are skipped.
        """
        moment = taken_at.astimezone(UTC)
        minute = moment.replace(second=0, microsecond=0)
        size = (frame.width, frame.height)
        done: tuple[Envelope, ...] = ()
        if self._minute is not None and (minute != self._minute or size != self._size):
            done = self.flush()
        if self._minute is None:
            self._minute, self._size = minute, size
        ids = detections.tracker_id
        if ids is None or len(detections) == 0:
            return done
        seconds = (moment - minute).total_seconds()
        tick = min(_LAST_TICK, max(0, int(seconds * _TICKS + 1e-6)))
        xyxy = detections.xyxy
        x = np.clip(np.rint((xyxy[:, 0] + xyxy[:, 2]) / 2), 0, frame.width).astype(int).tolist()
        y = np.clip(np.rint(xyxy[:, 3]), 0, frame.height).astype(int).tolist()
        h = np.clip(np.rint(xyxy[:, 3] - xyxy[:, 1]), 0, frame.height).astype(int).tolist()
        classes = detections.class_id.tolist()
        for i, track_id in enumerate(ids.tolist()):
            self._sample(int(track_id), int(classes[i]), seconds, (tick, x[i], y[i], h[i]))
        return done

    def _sample(
        self, track_id: int, class_id: int, seconds: float, sample: tuple[int, ...]
    ) -> None:
        track = self._tracks.get(track_id)
        if track is None:
            if len(self._tracks) >= MAX_TRACKS or track_id < 0:
                self._dropped += 1
                return
            name = self._names[class_id] if 0 <= class_id < len(self._names) else str(class_id)
            index = self._classes.setdefault(name[:64], len(self._classes))
            self._tracks[track_id] = _Track([track_id, index, *sample], seconds)
            return
        if seconds - track.last < SAMPLE_INTERVAL_S - 1e-3:
            return  # the rate: not a drop
        if (len(track.row) - 2) // 4 >= MAX_SAMPLES:
            self._dropped += 1
            return
        track.row.extend(sample)
        track.last = seconds

    def flush(self) -> tuple[Envelope, ...]:
        """Return the minute so far as envelopes dated at its start, and start over."""
        minute, rows, dropped = self._minute, [t.row for t in self._tracks.values()], self._dropped
        classes = tuple(sorted(self._classes, key=self._classes.__getitem__))
        size = self._size
        self._minute, self._tracks, self._classes, self._dropped = None, {}, {}, 0
        if minute is None or not rows:
            return ()
        budget = PART_BYTES - _size(list(classes))
        sizes = [_size(row) + 1 for row in rows]
        while sum(sizes) > budget * MAX_PARTS and any(len(r) > 10 for r in rows):
            dropped += sum(_thin(row) for row in rows)
            sizes = [_size(row) + 1 for row in rows]
        parts: list[list[list[int]]] = [[]]
        used = 0
        for row, cost in zip(rows, sizes, strict=True):
            if parts[-1] and used + cost > budget:
                parts.append([])
                used = 0
            parts[-1].append(row)
            used += cost
        return tuple(
            Envelope.wrap(
                TracksMinute(
                    frame_width=size[0],
                    frame_height=size[1],
                    run=self._run,
                    part=index,
                    dropped=dropped if index == 0 else 0,
                    classes=classes,
                    tracks=tuple(tuple(row) for row in part),
                ),
                self._source,
                minute,
                new_event_id(minute),
            )
            for index, part in enumerate(parts[:MAX_PARTS])
        )


class MinuteLogs:
    """A run's per-minute summaries (heatmap grid and trajectory log), fed once per frame.

    Args:
        scene: The camera and its heatmap settings.
        class_names: The detector's class names, by class id.
        clock: Wall-clock UTC time, which dates the heatmap minutes.
        started: When the tracker run started (its ms since the epoch are the run's id).
    """

    def __init__(
        self,
        scene: Scene,
        class_names: Sequence[str],
        clock: Callable[[], datetime],
        started: datetime,
    ) -> None:
        source = EventSource(scene.camera.edge_node_id, scene.camera.id)
        self._heatmap = MinuteHeatmap(scene, clock) if scene.heatmap.enabled else None
        self._tracks = MinuteTracks(source, class_names, int(started.timestamp() * 1000))

    def add(self, taken_at: datetime, frame: Frame, detections: Detections) -> tuple[Envelope, ...]:
        """Record a frame; return the envelopes of the minutes it closed (often none)."""
        heat = self._heatmap.add(frame, detections) if self._heatmap is not None else None
        tracks = self._tracks.add(taken_at, frame, detections)
        return tracks if heat is None else (heat, *tracks)

    def flush(self) -> tuple[Envelope, ...]:
        """The last, partial minutes' envelopes (at the end of a run)."""
        heat = self._heatmap.flush() if self._heatmap is not None else None
        tracks = self._tracks.flush()
        return tracks if heat is None else (heat, *tracks)


@dataclass(slots=True)
class _Samples:
    class_name: str
    t: list[float] = field(default_factory=list)
    rows: list[list[int]] = field(default_factory=list)


class TrackAssembler:
    """Gathers ``tracks.minute`` payloads of one camera back into whole trajectories.

    Args:
        origin: The instant trajectory times count from (seconds since it).
    """

    def __init__(self, origin: datetime) -> None:
        self._origin = origin
        self._tracks: dict[tuple[int, int], _Samples] = {}
        self.samples = 0
        """Samples read so far."""

    def __len__(self) -> int:
        return len(self._tracks)

    def add(self, timestamp: datetime, payload: Mapping[str, object]) -> None:
        """Add one event's samples (its ``timestamp`` is its minute); malformed rows are skipped."""
        base = (timestamp - self._origin).total_seconds()
        run, classes, rows = payload.get("run"), payload.get("classes"), payload.get("tracks")
        if not isinstance(run, int) or not isinstance(classes, list | tuple):
            return
        for row in rows if isinstance(rows, list | tuple) else ():
            if not isinstance(row, list | tuple) or len(row) < 6 or (len(row) - 2) % 4:
                continue
            index = row[1]
            if not isinstance(index, int):
                continue
            name = str(classes[index]) if 0 <= index < len(classes) else str(index)
            track = self._tracks.setdefault((run, int(row[0])), _Samples(name))
            for i in range(2, len(row), 4):
                track.t.append(base + row[i] / _TICKS)
                track.rows.append([int(v) for v in row[i + 1 : i + 4]])
            self.samples += (len(row) - 2) // 4

    def trajectories(
        self,
        class_ids: Mapping[str, int],
        *,
        classes: Collection[str] | None = None,
        started: tuple[float, float] | None = None,
        skip: Collection[tuple[int, int]] = (),
    ) -> list[Trajectory]:
        """The trajectories gathered, each sorted by time (one sample per instant).

        Args:
            class_ids: Class id of each class name (unknown names get none: skipped).
            classes: Only tracks of these class names (``None``: all).
            started: Only tracks whose first sample lies in ``[start, end)`` seconds.
            skip: Tracks (``(run, track_id)``) left out.
        """
        out: list[Trajectory] = []
        for number, (key, samples) in enumerate(self._tracks.items()):
            class_id = class_ids.get(samples.class_name)
            if class_id is None or (classes is not None and samples.class_name not in classes):
                continue
            if key in skip:
                continue
            t = np.asarray(samples.t, dtype=np.float64)
            order = np.argsort(t, kind="stable")
            t = t[order]
            keep = np.concatenate(([True], np.diff(t) > 0))
            if started is not None and not started[0] <= t[0] < started[1]:
                continue
            values = np.asarray(samples.rows, dtype=np.float64)[order][keep]
            out.append(
                Trajectory(
                    track_id=number,
                    class_id=class_id,
                    t=t[keep],
                    xy=values[:, :2],
                    height=values[:, 2],
                )
            )
        return out

    def keys(self, started: tuple[float, float] | None = None) -> frozenset[tuple[int, int]]:
        """The tracks gathered, as ``(run, track_id)``; with ``started``, only those whose
        first sample lies in ``[start, end)`` seconds (a window's own tracks, not its tail's)."""
        if started is None:
            return frozenset(self._tracks)
        return frozenset(
            key for key, s in self._tracks.items() if started[0] <= min(s.t) < started[1]
        )

    def class_names(self) -> tuple[str, ...]:
        """The class names of the tracks gathered, sorted."""
        return tuple(sorted({s.class_name for s in self._tracks.values()}))


@dataclass(frozen=True, slots=True)
class TrackWindow:
    """One window of a camera's trajectory log, gathered (see ``track_windows``).

    Attributes:
        assembler: The window's tracks and those first seen in its tail.
        span: The window itself, in seconds from its start: ``(0, length)``.
        before: The previous window's own tracks, to skip (they were counted there).
    """

    assembler: TrackAssembler
    span: tuple[float, float]
    before: frozenset[tuple[int, int]]


async def track_windows(
    events: EventRepository,
    camera_id: str,
    since: datetime,
    until: datetime,
    *,
    window: timedelta,
    tail: timedelta,
    page: int = 500,
) -> AsyncIterator[TrackWindow]:
    """The trajectory log of ``[since, until)`` in windows of ``window``, each read ``tail`` on.

    A window's tracks are those whose first sample lies in it; they are followed
    into the tail, where the next window skips them (``before``), while tracks
    first seen in the tail are the next window's. A minute's log is dated at the
    minute's start, so each window reads from the minute that holds its start.
    """
    before: frozenset[tuple[int, int]] = frozenset()
    begin = since
    while begin < until:
        end = min(begin + window, until)
        assembler = TrackAssembler(begin)
        where = EventFilter(
            camera_id=camera_id,
            types=(TRACKS_TYPE,),
            since=begin.replace(second=0, microsecond=0),
            until=min(end + tail, until),
        )
        cursor: str | None = None
        while True:
            found = await events.query(where, limit=page, cursor=cursor)
            for envelope in found.items:
                assembler.add(envelope.timestamp, envelope.payload)
            cursor = found.next_cursor
            if cursor is None:
                break
            await asyncio.sleep(0)  # let the ingest and the API run between two pages
        span = (0.0, (end - begin).total_seconds())
        yield TrackWindow(assembler, span, before)
        before = assembler.keys(started=span)
        begin = end
