"""Workstation clients per box at 1 frame/s, before and after the capacity optimisations.

Three configurations, measured in the same run on the same machine:

* **before**: every optimisation off (:meth:`AnalysisTuning.baseline`: CenterFace at
  640 on every frame, yolov7-tiny on every frame, a descriptor on every frame, one
  frame at a time) with ONNX Runtime choosing its threads (one per core), as shipped
  before issue 22;
* **after**: the shipped defaults (``config/workstation.py``: adaptive face side
  320 then 640, the device detector every 5 frames or when the face moves, the
  descriptor reused while the face holds still and at least every 5 s, the
  liveness window scored every other frame while clearly live, batches of up to 8
  clients' frames) with one ONNX Runtime thread per model (no thread pool, so no
  spinning threads; two pipelines use the two cores);
* **after, ORT threads: 1 per core**: the same with ONNX Runtime's default threads
  (the thread choice, measured).

Per stage: each configuration analyses the shared clips (the Hamilton close-up,
frames 85-210, and ``carphone_pristine.mp4``, every third frame) in this process,
one client at a time; the table gives the mean CPU time per frame of each stage
(``time.process_time``: ONNX Runtime's threads included) and the decision
sequences of the configurations are compared.

Capacity: N simulated clients, each sending the Hamilton close-up as 640x360 JPEG
(quality 90) at 1 frame/s from a random phase, go through the real
:class:`~argus.services.verify_pipeline.Pipeline` (two pipelines, one per core,
clients spread evenly; the models are loaded before timing). Each frame is timed
from its arrival to its decision; a frame replaced in a client's queue by a newer
one counts as dropped. N grows until the p95 passes 1 s or a frame is dropped; the
largest N that passed is the box's capacity. Time to first decision: at every
level a new client joins halfway through; its first frame is timed to its decision.
Another process busy on the same cores distorts the latencies: the share of the
machine other processes used is printed per level.

Then the same over the real ``/ws/verify`` server in a child process
(``benchmarks/_verify_socket_load.py``), *before* by settings that turn every
optimisation off, *after* with the shipped settings (2 pipelines x 12 clients,
packed by the hub as in production).

A quiet box is also modelled from the measured CPU time of each frame
(``_modelled``): the figure that holds when other processes share the cores.

    python -m benchmarks.verify_capacity [--quick]
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from argus.adapters.face.images import decode_image
from argus.bootstrap.models import verification_models
from argus.config import Settings
from argus.domain.faces import EnrolledFaces
from argus.domain.phone import PhoneRules
from argus.domain.verification import VerificationPolicy
from argus.domain.workstations import VerifyClient
from argus.services.verification import Analysis, FrameAnalyzer, VerificationModels
from argus.services.verify_pipeline import Decided, Frame, Pipeline, VerifySession
from argus.services.verify_tuning import AnalysisTuning
from benchmarks._common import (
    Section,
    busy_cpu_seconds,
    fmt_ms,
    markdown_table,
    other_cpu_share,
    own_cpu_seconds,
    progress,
    quantile,
    run_main,
)
from benchmarks._verify_socket_load import socket_loads
from benchmarks.spoof_attacks import EVAL_DIR, bona_fide_clips

__all__ = ["Config", "Load", "main", "run"]

Image = npt.NDArray[np.uint8]
PIPELINES = 2
"""One pipeline per core of the 2-core reference box."""
STAGES = ("decode", "faces", "embed", "objects", "liveness", "decide")
BUSY = 0.7
WARM_UP = 5.0
"""Seconds of a modelled run left out of its statistics."""
"""Share of the cores the CPU-time estimate lets the analysis use (the rest: headroom)."""


@dataclass(frozen=True)
class Config:
    """One configuration measured: its name, optimisations and ONNX Runtime threads."""

    name: str
    optimised: bool
    threads: int


SOCKET_ENV = {
    "before": {
        "ARGUS_WORKSTATION_FACE_SMALL_SIDE": "0",
        "ARGUS_WORKSTATION_OBJECTS_EVERY": "1",
        "ARGUS_WORKSTATION_REVERIFY_S": "0",
        "ARGUS_WORKSTATION_LIVENESS_EVERY": "1",
        "ARGUS_WORKSTATION_BATCH": "1",
        "ARGUS_WORKSTATION_MODEL_THREADS": "0",
        "ARGUS_WORKSTATION_CLIENTS_PER_PIPELINE": "16",
    },
    "after": {},
}
"""The server's settings per configuration (``after``: the shipped defaults, 2 x 12)."""

