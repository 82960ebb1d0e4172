"""The benchmarks import and format fixed numbers correctly; nothing here is timed."""

from __future__ import annotations

import importlib
import math
import os

import pytest

from benchmarks import _common, decode, detector, model_build
from benchmarks._common import Section


@pytest.mark.parametrize(
    "module",
    [
        "benchmarks.decode",
        "benchmarks.detector",
        "benchmarks.model_build",
        "benchmarks.face",
        "benchmarks.tracker",
        "benchmarks.tracker_robustness",
        "benchmarks.counting",
        "benchmarks.pipeline",
        "benchmarks.ingest",
        "benchmarks.api_load",
        "benchmarks.live_video",
        "benchmarks.alert_latency",
        "benchmarks.security",
        "benchmarks.verify_socket",
        "benchmarks.verify_capacity",
        "benchmarks.edge_outbox",
        "benchmarks.tamper",
        "benchmarks.frame_cues",
        "benchmarks.retention",
        "benchmarks.notify",
        "benchmarks.phone_real",
        "benchmarks.model_eval",
        "benchmarks.text_encoder",
        "benchmarks.rule_suggestions",
        "benchmarks.search",
        "benchmarks.shared_inference",
        "benchmarks.recording",
        "benchmarks.motion_gating",
        "benchmarks.streams",
        "benchmarks.substreams",
        "benchmarks.decode_sampling",
    ],
)
def test_benchmark_modules_import_and_expose_run(module: str) -> None:
    loaded = importlib.import_module(module)
    assert callable(loaded.run)
    assert callable(loaded.main)


def test_main_module_lists_every_benchmark() -> None:
    main = importlib.import_module("benchmarks.__main__")
    assert list(main.BENCHMARKS)[:12] == [
        "decode",
        "detector",
        "model_build",
        "face",
        "tracker",
        "pipeline",
        "liveness",
        "ingest",
        "api",
        "live",
        "alert",
        "security",
    ]


def test_statistics_on_fixed_numbers() -> None:
    assert _common.median([3.0, 1.0, 2.0]) == 2.0
    assert _common.median([1.0, 2.0, 3.0, 10.0]) == 2.5
    assert math.isnan(_common.median([]))
    assert _common.quantile([1.0, 2.0, 3.0, 4.0, 5.0], 0.25) == 2.0
    assert _common.quantile([0.0, 10.0], 0.5) == 5.0
    with pytest.raises(ValueError, match="outside"):
        _common.quantile([1.0], 1.5)


def test_ratio_and_formatting() -> None:
    assert _common.ratio(11.0, 10.0) == pytest.approx(1.1)
    assert math.isnan(_common.ratio(1.0, 0.0))
    assert math.isnan(_common.ratio(math.nan, 1.0))
    assert _common.fmt_ratio(1.0449) == "1.04x"
    assert _common.fmt_ratio(math.nan) == "n/a"
    assert _common.fmt_ms(0.0123) == "12.3"


def test_markdown_table_layout() -> None:
    table = _common.markdown_table(["name", "value"], [["a", 1], ["long name", "22.5"]])
    assert table.splitlines() == [
        "| name      | value |",
        "| --------- | ----: |",
        "| a         |     1 |",
        "| long name |  22.5 |",
    ]
    with pytest.raises(ValueError, match="cells"):
        _common.markdown_table(["a", "b"], [["only one"]])


def test_cpu_model_from_cpuinfo_text() -> None:
    text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n"
    assert _common.cpu_model(text) == "AMD EPYC 7B13"
    assert _common.cpu_model("processor : 0\n") == "unknown"


def test_machine_info_names_the_versions() -> None:
    info = _common.machine_info()
    for key in ("date", "cpu", "cores", "python", "onnxruntime", "av (PyAV)", "opencv"):
        assert info[key]


def test_decode_render_ratios_against_opencv() -> None:
    results = [
        decode.DecodeResult(decode.REFERENCE, [100, 100, 100], [0.1, 0.1, 0.2]),
        decode.DecodeResult("Argus FileSource", [100, 100, 100], [0.2, 0.2, 0.2]),
    ]
    section = decode.render(results, "clip.avi")
    assert "| 1.00x |" in section.body.replace("  ", "")
    assert "0.50x" in section.body
    assert section.headline == ["decode: Argus FileSource 500 fps = 0.50x OpenCV (1000 fps)"]


