"""Run every benchmark and print one markdown report (``python -m benchmarks``).

    python -m benchmarks [--quick] [--only decode,ingest,api,alert] [--markdown FILE]

Progress goes to stderr, the report to stdout (and to ``--markdown`` when given).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import (
    alert_latency,
    api_load,
    counting,
    decode,
    decode_sampling,
    detector,
    dwell,
    edge_outbox,
    face,
    frame_cues,
    ingest,
    live_video,
    liveness,
    model_build,
    model_eval,
    motion_gating,
    notify,
    phone_real,
    pipeline,
    recording,
    retention,
    rollups,
    rule_suggestions,
    search,
    security,
    shared_inference,
    streams,
    substreams,
    tamper,
    text_encoder,
    tracker,
    tracker_robustness,
    verify_capacity,
    verify_socket,
)
from benchmarks._common import Section, machine_info, progress, render_report, run_section

__all__ = ["BENCHMARKS", "main"]

BENCHMARKS: dict[str, Callable[[bool], Section]] = {
    "decode": decode.run,
    "detector": detector.run,
    "model_build": model_build.run,
    "face": face.run,
    "tracker": tracker.run,
    "pipeline": pipeline.run,
    "liveness": liveness.run,
    "ingest": ingest.run,
    "api": api_load.run,
    "live": live_video.run,
    "alert": alert_latency.run,
    "security": security.run,
    "verify": verify_socket.run,
    "verify_capacity": verify_capacity.run,
    "rollups": rollups.run,
    "retention": retention.run,
    "edge_outbox": edge_outbox.run,
    "tamper": tamper.run,
    "frame_cues": frame_cues.run,
    "notify": notify.run,
    "tracker_robustness": tracker_robustness.run,
    "counting": counting.run,
    "dwell": dwell.run,
    "phone_real": phone_real.run,
    "model_eval": model_eval.run,
    "text_encoder": text_encoder.run,
    "rule_suggestions": rule_suggestions.run,
    "search": search.run,
    "shared_inference": shared_inference.run,
    "recording": recording.run,
    "motion_gating": motion_gating.run,
    "streams": streams.run,
    "substreams": substreams.run,
    "decode_sampling": decode_sampling.run,
}
"""Every benchmark, in the order they run."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks and print the report."""
    parser = argparse.ArgumentParser(description="Run all Argus benchmarks.")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated subset of {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--markdown", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    names = [n.strip() for n in str(args.only).split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    info = machine_info()
    sections: list[Section] = []
    started = time.perf_counter()
    for name in names:
        begun = time.perf_counter()
        progress(f"{name}: starting")
        sections.append(run_section(BENCHMARKS[name], bool(args.quick)))
        progress(f"{name}: finished in {time.perf_counter() - begun:.0f} s")
    total = time.perf_counter() - started
    report = render_report(sections, info, bool(args.quick))
    report += f"\nTotal benchmark time: {total:.0f} s.\n"
    print(report, end="")
    if args.markdown is not None:
        args.markdown.write_text(report, encoding="utf-8")
        progress(f"report written to {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
