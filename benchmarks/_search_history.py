"""The recorded history of the search benchmark: real analyser events, replicated.

``record()`` runs Argus's analyser (yolov7-tiny at 416, the scene's tracker,
lines, zones, loitering, crowding and running) over ``vtest.avi`` with
``examples/vtest.yaml`` and ``bikes.mp4`` with ``examples/bikes.yaml`` from
``../shared/eval/media`` and keeps every event but the per-minute summaries,
with its offset from the start of the clip. The result is cached in the
temporary directory (the analyser takes minutes on two cores).

``History`` replicates those clips over eight cameras (four pedestrian
cameras on the vtest scene, four street cameras on the bikes scene) and 28
days before ``NOW``: copy ``k`` is the clip of camera ``k % 8`` started at a
seeded random minute. Every event keeps its payload; its id is its index in
26 digits (a valid ULID), and column arrays (camera, type, class, zone, line, direction, time, hour,
dwell) let the labelled rules of ``search_queries.json`` be evaluated with
numpy, independently of the search code.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks._common import REPO_ROOT, progress

__all__ = ["CAMERAS", "MEDIA", "NOW", "SCENES", "History", "Template", "record"]

MEDIA = REPO_ROOT.parent / "shared" / "eval" / "media"
SCENES = {"vtest": ("vtest.avi", "vtest.yaml"), "bikes": ("bikes.mp4", "bikes.yaml")}
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
"""The benchmark's present (a Monday); the site's time zone is UTC."""
DAYS = 28
CAMERAS: dict[str, tuple[str, str]] = {
    "cam-n": ("North gate", "vtest"),
    "cam-l": ("Library square", "vtest"),
    "cam-p": ("Park path", "vtest"),
    "cam-c": ("Campus east", "vtest"),
    "cam-m": ("Main street", "bikes"),
    "cam-k": ("Kerb side", "bikes"),
    "cam-b": ("Bridge road", "bikes"),
    "cam-d": ("Depot entrance", "bikes"),
}
_SKIPPED = {"heatmap.minute", "tracks.minute"}
_F = ("camera", "type", "class_name", "zone", "line", "direction")


@dataclass(frozen=True, slots=True)
class Template:
    """One recorded event: its type, payload and seconds from the clip's start."""

    type: str
    payload: dict[str, Any]
    offset: float