CONFIGS = (
    Config("before", False, 0),
    Config("after", True, 1),
    Config("after, ORT threads: 1 per core", True, 0),
)
"""The third shows the thread choice: each model on all cores, two pipelines at once."""


@dataclass
class Load:
    """What one load level measured.

    Attributes:
        clients: Simulated clients.
        latencies: Arrival → decision of every timed frame (s).
        dropped: Frames replaced in a queue before being analysed.
        sent: Frames sent in the timed span.
        first: A new client's first frame → decision under this load (s).
        others: Share of the machine other processes used in the timed span.
    """

    clients: int
    latencies: list[float] = field(default_factory=list)
    dropped: int = 0
    sent: int = 0
    first: float | None = None
    others: float = 0.0

    @property
    def passed(self) -> bool:
        """p95 under 1 s and nothing dropped."""
        return bool(self.latencies) and self.dropped == 0 and quantile(self.latencies, 0.95) < 1


def _jpeg(image: Image) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return bytes(data.tobytes())


def _models(data_dir: Path, config: Config) -> VerificationModels:

    settings = Settings(data_dir=data_dir, workstation_model_threads=config.threads)
    models = verification_models(settings)
    if not config.optimised:
        models = dataclasses.replace(models, tuning=AnalysisTuning.baseline())
    return models


