"""``benchmarks.edge_outbox`` formats fixed numbers correctly; nothing here is timed."""

from __future__ import annotations

from benchmarks import edge_outbox
from benchmarks._edge_drain import DrainRun


def test_render_reports_ratios_footprint_and_drain() -> None:
    results = edge_outbox.Results(
        appends=[
            edge_outbox.AppendRun("FULL", 3000.0, 2500.0),
            edge_outbox.AppendRun("NORMAL", 100.0, 50.0),
        ],
        buffered=1000,
        item_bytes=290.0,
        disk_bytes=430.0,
        rss_bytes=2.0 * 2**20,
        memory_outbox_bytes=2300.0,
        drains=[DrainRun(10_000, 10.0, 1.0, 10_000, 0)],
    )
    section = edge_outbox.render(results)
    assert section.headline == [
        "Edge outbox append (durable, fsync per event): 3000 µs/event, 1.20x a plain SQLite insert",
        "Edge drain of 10000 buffered events: 1000 events/s, 0.10x a batched add_many",
    ]
    assert "| synchronous = NORMAL |" in section.body
    assert "2.0 MiB in all" in section.body
    assert "Drain not" not in section.body


def test_a_failed_drain_is_reported_not_hidden() -> None:
    results = edge_outbox.Results(drain_skipped="RuntimeError: no server")
    section = edge_outbox.render(results)
    assert "Drain not (fully) measured: RuntimeError: no server." in section.body
    assert callable(edge_outbox.run)
    assert callable(edge_outbox.main)