def test_detector_render_overhead_and_goal() -> None:
    fast = detector.SizeResult(
        320,
        full=[0.021, 0.022, 0.023],
        bare=[0.020, 0.020, 0.020],
        preprocess=[0.001] * 3,
        postprocess=[0.0005] * 3,
        detections=[5, 7, 6],
    )
    slow = detector.SizeResult(
        640,
        full=[0.15, 0.15, 0.15],
        bare=[0.10, 0.10, 0.10],
        preprocess=[0.002] * 3,
        postprocess=[0.001] * 3,
        detections=[3, 3, 3],
    )
    assert fast.overhead == pytest.approx(1.1)
    assert fast.paired_overhead == pytest.approx(1.1)
    batch = detector.BatchResult(320, singles=[0.08, 0.08], batch=[0.06, 0.06], bare_batch=[0.05])
    section = detector.render([fast, slow], [batch], "settings")
    assert "1.10x" in section.body
    assert "1.50x" in section.body
    assert "0.75x" in section.body  # batch / singles
    assert section.headline[0].endswith("(goal <= 1.10: not met)")
    assert "320: 1.10x, 640: 1.50x" in section.headline[0]


def test_model_build_render_and_peak_parsing() -> None:
    load = [model_build.ChildRun(0.05, 100 * 1024, 80 * 1024, 0.4)]
    build = [model_build.ChildRun(0.50, 300 * 1024, 80 * 1024, 0.9)]
    section = model_build.render(model_build.Measurements(load, build, 75_000_000))
    assert "10.00x" in section.body
    assert "3.00x" in section.body  # peak RSS
    assert "11.00x" in section.body  # increment above imports: 220 / 20
    assert "74.8 MB" not in section.body
    assert "75.0 MB" in section.body
    status = "Name:\tpython\nVmPeak:\t  999 kB\nVmHWM:\t   4321 kB\n"
    assert model_build.peak_rss_kib(status) == (4321, "VmHWM")
    assert model_build.peak_rss_kib("Name:\tx\n")[1] == "ru_maxrss"


def test_report_puts_headline_first() -> None:
    sections = [Section("A", "body a", ["line a"]), Section("B", "body b")]
    report = _common.render_report(sections, {"cpu": "test"}, quick=True)
    assert report.index("## Headline") < report.index("## A") < report.index("## B")
    assert "- line a" in report
    assert "Quick run" in report


def test_contention_accounting_on_fixed_numbers() -> None:
    stat = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\n"
    tick = os.sysconf("SC_CLK_TCK")
    assert _common.busy_cpu_seconds(stat) == pytest.approx(150 / tick)
    assert math.isnan(_common.busy_cpu_seconds("intr 1 2 3\n"))
    # 10 s on 2 cores, 8 busy CPU-seconds of which 6 were ours: others used 10 %.
    assert _common.other_cpu_share(8.0, 6.0, 10.0, 2) == pytest.approx(0.1)
    assert _common.other_cpu_share(5.0, 6.0, 10.0, 2) == 0.0
    assert math.isnan(_common.other_cpu_share(math.nan, 1.0, 1.0, 2))


def test_tracker_benchmark_is_registered_and_renders_ratios() -> None:
    from pathlib import Path

    from argus.ports.tracker import MotScores
    from argus.services.mot import COMBINED, GroupReport, MotReport, TrackerResult
    from benchmarks import tracker

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["tracker"] is tracker.run
    assert callable(tracker.main)

    def result(hota: float, idf1: float, seconds: float) -> TrackerResult:
        return TrackerResult(
            scores={COMBINED: MotScores(hota, 60.0, idf1, 3)},
            seconds={"S": seconds},
            updates={"S": 100},
        )

    group = GroupReport(
        "MOT15",
        ("S",),
        {"argus": result(55.0, 80.0, 0.01), "ref-a": result(50.0, 80.0, 0.04)},
    )
    section = tracker.render(MotReport([group], {"argus": {"S": Path("S.txt")}}))
    assert "| argus" in section.body
    assert "10000" in section.body  # 100 updates in 0.01 s
    assert section.headline == [
        "tracker MOT15: HOTA 1.10x, IDF1 1.00x of the best reference (goal >= 1.00: met), "
        "updates/s 4.00x of the fastest (goal >= 3.00: met)"
    ]


