"""Continuous recording series, read at scrape time from the recording monitor.

Per camera: ``argus_recording_bytes_total`` and ``argus_recording_segments_total``
(written since the server started), ``argus_recording_gaps_total`` (interruptions
since then), ``argus_recording_disk_bytes`` (its segments on disk, as of the
latest retention sweep plus what was written since) and
``argus_recording_state{camera_id,state}`` (1 for the recorder's current state).
Nothing is reported while recording is off.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from argus.domain.recording import RECORDING_STATES
from argus.ports.recording_status import RecordingMonitor

__all__ = ["RecordingCollector"]


class RecordingCollector(Collector):
    """Reads each camera's recording at scrape time.

    Args:
        monitor: Returns the bound monitor, or ``None`` before the services start.
    """

    def __init__(self, monitor: Callable[[], RecordingMonitor | None]) -> None:
        self._monitor = monitor

    def collect(self) -> Iterator[Metric]:
        """The series of every recorded camera (none while recording is off)."""
        monitor = self._monitor()
        if monitor is None or not monitor.enabled:
            return
        written = CounterMetricFamily(
            "argus_recording_bytes",
            "Bytes of recording segments written since the server started",
            labels=["camera_id"],
        )
        segments = CounterMetricFamily(
            "argus_recording_segments",
            "Recording segments closed since the server started",
            labels=["camera_id"],
        )
        gaps = CounterMetricFamily(
            "argus_recording_gaps",
            "Interruptions of the recording (a dropped stream, a failure) since the server started",
            labels=["camera_id"],
        )
        disk = GaugeMetricFamily(
            "argus_recording_disk_bytes",
            "Bytes of the camera's recording segments on disk",
            labels=["camera_id"],
        )
        state = GaugeMetricFamily(
            "argus_recording_state",
            "1 for the camera recorder's current state",
            labels=["camera_id", "state"],
        )
        for status in monitor.statuses():
            camera = [status.camera_id]
            written.add_metric(camera, float(status.bytes_written))
            segments.add_metric(camera, float(status.segments))
            gaps.add_metric(camera, float(status.gaps))
            disk.add_metric(camera, float(status.disk_bytes))
            for name in RECORDING_STATES:
                state.add_metric([status.camera_id, name], 1.0 if status.state == name else 0.0)
        yield from (written, segments, gaps, disk, state)
