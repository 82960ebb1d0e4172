"""The edge node's machine as its health report sees it: CPU, memory, disk, temperature (psutil)."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import psutil

from argus.services.edge_health import SystemStats

__all__ = ["system_probe"]

log = logging.getLogger(__name__)

# Sensor groups that usually stand for the CPU package, tried first (else the hottest).
_CPU_SENSORS = ("coretemp", "k10temp", "cpu_thermal", "cpu-thermal", "soc_thermal", "zenpower")


def _temperature() -> float | None:
    read = getattr(psutil, "sensors_temperatures", None)
    if read is None:  # not on this platform (macOS, Windows)
        return None
    try:
        groups = read()
    except (OSError, RuntimeError):
        return None
    if not groups:
        return None
    for name in _CPU_SENSORS:
        readings = [float(s.current) for s in groups.get(name, ()) if s.current is not None]
        if readings:
            return round(max(readings), 1)
    readings = [float(s.current) for sensors in groups.values() for s in sensors if s.current]
    return round(max(readings), 1) if readings else None


def system_probe(data_dir: Path) -> Callable[[], SystemStats]:
    """A probe of this machine, the disk being the one holding ``data_dir``.

    CPU use is psutil's non-blocking percentage since the previous call (the
    first call primes it and reads 0). A temperature is reported where
    ``psutil.sensors_temperatures`` reads one (the CPU package's when known,
    else the hottest sensor), else ``None``.
    """
    psutil.cpu_percent(interval=None)  # primes the counter: the next call measures from here

    def probe() -> SystemStats:
        try:
            disk = shutil.disk_usage(data_dir)
            free, total = int(disk.free), int(disk.total)
        except OSError:
            log.warning("cannot read the disk usage of %s", data_dir, exc_info=True)
            free = total = 0
        return SystemStats(
            cpu_percent=float(psutil.cpu_percent(interval=None)),
            memory_percent=float(psutil.virtual_memory().percent),
            disk_free_bytes=free,
            disk_total_bytes=total,
            temperature_c=_temperature(),
        )

    return probe