def test_tracker_benchmark_skips_without_the_material(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from benchmarks import tracker

    monkeypatch.setattr(tracker, "MOT_DIR", Path("/nonexistent/mot"))
    section = tracker.run(True)
    assert section.body.startswith("skipped:")


def test_ingest_render_ratios_against_one_event_per_transaction() -> None:
    from benchmarks import ingest

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["ingest"] is ingest.run
    runs = [
        ingest.IngestRun(ingest.MODES[0], 100, 1.0, 100),
        ingest.IngestRun(ingest.MODES[1], 1000, 0.5, 10),
        ingest.IngestRun(ingest.MODES[2], 1000, 0.25, 2),
        ingest.IngestRun(ingest.MODES[3], 1000, 0.5, 2, publishing=0.1),
    ]
    sqlite = ingest.BackendResult("SQLite", "SQLite 3, temporary file", runs)
    skipped = ingest.BackendResult("PostgreSQL", skipped="not reachable (refused)")
    section = ingest.render([sqlite, skipped], repeats=1)
    assert "20.00x" in section.body  # 2000 events/s over 100
    assert "40.00x" in section.body  # 4000 events/s over 100
    assert "skipped: not reachable (refused)." in section.body
    assert "publishing (JSON encoding into the in-process log) took 20%" in section.body
    assert section.headline == [
        "ingest SQLite: add_many(500) 4000 events/s = 40.00x, bus + EventIngest 2000 events/s "
        "= 20.00x of one event per transaction (100 events/s)",
        "ingest PostgreSQL: skipped (not reachable (refused))",
    ]


def test_ingest_postgres_url_prefers_the_benchmark_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks import ingest

    monkeypatch.delenv("ARGUS_BENCH_POSTGRES_URL", raising=False)
    monkeypatch.delenv("ARGUS_TEST_POSTGRES_URL", raising=False)
    assert ingest.postgres_url() == ingest.DEFAULT_POSTGRES_URL
    monkeypatch.setenv("ARGUS_TEST_POSTGRES_URL", "postgresql://t@h/db")
    assert ingest.postgres_url() == "postgresql://t@h/db"
    monkeypatch.setenv("ARGUS_BENCH_POSTGRES_URL", "postgresql://b@h/db")
    assert ingest.postgres_url() == "postgresql://b@h/db"


def test_api_load_render_ratios_against_health_live() -> None:
    from benchmarks import api_load

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["api"] is api_load.run
    live, cameras = api_load.ENDPOINTS[0], api_load.ENDPOINTS[1]

    def phase(scale: float, seconds: float) -> dict[str, api_load.Phase]:
        phases = {}
        for n, endpoint in enumerate(api_load.ENDPOINTS):
            factor = scale * (n + 1)
            phases[endpoint] = api_load.Phase(
                "alone",
                {endpoint: [0.001 * factor] * 99 + [0.01 * factor]},
                seconds * (n + 1),
                server_cpu=0.05,
                client_cpu=0.01,
            )
        return phases

    mixed = api_load.Phase("mixed", {live: [0.002] * 10, cameras: [0.006] * 10}, 1.0, {cameras: 1})
    results = api_load.Results(
        alone={"httpx": phase(2.0, 1.0), "raw": phase(1.0, 0.5)},
        mixed={"httpx": mixed, "raw": mixed},
    )
    section = api_load.render(results, quick=True)
    assert "| 2.00x |" in section.body.replace("  ", "")  # cameras p50 over live p50
    assert "3.00x" in section.body  # mixed: 6 ms over 2 ms
    assert "0.50x" in section.body  # requests/s of cameras over live
    assert " 0.50 |" in section.body  # server CPU ms per request
    assert len(section.headline) == 2
    assert section.headline[1].startswith(
        "api, 16 in flight, raw client: GET /health/live 200 requests/s, p50 1.0 ms"
    )


def test_alert_latency_frame_clock_recovers_the_pipeline_clock() -> None:
    from benchmarks import alert_latency

    base = 1_000.0  # wall clock of stream time 0
    stream = [0.0, 0.12, 0.28, 0.40, 0.56]
    frames = [(base + t + 0.030 + 0.001 * n, t) for n, t in enumerate(stream)]
    events = [base + 0.28, base + 0.56]
    assert alert_latency.frame_clock(frames, events) == pytest.approx(base)
    assert alert_latency.frame_clock(frames, []) is None
    # Alerts that disagree on the clock (the pipeline restarted): no answer.
    assert alert_latency.frame_clock(frames, [base + 0.28, base + 0.56 + 0.05]) is None


def test_alert_latency_render_ratios_against_detect_and_ping() -> None:
    from benchmarks import alert_latency

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["alert"] is alert_latency.run
    result = alert_latency.Measurement(
        latencies=[0.08, 0.10, 0.12],
        server_part=[0.07, 0.09, 0.11],
        event_types=["zone.entered", "line.crossed", "zone.entered"],
        pings=[0.001, 0.001, 0.001],
        protocol_pings=[0.0005],
        detect=[0.025, 0.025, 0.025],
        frame_gaps=[0.125, 0.125],
        tracks=[0.05, 0.05],
        setup=["test"],
        server_cpu=1.0,
        seconds=10.0,
    )
    section = alert_latency.render(result, quick=True)
    assert "| 4.00x |" in section.body.replace("  ", "")  # p50 100 ms over detect 25 ms
    assert "100.00x" in section.body  # p50 over the 1 ms ping
    assert "line.crossed only" in section.body
    assert section.headline == [
        "alert: frame → alert on /ws p50 100.0 ms, p95 118.0 ms (n=3) = 4.00x / 4.72x of one "
        "detect() (25.0 ms); WS ping p50 1.0 ms"
    ]


def test_verify_socket_render_reports_the_socket_overhead() -> None:
    from benchmarks import verify_socket

    result = verify_socket.Measurement(
        first=0.5,
        socket=[0.150, 0.152, 0.160],
        local=[0.148, 0.150, 0.155],
        ping=[0.0005, 0.0006],
        frame_bytes=25_000,
        actions={"allow": 3},
    )
    section = verify_socket.render(result, quick=True)
    assert "| frame → decision over /ws/verify              |      3 |  152.0 |" in section.body
    assert "adds 2.0 ms at the median" in section.body
    assert section.headline == ["verify socket: frame → decision p50 152.0 ms, p95 159.2 ms"]


def test_live_video_render_ratios_against_polling() -> None:
    from benchmarks import live_video

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["live"] is live_video.run
    buffer = bytearray(
        b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 3\r\n\r\nabc\r\n"
        b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\n\r\nde"
    )
    assert live_video._take_parts(buffer) == 1
    assert buffer.endswith(b"\r\n\r\nde")

    def phase(mode: str, cpu: float) -> live_video.Phase:
        return live_video.Phase(
            mode, 2, 10.0, [100, 98], bytes_in=200_000, bytes_out=1_000, server_cpu=cpu
        )

    results = live_video.Results(
        {("stream", 2): phase("stream", 0.099), ("polling", 2): phase("polling", 0.99)},
        jpeg_bytes=1_000.0,
        idle_cpu=0.01,
    )
    section = live_video.render(results, quick=True)
    assert "| 10.00x |" in section.body.replace("  ", "")  # polling CPU/frame over stream
    assert " 0.50 |" in section.body  # stream: 99 ms over 198 frames
    assert " 9.9 |" in section.body  # mean fps per viewer
    assert section.headline == [
        "live, 2 viewer(s) at 10 fps: stream 9.9 fps, 0.50 ms server CPU/frame; polling 9.9 fps, "
        "5.00 ms/frame = 10.00x the stream"
    ]


def test_retention_benchmark_is_registered_and_renders_the_ingest_ratio() -> None:
    from benchmarks import retention

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["retention"] is retention.run
    assert retention.FULL_EVENTS == 10_000_000
    section = retention.summarise(
        {
            "events": 10_000_000.0,
            "batch": 1000.0,
            "seed_s": 300.0,
            "sweep_s": 500.0,
            "alone_rate": 3000.0,
            "alone_before": 2900.0,
            "alone_after": 3100.0,
            "during_rate": 2400.0,
            "during": 1_200_000.0,
        }
    )
    cells = [line.split("|")[1:3] for line in section.body.splitlines() if line.startswith("| ")]
    rows = {name.strip(): value.strip() for name, value in cells}
    assert rows["rows deleted per second"] == "20,000"
    assert rows["ingest alone (events/s, mean of before and after)"] == (
        "3,000 (2,900 before, 3,100 after)"
    )
    assert rows["ingest during / alone"] == "0.80x"
    assert section.headline == [
        "Retention sweep of 10,000,000 events: 500 s; ingest kept 0.80x of its throughput "
        "meanwhile."
    ]


def test_notify_render_reports_ratios_against_the_websocket() -> None:
    from benchmarks import notify

    latencies = notify.Latencies(
        paths={"websocket": [0.010, 0.020], "email": [0.050, 0.100], "webhook": [0.030, 0.040]},
        missing={"mqtt": 2},
    )
    storms = [
        notify.StormResult(True, 1000, 1000, 1, 3, 1, 1, 5.0, 60.0),
        notify.StormResult(False, 1000, 1000, 1000, 3000, 1000, 1000, 20.0, 60.0),
    ]
    body = notify.render(latencies, storms, mqtt=False, quick=False).body
    email = next(line for line in body.splitlines() if line.startswith("| email"))
    assert [cell.strip() for cell in email.strip("|").split("|")][3:6] == ["75.0", "97.5", "5.00x"]
    assert "0.25x of the same storm without grouping" in body
    assert "MQTT left out" in body


def test_frame_cues_benchmark_is_registered() -> None:
    from benchmarks import frame_cues

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["frame_cues"] is frame_cues.run


def test_counting_benchmark_is_registered_and_renders_live_and_recount() -> None:
    from argus.services.counting import LineCount
    from benchmarks import counting

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["counting"] is counting.run

    def count(tracker: str, live: int, recounted: int) -> LineCount:
        return LineCount(
            "S", "x=1", tracker, 10, 10, 10 + live, 10, 10, 10, 10 + recounted, 10, "robust"
        )

    section = counting.render([("public detections", [count("argus", 3, 1), count("ref", 2, 4)])])
    assert "| S " in section.body
    assert "1 (5.0%)" in section.body  # argus re-count: 1 of 20
    assert section.headline == [
        "counting public detections: argus re-count 1 (5.0%) miscounted of 20 true crossings "
        "(goal < 10% on every sequence and ahead of every reference: met)"
    ]


def test_counting_benchmark_skips_without_the_material(monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from benchmarks import counting

    monkeypatch.setattr(counting, "MOT_DIR", Path("/nonexistent/mot"))
    assert counting.run(True).body.startswith("skipped:")


def test_phone_real_render_counts_false_alarms_and_the_speed_ratio() -> None:
    from benchmarks import phone_real

    tallies = [
        phone_real.Tally("photos", size, 10, 1, 1, aimed, 0.46, "a.jpg", [0.01 * size / 320])
        for size, aimed in ((320, 0), (640, 2))
    ]
    section = phone_real.render(tallies)
    assert section.headline[0].startswith(
        "phone_real: cue false alarms 0/10 frames at 320, 2/10 frames at 640"
    )
    assert "0.46 (a.jpg)" in section.body
    assert "2.00x" in section.body


def test_model_eval_is_registered_parses_mot_truth_and_renders_ratios() -> None:
    from argus.domain.detection_eval import ClassScores, EvaluationScores
    from argus.domain.hard_examples import LabelBox
    from benchmarks import model_eval

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["model_eval"] is model_eval.run
    frames = model_eval.parse_ground_truth(
        "1,9,499,158,31.03,75.17,1,-4.1,-7.3,0\n1,12,648,115,19.9,59.0,0,3.8,-8.1,0\n"
        "3,9,-10,0,20,40,1,0,0,0\n"
    )
    assert sorted(frames) == [1, 3]
    one = frames[1]
    assert (one.width, one.height, len(one.truth), len(one.ignore)) == (480, 360, 1, 1)
    assert one.truth[0].x1 == pytest.approx(499 * 0.625)
    assert frames[3].truth[0].x1 == 0.0  # clipped to the frame
    assert model_eval.sample(list(range(1, 11)), 4) == [1, 4, 7, 10]

    def result(name: str, value: float, seconds: tuple[float, ...]) -> model_eval.Result:
        person = ClassScores("person", value, value / 2, 0.9, 0.8, 10, 20)
        scores = EvaluationScores(value, value / 2, 0.9, 0.8, 5, (person,))
        return model_eval.Result(name, scores, seconds)

    results = [result("yolov7-tiny 320", 0.8, (0.01,)), result("yolov7-tiny 640", 0.9, (0.04,))]
    section = model_eval.render(results, result("public detections", 0.6, ()), 5, 10)
    assert "1.33x" in section.body  # 0.8 / 0.6 mAP against the public detections
    assert "0.25x" in section.body  # 320 takes a quarter of 640's time
    assert section.headline == [
        "model_eval: person mAP@0.5 on PETS09-S2L1 frames yolov7-tiny 320 0.80, "
        "yolov7-tiny 640 0.90 (public detections 0.60)"
    ]
    person = LabelBox(10, 10, 30, 60, "person", 0.9)
    faint = LabelBox(100, 10, 130, 60, "person", 0.1)  # below the operating score
    extra = LabelBox(200, 10, 230, 60, "person", 0.8)
    assert model_eval.shadow_agreement([[person]], [[person, faint]]) == 1.0
    assert model_eval.shadow_agreement([[person]], [[person, extra]]) == 0.5


def test_rule_suggestions_is_registered_and_its_replay_is_seeded() -> None:
    from benchmarks import rule_suggestions

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["rule_suggestions"] is rule_suggestions.run
    if not rule_suggestions.MOT.exists():
        pytest.skip(f"{rule_suggestions.MOT} is absent (the shared evaluation data)")
    first, second = rule_suggestions.replay(2), rule_suggestions.replay(2)
    assert first == second
    assert sum(s.true_alert for s in first) == 16
    assert {s.pattern for s in first if not s.true_alert} == set(rule_suggestions.PATTERNS)
    assert all(1 <= s.at.hour <= 4 for s in first if s.pattern == "night glare")


def test_search_is_registered_and_its_questions_are_labelled() -> None:
    import json

    from benchmarks import search

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["search"] is search.run
    queries = json.loads(search.QUERIES.read_text())["queries"]
    assert len(queries) >= 50
    assert len({q["q"] for q in queries}) == len(queries)
    assert all(q["relevant"] for q in queries)
    assert search.recall_at(["a", "b", "c"], {"a", "c", "x"}) == pytest.approx(2 / 3)
    assert search.recall_at([str(n) for n in range(10)], {str(n) for n in range(50)}) == 1.0
    assert search.recall_at([], set()) == 1.0


def test_search_history_replicates_clips_and_evaluates_rules() -> None:
    from benchmarks._search_history import CAMERAS, History, Template

    crossing = Template(
        "line.crossed", {"line": "middle", "class_name": "person", "direction": "in"}, 0.0
    )
    exited = Template(
        "zone.exited", {"zone": "street", "class_name": "car", "dwell_seconds": 90.0}, 5.0
    )
    history = History({"vtest": [crossing], "bikes": [exited]}, size=80)
    events = list(history.events())
    assert len(events) == 80
    assert {camera for _, camera, _, _, _ in events} == set(CAMERAS)
    assert int(events[-1][0]) == 79
    people = history.relevant({"classes": ["person"], "directions": ["in"]})
    assert int(people.sum()) == 40
    long_stays = history.relevant({"types": ["zone.exited"], "min_dwell": 60})
    assert int(long_stays.sum()) == 40
    assert int(history.relevant({"cameras": ["cam-n"], "hours": [0, 24]}).sum()) == 10
    assert History({"vtest": [crossing], "bikes": [exited]}, size=80).copies == history.copies


def test_recording_render_ratios_against_ffmpeg_and_the_floor() -> None:
    from benchmarks import recording

    argus = recording.RecordResult(
        recording.ARGUS, [10.0, 10.0], [0.02, 0.02], [1000, 1000], [2, 2]
    )
    ffmpeg = recording.RecordResult(
        recording.FFMPEG, [10.0, 10.0], [0.01, 0.01], [800, 800], [2, 2]
    )
    floor = recording.RecordResult(recording.FLOOR, [10.0, 10.0], [0.005, 0.005], [0, 0], [0, 0])
    assert argus.cpu_per_second == pytest.approx(0.002)
    assert argus.bytes_per_second == pytest.approx(100.0)
    section = recording.render([argus, ffmpeg, floor], "clip", 5.0, None)
    assert "| 2.00x |" in section.body.replace("  ", "")
    assert "1.25x" in section.body
    assert section.headline == [
        "recording: Argus remux 2.000 CPU-ms per stream-second = 2.00x ffmpeg -c copy; "
        "bytes 1.25x; 4.00x the demux floor"
    ]
    alone = recording.render([argus, floor], "clip", 5.0, "no ffmpeg")
    assert "*no ffmpeg.*" in alone.body
    assert "ffmpeg absent" in alone.headline[0]


def test_shared_inference_is_registered_and_renders_ratios_within_a_thread_setting() -> None:
    from benchmarks import shared_inference as si

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["shared_inference"] is si.run
    phases = [
        si.Phase("direct", 1, 2, 10.0, 5.0, [50, 50], [0.1, 0.2, 0.3]),
        si.Phase("scheduler", 1, 2, 10.0, 6.0, [80, 70], [0.1], mean_batch=3.0),
    ]
    assert phases[1].fps() == (7.5, 7.0)
    section = si.render(phases, "settings")
    assert "1.50x" in section.body  # 15 images/s over 10
    assert "0.80x" in section.body  # 40 ms CPU per image over 50
    assert section.headline == [
        "shared_inference, 2 cameras at 5 fps, intra_op 1: scheduler 15.0 images/s = 1.50x "
        "direct (10.0), CPU/image 0.80x, mean batch 3.0"
    ]


def test_motion_gating_is_registered_and_renders_ratios() -> None:
    from benchmarks import motion_gating as mg

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["motion_gating"] is mg.run
    public = mg.load_public("1,-1,10,20,30,40,0.9,-1,-1,-1\n1,-1,0,0,5,5,0.2,-1,-1,-1\n")
    assert list(public) == [0]
    assert public[0].tolist() == [[10.0, 20.0, 40.0, 60.0]]
    clip = mg.ClipResult("clip", frames=4, full_boxes=10, matched=9)
    clip.full_cpu, clip.gated_cpu = [0.05] * 4, [0.01] * 4
    clip.images, clip.public_total, clip.public_full, clip.public_gated = 2, 20, 18, 17
    assert clip.recall == pytest.approx(0.9)
    section = mg.render([clip])
    assert "0.20x" in section.body
    assert "-5.0" in section.body
    assert section.headline[0] == (
        "motion gating, clip: CPU/frame 0.20x of full-frame, recall vs full-frame 90.0 %"
    )


def test_streams_is_registered_renders_sustained_counts_and_plots() -> None:
    import xml.etree.ElementTree as ET

    from benchmarks import streams

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["streams"] is streams.run
    ok, slow = (1.0, 1.01, 0.99, 1.0), (1.0, 0.8, 0.99, 1.0, 1.0, 1.0, 1.0, 1.0)
    points = [
        streams.Point("full", (5.0, 5.0, 4.8, 5.0), ok, 1.0, 2, 500.0, 300.0, 0.02),
        streams.Point("full", (5.0,) * 4 + (3.9,) * 4, slow, 1.9, 2, 700.0, 300.0, 0.02),
        streams.Point("gated", (5.0, 5.0, 4.8, 5.0), ok, 0.5, 2, 520.0, 300.0, 0.02),
        streams.Point("gated", (5.0,) * 8, ok * 2, 0.9, 2, 720.0, 300.0, 0.02, restarts=1),
    ]
    assert points[0].cpu_percent == pytest.approx(50.0)
    assert points[0].mb_per_camera == pytest.approx(50.0)
    assert points[0].min_fps == pytest.approx(4.8)
    assert (streams.sustained(points, "full"), streams.sustained(points, "gated")) == (4, 8)
    # On time with its stream but granted fewer frames by the scheduler: not sustained.
    held_back = streams.Point("full", (5.0, 5.0, 4.5, 5.0), ok, 1.0, 2, 500.0, 300.0, 0.02)
    assert not held_back.sustained
    section = streams.render(points, 30.0, "img/streams.svg")
    assert section.headline == [
        "streams sustained at 5 fps on 2 cores (slowest camera >= 95 % of real time and of "
        "5 fps): full-frame 4, motion-gated >= 8 (2.00x full-frame)"
    ]
    assert "| full  |       8 |    3.90 |     4.45 |              80 % |       no |" in section.body
    assert "full 50.0, gated 50.0 MB" in section.body
    assert "![analysed fps and CPU against cameras](img/streams.svg)" in section.body
    svg = ET.fromstring(streams.plot_svg_of(points))
    lines = svg.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 4  # two modes on two panels
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert {"target 5 fps", "cameras (K)", "full-frame", "motion-gated"} <= set(texts)


def test_decode_sampling_is_registered_and_renders_ratios_against_the_old_path() -> None:
    from benchmarks import decode_sampling as ds

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["decode_sampling"] is ds.run
    clip = ds.ClipResult("clip.mp4", 1920, 1080, 25.0, frames=250, stream_seconds=10.0)
    clip.paths = {
        ds.OLD: ds.PathResult(ds.OLD, [2.0, 2.0, 2.2], [1.0] * 3, kept=50),
        ds.NEW: ds.PathResult(ds.NEW, [1.5, 1.5, 1.4], [1.0] * 3, kept=50),
        ds.FLOOR: ds.PathResult(ds.FLOOR, [1.2, 1.2, 1.2], [1.0] * 3, kept=0),
    }
    assert clip.per_kept_ms(ds.NEW) == pytest.approx(30.0)
    assert clip.per_second_ms(ds.OLD) == pytest.approx(200.0)
    section = ds.render([clip], 5.0, 3, ["a note"])
    assert section.headline == [
        "decode_sampling clip.mp4 at 5 fps: 150.0 CPU-ms per stream-second = 0.75x the old "
        "path (200.0); 1.25x the decode floor"
    ]
    assert "| 50/250 |" in section.body.replace("  ", "")
    assert "0.60x" in section.body  # the floor against the old path
    assert "*a note.*" in section.body


def test_substreams_is_registered_and_renders_costs_per_camera() -> None:
    from benchmarks import substreams as sub

    main = importlib.import_module("benchmarks.__main__")
    assert main.BENCHMARKS["substreams"] is sub.run
    results = [
        sub.Costs(sub.MAIN_ONLY, 0.090, 0.0, 0.500, 0.085),
        sub.Costs(sub.WITH_SUB, 0.080, 0.015, 0.405),
    ]
    assert results[1].total == pytest.approx(0.5)
    section = sub.render(results, "clip.mp4", 30.0, 60)
    assert section.headline == [
        "substreams: one 1440x1080 camera at 5 fps costs 59 % of a core main-only, 50 % with "
        "a 480x360 sub-stream (0.85x)"
    ]
    rows = {
        cells[0]: cells[1:]
        for line in section.body.splitlines()
        if line.startswith("| main")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert rows[sub.MAIN_ONLY] == ["90.0", "-", "500.0", "590.0", "59.0", "1.00x", "8.5"]
    assert rows[sub.WITH_SUB] == ["80.0", "15.0", "405.0", "500.0", "50.0", "0.85x", "n/a"]
