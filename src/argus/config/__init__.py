"""Settings: strict, validated, loaded once by the composition root and passed down.

``Settings`` is one flat model (every field an ``ARGUS_*`` variable) assembled
from groups, each in its own module: ``runtime`` (data directory, database,
bus), ``sources`` (camera streams), ``security`` (secrets, tokens, rate
limits), ``alerting`` (evidence, deadlines, risk), ``workstation`` and
``recording`` (continuous recording and its retention), among others.
"""

from __future__ import annotations

from argus.config.bus import BusKind, BusUrl, parse_bus_url
from argus.config.placeholders import PLACEHOLDERS, is_placeholder
from argus.config.runtime import default_data_dir
from argus.config.settings import Settings

__all__ = [
    "PLACEHOLDERS",
    "BusKind",
    "BusUrl",
    "Settings",
    "default_data_dir",
    "is_placeholder",
    "parse_bus_url",
]
