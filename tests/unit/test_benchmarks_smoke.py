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
        "benchmarks.pipeline",
    ],
)
def test_benchmark_modules_import_and_expose_run(module: str) -> None:
    loaded = importlib.import_module(module)
    assert callable(loaded.run)
    assert callable(loaded.main)


def test_main_module_lists_every_benchmark() -> None:
    main = importlib.import_module("benchmarks.__main__")
    assert list(main.BENCHMARKS)[:7] == [
        "decode",
        "detector",
        "model_build",
        "face",
        "tracker",
        "pipeline",
        "liveness",
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