def _cache_file(max_frames: int | None) -> Path:
    stamp = "".join(
        f"{name}:{(MEDIA / video).stat().st_size}" for name, (video, _) in SCENES.items()
    )
    key = hashlib.sha256(f"{stamp}:{max_frames}".encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"argus-search-history-{key}.json"


def _analyse(video: Path, scene_file: Path, max_frames: int | None) -> list[Template]:
    from argus.bootstrap.container import build_container
    from argus.bootstrap.models import DetectorOptions
    from argus.config import Settings
    from argus.scene import load_scene
    from argus.services.analysis import Analyzer

    scene = load_scene(scene_file)
    container = build_container(Settings())
    spec = scene.detect
    detector = container.detector(
        DetectorOptions(
            model=spec.model,
            input_size=416,
            conf_threshold=spec.confidence,
            iou_threshold=spec.iou,
            classes=spec.classes,
        )
    )
    fps = container.frame_rate(video) or 10.0
    analyzer = Analyzer(scene, detector, container.tracker(scene.tracker, fps))
    made: list[Template] = []
    start: datetime | None = None
    for frame in analyzer.run(container.open_source(video), max_frames=max_frames):
        for envelope in frame.events:
            if envelope.type in _SKIPPED:
                continue
            start = start or envelope.timestamp
            offset = (envelope.timestamp - start).total_seconds()
            made.append(Template(envelope.type, dict(envelope.payload), offset))
    return made


def record(max_frames: int | None = None) -> dict[str, list[Template]]:
    """Each scene's events from the analyser (cached in the temporary directory)."""
    cache = _cache_file(max_frames)
    if cache.exists():
        raw = json.loads(cache.read_text())
        return {k: [Template(**t) for t in v] for k, v in raw.items()}
    made: dict[str, list[Template]] = {}
    for name, (video, scene) in SCENES.items():
        progress(f"search: analysing {video} with examples/{scene}")
        made[name] = _analyse(MEDIA / video, REPO_ROOT / "examples" / scene, max_frames)
    cache.write_text(json.dumps({k: [_plain(t) for t in v] for k, v in made.items()}))
    return made


def _plain(t: Template) -> dict[str, Any]:
    return {"type": t.type, "payload": t.payload, "offset": t.offset}


@dataclass(frozen=True, slots=True)
class Copy:
    """One replicated clip: which camera, when it starts, the index of its first event."""

    camera_id: str
    start: datetime
    first: int


class History:
    """Recorded clips replicated over cameras and days up to ``size`` events.

    Args:
        templates: Each scene's recorded events.
        size: How many events to make (the last copy is cut).
        seed: Seed of the start times.
    """

    def __init__(self, templates: Mapping[str, list[Template]], size: int, seed: int = 21) -> None:
        rng = np.random.default_rng(seed)
        self.templates = templates
        self.size = size
        self.copies: list[Copy] = []
        cameras = list(CAMERAS)
        total = 0
        k = 0
        while total < size:
            camera_id = cameras[k % len(cameras)]
            clip = templates[CAMERAS[camera_id][1]]
            span = clip[-1].offset if clip else 0.0
            latest = DAYS * 86_400 - span - 60
            start = (
                NOW
                - timedelta(days=DAYS)
                + timedelta(minutes=int(rng.integers(0, int(latest // 60))))
            )
            self.copies.append(Copy(camera_id, start, total))
            total += len(clip)
            k += 1
        self._columns = self._build_columns()

    def events(self) -> Iterator[tuple[str, str, str, datetime, dict[str, Any]]]:
        """``(event_id, camera_id, type, time, payload)`` in index order, ``size`` of them."""
        for copy in self.copies:
            clip = self.templates[CAMERAS[copy.camera_id][1]]
            for j, t in enumerate(clip):
                index = copy.first + j
                if index >= self.size:
                    return
                when = copy.start + timedelta(seconds=t.offset)
                yield f"{index:026d}", copy.camera_id, t.type, when, t.payload

    def _build_columns(self) -> dict[str, npt.NDArray[Any]]:
        cols: dict[str, list[Any]] = {f: [] for f in (*_F, "time", "dwell")}
        for _, camera_id, kind, when, payload in self.events():
            cols["camera"].append(camera_id)
            cols["type"].append(kind)
            for name in ("class_name", "zone", "line", "direction"):
                cols[name].append(str(payload.get(name) or ""))
            cols["time"].append(when.timestamp())
            cols["dwell"].append(float(payload.get("dwell_seconds") or 0.0))
        arrays: dict[str, npt.NDArray[Any]] = {f: np.asarray(cols[f]) for f in _F}
        arrays["time"] = np.asarray(cols["time"], dtype=np.float64)
        arrays["dwell"] = np.asarray(cols["dwell"], dtype=np.float64)
        arrays["hour"] = ((arrays["time"] // 3600) % 24).astype(np.int64)
        return arrays

    def relevant(self, rule: Mapping[str, Any]) -> npt.NDArray[np.bool_]:
        """The events a labelled rule calls relevant (a mask over event indexes)."""
        c = self._columns
        mask = np.ones(len(c["time"]), dtype=bool)
        for key, column in (
            ("cameras", "camera"),
            ("types", "type"),
            ("classes", "class_name"),
            ("zones", "zone"),
            ("lines", "line"),
            ("directions", "direction"),
        ):
            if key in rule:
                mask &= np.isin(c[column], rule[key])
        if "since" in rule:
            mask &= c["time"] >= datetime.fromisoformat(rule["since"]).timestamp()
        if "until" in rule:
            mask &= c["time"] < datetime.fromisoformat(rule["until"]).timestamp()
        if "hours" in rule:
            start, end = rule["hours"]
            h = c["hour"]
            mask &= (h >= start) & (h < end) if start < end else (h >= start) | (h < end)
        if "min_dwell" in rule:
            mask &= c["dwell"] >= rule["min_dwell"]
        return mask