def _enrol(models: VerificationModels, frames: Sequence[Image]) -> EnrolledFaces:

    references = []
    for image in (frames[0], frames[len(frames) // 3], frames[2 * len(frames) // 3]):
        face = models.faces.detect(image).largest()
        assert face is not None
        references.append(models.embedder.embed(image, face))
    return EnrolledFaces.of({"user": references})


def _stages(
    models: VerificationModels, clips: dict[str, list[Image]]
) -> tuple[dict[str, float], list[str], list[float]]:
    """Mean CPU seconds per frame of each stage (and wall), the decisions, and the CPU
    seconds of each frame of the first clip.

    One client per clip at 1 frame/s; the stages are timed with ``time.process_time``
    (the whole process's CPU time, ONNX Runtime's own threads included), which other
    processes on the machine distort less than wall time.
    """
    totals = dict.fromkeys((*STAGES, "total", "cpu"), 0.0)
    decisions: list[str] = []
    service: list[float] = []
    frames = 0
    for clip, frames_of_clip in enumerate(clips.values()):
        enrolled = _enrol(models, frames_of_clip)
        analyzer = FrameAnalyzer(models, enrolled, clock=time.process_time)
        for i, image in enumerate(frames_of_clip):
            data = _jpeg(image)
            cpu = time.process_time()
            started = time.perf_counter()
            decoded = decode_image(data)
            decoded_at = time.process_time()
            analysis = analyzer.analyze(decoded, float(i))
            totals["total"] += time.perf_counter() - started
            totals["cpu"] += time.process_time() - cpu
            if clip == 0:
                service.append(time.process_time() - cpu)
            totals["decode"] += decoded_at - cpu
            for name, seconds in analysis.stages.items():
                totals[name] += seconds
            reasons = ",".join(r.value for r in analysis.decision.reasons)
            decisions.append(f"{analysis.decision.action.value}:{reasons}")
            frames += 1
    return {k: v / frames for k, v in totals.items()}, decisions, service


def _modelled(service: Sequence[float], clients: int, seconds: float = 300.0) -> Load:
    """A quiet box, modelled: the frames' measured CPU times served by the scheduler.

    Each of the ``PIPELINES`` pipelines is one core serving its clients round robin
    (one frame per client per round, one frame at a time: batching's gain is left
    out), the clients spread evenly, each sending at 1 frame/s from a random phase
    into a queue of 2 that drops its oldest frame. A client's frames cost the CPU
    times measured for the clip's frames in order, from a random start.
    """
    rng = random.Random(clients)
    load = Load(clients)
    for p in range(PIPELINES):
        members = list(range(p, clients, PIPELINES))
        arrivals = sorted((rng.random() + k, c) for c in members for k in range(int(seconds)))
        queues: dict[int, list[float]] = {c: [] for c in members}
        start = {c: rng.randrange(len(service)) for c in members}
        served = dict.fromkeys(members, 0)
        now, i = 0.0, 0
        while i < len(arrivals) or any(queues.values()):
            while i < len(arrivals) and arrivals[i][0] <= now:
                at, c = arrivals[i]
                i += 1
                if len(queues[c]) == 2:
                    queues[c].pop(0)
                    load.dropped += at >= WARM_UP
                queues[c].append(at)
                load.sent += at >= WARM_UP
            ready = [c for c in members if queues[c]]
            if not ready:
                now = arrivals[i][0]
                continue
            for c in ready:
                at = queues[c].pop(0)
                now += service[(start[c] + served[c]) % len(service)]
                served[c] += 1
                if at >= WARM_UP:
                    load.latencies.append(now - at)
    return load


def _pipelines(models: list[VerificationModels], decided: Decided) -> list[Pipeline]:
    """One real pipeline per set of models (already loaded: the factory returns them)."""

    pipelines: list[Pipeline] = []
    for i, built in enumerate(models):
        pipelines.append(
            Pipeline(
                i,
                models=lambda built=built: built,  # type: ignore[misc]
                decode=decode_image,
                policy=VerificationPolicy(),
                phone=PhoneRules(),
                decided=decided,
            )
        )
    return pipelines


async def _simulate(
    models: list[VerificationModels],
    enrolled: EnrolledFaces,
    frames: list[bytes],
    clients: int,
    seconds: float,
) -> Load:
    """``clients`` at 1 frame/s through real pipelines; then one more client joins."""

    load = Load(clients)
    firsts: dict[str, float] = {}
    warm_until = time.monotonic() + 3.0

    async def decided(session: VerifySession, frame: Frame, analysis: Analysis) -> None:
        del analysis
        now = time.monotonic()
        firsts.setdefault(session.client_id, now - frame.received)
        if frame.received >= warm_until:
            load.latencies.append(now - frame.received)

    pipelines = _pipelines(models, decided)

    def session(name: str, pipeline: Pipeline) -> VerifySession:
        client = VerifyClient(name, name, "0" * 64, ("user",), datetime.now(UTC))
        made = VerifySession(client, enrolled, 2)
        pipeline.attach(made)
        return made

    sessions = [session(f"c{i}", pipelines[i % len(pipelines)]) for i in range(clients)]
    rng = random.Random(clients)
    stop = warm_until + seconds

    async def client(made: VerifySession, pipeline: Pipeline, phase: float) -> None:
        await asyncio.sleep(phase)
        n = rng.randrange(len(frames))
        while (now := time.monotonic()) < stop:
            before = made.dropped
            made.push(frames[n % len(frames)], now)
            if now >= warm_until:
                load.sent += 1
                load.dropped += made.dropped - before
            pipeline.wake()
            n += 1
            await asyncio.sleep(1.0 - (time.monotonic() - now) % 1.0)

    tasks = [
        asyncio.create_task(client(s, pipelines[i % len(pipelines)], rng.random()))
        for i, s in enumerate(sessions)
    ]
    await asyncio.sleep(3.0)
    busy, own, started = busy_cpu_seconds(), own_cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds / 2)
    newcomer = session("new", pipelines[0])
    newcomer.push(frames[0], time.monotonic())
    pipelines[0].wake()
    await asyncio.gather(*tasks)
    busy, own = busy_cpu_seconds() - busy, own_cpu_seconds() - own
    load.others = other_cpu_share(busy, own, time.monotonic() - started, os.cpu_count() or 1)
    await asyncio.sleep(1.5)
    for pipeline in pipelines:
        await pipeline.stop()
    load.first = firsts.get("new")
    return load


async def _cold(data_dir: Path, enrolled: EnrolledFaces, frame: bytes) -> float:
    """A new pipeline (models not loaded) and its first client's first frame → decision."""
    done = asyncio.get_running_loop().create_future()

    async def decided(session: VerifySession, frame: Frame, analysis: Analysis) -> None:
        del session, analysis
        done.set_result(time.monotonic() - frame.received)

    settings = Settings(data_dir=data_dir, workstation_model_threads=CONFIGS[1].threads)
    pipeline = Pipeline(
        0,
        models=lambda: verification_models(settings),
        decode=decode_image,
        policy=VerificationPolicy(),
        phone=PhoneRules(),
        decided=decided,
    )
    client = VerifyClient("first", "first", "0" * 64, ("user",), datetime.now(UTC))
    session = VerifySession(client, enrolled, 2)
    pipeline.attach(session)
    session.push(frame, time.monotonic())
    pipeline.wake()
    try:
        return float(await asyncio.wait_for(done, 60))
    finally:
        await pipeline.stop()


@dataclass
class Result:
    """The whole run's measurements.

    Attributes:
        stages: Mean seconds per frame by stage (``cpu``, ``total`` wall), by config.
        same_decisions: Every configuration decided the clips' frames alike.
        differences: The first frames decided otherwise than *before* (config, frame
            number over both clips, before's decision, the config's).
        decisions: Frames decided per configuration.
        loads: The load levels run, by config.
        modelled: The load levels of the quiet-box model, by config.
        cold_first: A new pipeline's first client: first frame → decision (s).
        seconds: Timed span per load level.
        socket: The load levels over ``/ws/verify``, by config (``others`` is 1 when a
            client was not assigned a pipeline).
    """

    stages: dict[str, dict[str, float]]
    same_decisions: bool
    differences: list[str]
    decisions: int
    loads: dict[str, list[Load]]
    modelled: dict[str, list[Load]]
    cold_first: float
    seconds: float
    socket: dict[str, list[Load]] = field(default_factory=dict)


def _measure(quick: bool) -> Result:
    if not (EVAL_DIR / "media" / "short_hamilton_clip.mp4").is_file():
        raise RuntimeError(f"{EVAL_DIR} is absent: ../shared/eval is only beside a checkout")
    clips = {clip.name: list(clip.frames) for clip in bona_fide_clips(3)}
    hamilton = clips["hamilton close-up"]
    jpegs = [_jpeg(f) for f in hamilton]
    seconds = 8.0 if quick else 20.0
    levels = [[4, 6, 8, 10, 12], [12, 16, 20, 24, 28, 32], [12, 16, 20, 24]]
    stages: dict[str, dict[str, float]] = {}
    sequences: dict[str, list[str]] = {}
    loads: dict[str, list[Load]] = {}
    modelled: dict[str, list[Load]] = {}
    with tempfile.TemporaryDirectory(prefix="argus-bench-capacity-") as tmp:
        data_dir = Path(tmp)
        progress("verify_capacity: building the packs")
        _models(data_dir, CONFIGS[1])
        progress("verify_capacity: a new pipeline's first decision")
        enrolled = _enrol(_models(data_dir, CONFIGS[1]), hamilton)
        cold_first = asyncio.run(_cold(data_dir, enrolled, jpegs[0]))
        for config, counts in zip(CONFIGS, levels, strict=True):
            progress(f"verify_capacity: stages, {config.name}")
            built = [_models(data_dir, config) for _ in range(PIPELINES)]
            stages[config.name], sequences[config.name], service = _stages(built[0], clips)
            modelled[config.name] = [_modelled(service, n) for n in range(2, 61, 2)]
            enrolled = _enrol(built[0], hamilton)
            loads[config.name] = []
            for clients in counts:
                progress(f"verify_capacity: {config.name}, {clients} clients, {seconds:.0f} s")
                load = asyncio.run(_simulate(built, enrolled, jpegs, clients, seconds))
                loads[config.name].append(load)
                if not load.passed:
                    break
        photos = [_jpeg(hamilton[i]) for i in (0, len(hamilton) // 3, 2 * len(hamilton) // 3)]
        socket: dict[str, list[Load]] = {}
        for name, env in SOCKET_ENV.items():
            counts = ([4] if quick else [4, 6, 8]) if name == "before" else [12, 20, 24]
            progress(f"verify_capacity: over /ws/verify, {name}, {counts} clients")
            socket[name] = [
                Load(n, latencies, dropped, sent, others=float(not assigned))
                for n, latencies, dropped, sent, assigned in socket_loads(
                    data_dir, env, photos, jpegs, levels=counts, seconds=seconds
                )
            ]
    same = all(sequence == sequences["before"] for sequence in sequences.values())
    differences = [
        f"{name} frame {i}: {a} / {b}"
        for name, sequence in sequences.items()
        for i, (a, b) in enumerate(zip(sequences["before"], sequence, strict=True))
        if a != b
    ][:6]
    return Result(
        stages,
        same,
        differences,
        len(sequences["after"]),
        loads,
        modelled,
        cold_first,
        seconds,
        socket,
    )


def _contiguous(loads: list[Load]) -> list[Load]:
    """The levels up to the first that failed (a later pass is luck)."""
    out = []
    for load in loads:
        out.append(load)
        if not load.passed:
            break
    return out


def _capacity(loads: list[Load]) -> int:
    passed = [load.clients for load in loads if load.passed]
    return max(passed) if passed else 0


def render(result: Result, quick: bool) -> Section:
    """Format the stage table, the load table and the capacity ratio."""
    del quick
    stage_rows = []
    for name, stages in result.stages.items():
        estimate = int(PIPELINES * BUSY / stages["cpu"]) if stages["cpu"] > 0 else 0
        stage_rows.append(
            [
                name,
                *(fmt_ms(stages[s]) for s in STAGES),
                fmt_ms(stages["total"]),
                fmt_ms(stages["cpu"]),
                str(estimate),
            ]
        )
    socket_rows = []
    for name, loads in result.socket.items():
        for load in loads:
            socket_rows.append(
                [
                    name,
                    str(load.clients),
                    str(load.sent),
                    str(load.dropped),
                    fmt_ms(quantile(load.latencies, 0.5)) if load.latencies else "-",
                    fmt_ms(quantile(load.latencies, 0.95)) if load.latencies else "-",
                    "no" if load.others else "yes",
                    "yes" if load.passed and not load.others else "no",
                ]
            )
    load_rows = []
    for name, loads in result.loads.items():
        for load in loads:
            p50 = fmt_ms(quantile(load.latencies, 0.5)) if load.latencies else "-"
            p95 = fmt_ms(quantile(load.latencies, 0.95)) if load.latencies else "-"
            load_rows.append(
                [
                    name,
                    str(load.clients),
                    str(load.sent),
                    str(load.dropped),
                    p50,
                    p95,
                    "-" if load.first is None else fmt_ms(load.first),
                    f"{100 * load.others:.0f} %",
                    "yes" if load.passed else "no",
                ]
            )
    before, after = _capacity(result.loads["before"]), _capacity(result.loads["after"])
    ratio = f"{after / before:.1f}x" if before else "n/a"
    model_rows = []
    for name, loads in result.modelled.items():
        at = {load.clients: load for load in loads}
        best = _capacity(_contiguous(loads))
        row = [name, str(best)]
        for n in (best, 20, 24):
            level = at.get(n)
            row.append(
                fmt_ms(quantile(level.latencies, 0.95)) if level and level.latencies else "-"
            )
            row.append(str(level.dropped) if level else "-")
        model_rows.append(row)
    m_before = _capacity(_contiguous(result.modelled.get("before", [])))
    m_after = _capacity(_contiguous(result.modelled.get("after", [])))
    m_ratio = f"{m_after / m_before:.1f}x" if m_before else "n/a"
    body = "\n".join(
        [
            "Per stage, in process, one client per shared clip (mean CPU ms per frame, "
            "ONNX Runtime's threads included; *wall*: mean wall time per frame; "
            f"{result.decisions} frames; decision sequences of all configurations "
            f"{'identical' if result.same_decisions else 'DIFFERENT'}"
            + ("" if result.same_decisions else f": {'; '.join(result.differences)}")
            + "):",
            "",
            markdown_table(["config", *STAGES, "wall", "CPU", "clients/box"], stage_rows),
            "",
            f"A quiet box, modelled from the measured CPU time of each frame ({PIPELINES} "
            "cores, one pipeline each, round robin, one frame at a time, queues of 2, "
            "300 s at 1 frame/s per client; see `_modelled`):",
            "",
            markdown_table(
                [
                    "config",
                    "clients/box",
                    "p95 ms there",
                    "dropped there",
                    "p95 ms at 20",
                    "dropped at 20",
                    "p95 ms at 24",
                    "dropped at 24",
                ],
                model_rows,
            ),
            "",
            f"Modelled clients per box: before {m_before}, after {m_after} ({m_ratio}).",
            "",
            f"Clients at 1 frame/s through {PIPELINES} pipelines (Hamilton close-up, "
            f"{result.seconds:.0f} s timed per level; frame arrival → decision):",
            "",
            markdown_table(
                [
                    "config",
                    "clients",
                    "frames",
                    "dropped",
                    "p50 ms",
                    "p95 ms",
                    "new client ms",
                    "others",
                    "passed",
                ],
                load_rows,
            ),
            "",
            f"Clients per box (p95 < 1 s, nothing dropped): before {before}, after "
            f"{after} ({ratio}). *new client*: a client joining halfway through the timed "
            "span, its first frame → decision (its analyzer is made then). *clients/box* "
            f"in the stage table: {PIPELINES} cores x {BUSY:.0%} / CPU time per frame (an "
            "estimate from CPU time, which contention from other processes distorts less "
            "than latency). The first client of a new pipeline (its models are loaded "
            "when the pipeline starts, the client's first frame waits for them) had its "
            f"first decision after {fmt_ms(result.cold_first)} ms.",
            "",
            "Over the real `/ws/verify` server (a child process; N clients sending the "
            f"Hamilton close-up at 1 frame/s, {result.seconds:.0f} s timed per level after "
            "5 s; frame sent → its decision read; *before*: every optimisation off by "
            "settings, *after*: the shipped settings, 2 pipelines x 12 clients):",
            "",
            markdown_table(
                [
                    "config",
                    "clients",
                    "frames",
                    "dropped",
                    "p50 ms",
                    "p95 ms",
                    "all assigned",
                    "passed",
                ],
                socket_rows,
            ),
        ]
    )
    headline = [
        f"verify capacity: {after} clients/box at 1 frame/s after, {before} before ({ratio}); "
        f"modelled on a quiet box: {m_after} after, {m_before} before ({m_ratio})"
    ]
    if result.socket:
        over = {
            name: _capacity([load for load in loads if not load.others])
            for name, loads in result.socket.items()
        }
        headline.append(
            f"verify capacity over /ws/verify: {over.get('after', 0)} clients after, "
            f"{over.get('before', 0)} before (largest passing level run)"
        )
    return Section("Workstation verification capacity", body, headline)


def run(quick: bool) -> Section:
    """Run the capacity benchmark and return its section."""
    return render(_measure(quick), quick)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.verify_capacity``."""
    return run_main("Workstation clients per box at 1 frame/s, before and after.", run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
