"""Rule suggestions on a replayed history with known false positives.

The history is one camera's line-crossing rule, reviewed alert by alert:

* **True alerts** are real: every ground-truth track of the six MOT sequences
  in ``../shared/eval/mot`` (TUD-Campus, TUD-Stadtmitte, MOT17-02/04/11/13)
  that crosses the frame's vertical midline, whose box at the crossing frame
  a public detection matches (IoU >= 0.5); the event's confidence is that
  detection's score and its position the box's foot point (normalised).
* **False positives** come in four patterns, two real and two injected:
  ``detector``: the public detections of those sequences that overlap no
  ground-truth box (IoU < 0.1, every 5th frame), with their real score and
  position; ``low score``: ghosts scored 0.25-0.45 (as when a camera's
  detector threshold was set too low); ``night glare``: detections between
  01:00 and 04:59 with scores drawn from the true alerts' and random
  positions; ``flag``: detections in one corner (x 0.85-0.95, y 0.05-0.20),
  true-alert scores, any hour.

Each day replays 8 true alerts (hours weighted to the day, as foot traffic is)
and 2 false positives of each pattern, all seeded. Suggestions are computed
by the real ``RuleSuggestions`` service over an in-memory store from the
first half (each event carries the object's foot point as ``point``, as the
pipeline writes it); their effect is then measured on the second half, which
they never saw, by replaying its events through the changed rule
(``RuleEngine``; the exclusion zone as the rule's ``exclude_areas``). Reference
rows measured in the same run: the rule unchanged, and a naive threshold at
the false positives' median score.
"""

from __future__ import annotations

import asyncio
import collections
import configparser
import itertools
import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argus.adapters.db.memory import MemoryDatabase
from argus.domain.actor import Actor
from argus.domain.alerts import Alert, Risk
from argus.domain.event_payloads import LineCrossed, TracksMinute
from argus.domain.events import Envelope, EventSource, new_event_id
from argus.domain.exclusion_areas import check_areas
from argus.domain.rule_suggestions import RuleSuggestion
from argus.domain.rules import Rule, RuleEngine, Schedule
from argus.services.alert_rules import RuleService
from argus.services.risk_policy import RiskPolicyService
from argus.services.rule_suggestions import RuleSuggestions
from benchmarks._common import REPO_ROOT, Section, markdown_table, run_main

__all__ = ["TITLE", "Sample", "main", "replay", "run"]

TITLE = "Rule suggestions from false-positive verdicts"
MOT = REPO_ROOT.parent / "shared" / "eval" / "mot"
SEQUENCES = (
    "TUD-Campus",
    "TUD-Stadtmitte",
    "MOT17-02-FRCNN",
    "MOT17-04-FRCNN",
    "MOT17-11-FRCNN",
    "MOT17-13-FRCNN",
)
PATTERNS = ("detector", "low score", "night glare", "flag")
HOUR_WEIGHTS = (
    *(0.3,) * 6,
    1.0,
    *(3.0,) * 3,
    *(2.5,) * 7,
    *(3.0,) * 3,
    *(1.5,) * 3,
    0.6,
)
START = datetime(2026, 1, 5, tzinfo=UTC)
CAMERA = "cam-bench"


@dataclass(frozen=True, slots=True)
class Sample:
    """One reviewed alert of the replay: truth, pattern, score, foot point, time."""

    true_alert: bool
    pattern: str
    confidence: float
    position: tuple[float, float]
    at: datetime


def _rows(path: Path) -> dict[int, list[list[float]]]:
    out: dict[int, list[list[float]]] = collections.defaultdict(list)
    for line in path.read_text().splitlines():
        values = line.strip().split(",")
        out[int(values[0])].append([float(v) for v in values[1:]])
    return out


def _iou(a: list[float], b: list[float]) -> float:
    w = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _foot(box: list[float], width: int, height: int) -> tuple[float, float]:
    x = (box[0] + box[2] / 2) / width
    y = (box[1] + box[3]) / height
    return (min(1.0, max(0.0, x)), min(1.0, max(0.0, y)))


def real_events() -> tuple[
    list[tuple[float, tuple[float, float]]], list[tuple[float, tuple[float, float]]]
]:
    """``(score, foot point)`` of the real crossings and of the detector's real false positives."""
    crossings: list[tuple[float, tuple[float, float]]] = []
    ghosts: list[tuple[float, tuple[float, float]]] = []
    for name in SEQUENCES:
        root = MOT / name
        info = configparser.ConfigParser()
        info.read(root / "seqinfo.ini")
        width, height = int(info["Sequence"]["imWidth"]), int(info["Sequence"]["imHeight"])
        truth, detections = _rows(root / "gt" / "gt.txt"), _rows(root / "det" / "det.txt")
        tracks: dict[int, list[tuple[int, list[float]]]] = collections.defaultdict(list)
        for frame, rows in truth.items():
            for row in rows:
                if row[5] == 1 and row[6] == 1:
                    tracks[int(row[0])].append((frame, row[1:5]))
        for samples in tracks.values():
            samples.sort(key=lambda s: s[0])
            for (_, before), (frame, box) in itertools.pairwise(samples):
                if (before[0] + before[2] / 2 < width / 2) != (box[0] + box[2] / 2 < width / 2):
                    best = max(detections[frame], key=lambda d: _iou(box, d[1:5]), default=None)
                    if best is not None and _iou(box, best[1:5]) >= 0.5:
                        crossings.append((best[5], _foot(box, width, height)))
                    break
        for frame in sorted(detections)[::5]:
            for d in detections[frame]:
                if max((_iou(d[1:5], g[1:5]) for g in truth[frame]), default=0.0) < 0.1:
                    ghosts.append((d[5], _foot(d[1:5], width, height)))
    return crossings, ghosts


def replay(days: int, seed: int = 21) -> list[Sample]:
    """The seeded history: 8 true alerts and 2 false positives of each pattern a day."""
    rng = random.Random(seed)
    crossings, ghosts = real_events()
    scores = [c for c, _ in crossings]
    out: list[Sample] = []
    for day in range(days):
        base = START + timedelta(days=day)

        def at(hour: int, base: datetime = base) -> datetime:
            return base + timedelta(hours=hour, seconds=rng.randrange(3600))

        for _ in range(8):
            score, foot = rng.choice(crossings)
            hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
            out.append(Sample(True, "true", score, foot, at(hour)))
        for _ in range(2):
            score, foot = rng.choice(ghosts)
            out.append(Sample(False, "detector", score, foot, at(rng.randrange(24))))
            rand = (rng.random(), rng.random())
            out.append(
                Sample(False, "low score", rng.uniform(0.25, 0.45), rand, at(rng.randrange(24)))
            )
            glare = (rng.random(), rng.random())
            out.append(
                Sample(False, "night glare", rng.choice(scores), glare, at(rng.randrange(1, 5)))
            )
            flag = (rng.uniform(0.85, 0.95), rng.uniform(0.05, 0.2))
            out.append(Sample(False, "flag", rng.choice(scores), flag, at(rng.randrange(24))))
    return sorted(out, key=lambda s: s.at)


def _envelope(n: int, s: Sample) -> Envelope:
    event = LineCrossed("mid", n, 0, "person", "in", 1.0, confidence=round(s.confidence, 4))
    envelope = Envelope.wrap(event, EventSource("edge-1", CAMERA), s.at, new_event_id(s.at))
    point = [round(s.position[0], 4), round(s.position[1], 4)]
    return replace(envelope, payload={**envelope.payload, "point": point})


async def _suggest(history: list[Sample], rule: Rule, now: datetime) -> list[RuleSuggestion]:
    db = MemoryDatabase()
    await db.rules.add(rule)
    source = EventSource("edge-1", CAMERA)
    for n, s in enumerate(history, start=1):
        envelope = _envelope(n, s)
        await db.events.add(envelope)
        minute = s.at.replace(second=0, microsecond=0)
        tenths = int((s.at - minute).total_seconds() * 10)
        row = (n, 0, tenths, round(s.position[0] * 1000), round(s.position[1] * 1000), 100)
        log = TracksMinute(1000, 1000, 1, 0, 0, ("person",), (row,))
        await db.events.add(Envelope.wrap(log, source, minute, new_event_id(minute)))
        await db.alerts.add(
            Alert(
                id=f"a{n:05d}",
                rule_id=rule.id,
                rule_name=rule.name,
                camera_id=CAMERA,
                event_id=envelope.event_id,
                event_type=envelope.type,
                event_time=s.at,
                risk=Risk(0.5, ()),
                created_at=s.at,
                updated_at=s.at,
                state="confirmed" if s.true_alert else "false_positive",
                class_name="person",
                track_id=n,
            )
        )

    def clock() -> datetime:
        return now

    service = RuleSuggestions(
        db,
        RuleService(db, clock, 0.0),
        RiskPolicyService(db, clock),
        days=(now - START).total_seconds() / 86_400,
        clock=clock,
    )
    found = await service.refresh(Actor(None, name="benchmark"))
    return [f.suggestion for f in found]


def _kept_by_rule(rule: Rule, samples: list[Sample]) -> list[bool]:
    engine = RuleEngine([rule])
    return [bool(engine.evaluate(_envelope(n, s))) for n, s in enumerate(samples, start=1)]


def _shares(samples: list[Sample], held: list[bool]) -> list[str]:
    fps = [h for s, h in zip(samples, held, strict=True) if not s.true_alert]
    tps = [h for s, h in zip(samples, held, strict=True) if s.true_alert]
    per = [
        f"{sum(h for s, h in zip(samples, held, strict=True) if s.pattern == p)}"
        f"/{sum(1 for s in samples if s.pattern == p)}"
        for p in PATTERNS
    ]
    return [f"{100 * sum(fps) / len(fps):.0f}%", f"{100 * sum(tps) / max(1, len(tps)):.0f}%", *per]


def run(quick: bool) -> Section:
    """Compute suggestions on the first half of the replay and measure them on the second."""
    if not (MOT / SEQUENCES[0] / "gt" / "gt.txt").exists():
        return Section(TITLE, f"*Skipped: {MOT} is absent (the shared evaluation data).*")
    days = 14 if quick else 28
    samples = replay(days)
    split = START + timedelta(days=days // 2)
    history = [s for s in samples if s.at < split]
    later = [s for s in samples if s.at >= split]
    rule = Rule(
        id="bench-rule",
        name="Midline",
        created_at=START,
        updated_at=START,
        camera_id=CAMERA,
        event_types=("line.crossed",),
        classes=("person",),
    )
    found = asyncio.run(_suggest(history, rule, split))
    changes: dict[str, Rule] = {}
    rows: list[list[str]] = []
    base_kept = _kept_by_rule(rule, later)
    rows.append(
        ["rule unchanged (reference)", "-", "-", *_shares(later, [not k for k in base_kept])]
    )
    median = statistics.median(s.confidence for s in history if not s.true_alert)
    naive = replace(rule, min_confidence=round(median, 2))
    rows.append(
        [
            f"naive threshold {median:.2f} (FPs' median score)",
            "-",
            "-",
            *_shares(later, [not k for k in _kept_by_rule(naive, later)]),
        ]
    )
    for f in found:
        if f.kind == "threshold":
            value = f.change["min_confidence"]
            assert isinstance(value, float)
            changes[f.kind] = changed = replace(rule, min_confidence=value)
            held = [not k for k in _kept_by_rule(changed, later)]
        elif f.kind == "schedule":
            schedule = Schedule.from_dict(f.change["schedule"])
            changes[f.kind] = changed = replace(rule, schedule=schedule)
            held = [not k for k in _kept_by_rule(changed, later)]
        else:
            areas = check_areas([f.change["polygon"]])
            changes[f.kind] = changed = replace(rule, exclude_areas=areas)
            held = [not k for k in _kept_by_rule(changed, later)]
        effect = f.effect
        expected = (
            f"{100 * effect.false_positives / effect.false_positive_total:.0f}%",
            f"{100 * effect.confirmed_lost / max(1, effect.confirmed_total):.0f}%",
        )
        rows.append([f"{f.kind}: {_describe(f.change)}", *expected, *_shares(later, held)])
    both = rule
    if "threshold" in changes:
        both = replace(both, min_confidence=changes["threshold"].min_confidence)
    if "schedule" in changes:
        both = replace(both, schedule=changes["schedule"].schedule)
    if "exclusion_zone" in changes:
        both = replace(both, exclude_areas=changes["exclusion_zone"].exclude_areas)
    kept = _kept_by_rule(both, later)
    rows.append(
        [
            "every suggestion applied: " + " + ".join(sorted(changes)),
            "-",
            "-",
            *_shares(later, [not k for k in kept]),
        ]
    )
    headers = [
        "change",
        "history: FPs suppressed",
        "history: true lost",
        "later: FPs suppressed",
        "later: true lost",
        *(f"later {p}" for p in PATTERNS),
    ]
    fps_later = sum(1 for s in later if not s.true_alert)
    crossings, ghosts = real_events()
    body = (
        f"Drawn from {len(crossings)} real crossings and {len(ghosts)} real detector false "
        "positives (MOT ground truth and public detections). "
        f"{len(history)} reviewed alerts over {days // 2} days (suggestions computed on them), "
        f"measured on the next {days - days // 2} days: {len(later)} alerts, "
        f"{sum(1 for s in later if s.true_alert)} true, {fps_later} false positives. "
        "Per-pattern columns: false positives of that pattern suppressed / present.\n\n"
        + markdown_table(headers, rows)
    )
    combined = rows[-1]
    headline = [
        f"rule_suggestions: on held-out days, {combined[0]} suppress {combined[3]} of false "
        f"positives and lose {combined[4]} of true alerts"
    ]
    return Section(TITLE, body, headline)


def _describe(change: Mapping[str, object]) -> str:
    if "min_confidence" in change:
        return f"min_confidence {change['min_confidence']}"
    schedule = change.get("schedule")
    if isinstance(schedule, dict):
        return f"active {schedule['start']}-{schedule['end']} {schedule['timezone']}"
    points = change.get("polygon")
    assert isinstance(points, list)
    return "rectangle " + " ".join(f"({x:.2f},{y:.2f})" for x, y in points)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.rule_suggestions``."""
    return run_main("Rule suggestions measured on a replayed history.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
