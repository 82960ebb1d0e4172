"""The demo of ``make run`` (``argus serve --demo``): bikes.mp4 with a line, a zone and rules."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from argus.bootstrap.container import Container
from argus.domain.cameras import Camera, Line, Zone, new_id, utc_now
from argus.domain.errors import ConflictError, NotFoundError
from argus.domain.rules import Rule
from argus.ports.repositories import Database

__all__ = ["add_demo_scene", "demo_camera", "demo_rules", "register_demo_camera"]

log = logging.getLogger(__name__)


def demo_camera(container: Container) -> tuple[Camera, list[Line], list[Zone]]:
    """The demo camera of ``make run``: bikes.mp4 with the line and zone of examples/bikes.yaml.

    Pair it with ``DEMO_DEFAULTS`` (``argus.adapters.pipelines``) as the edge
    worker's detector defaults to match the example scene.
    """
    from argus.adapters.pipelines import demo_camera as make_demo

    return make_demo(container.demo_video())


async def register_demo_camera(database: Database, container: Container) -> bool:
    """Store the demo camera with its line, zone and rules unless a camera with its id exists.

    Idempotent across restarts (and concurrent replicas): an existing demo
    camera is left as it is, even if its lines or zones were edited. The
    camera's model pack is built first if it is missing, in a worker thread,
    so the pipeline starts detecting at once.

    Returns:
        Whether the camera was registered by this call.

    Raises:
        ConfigError: The demo video's package is not installed.
        ModelError: The model pack cannot be built.
    """
    camera, lines, zones = demo_camera(container)
    await asyncio.to_thread(container.models.ensure, camera.model)
    try:
        await database.cameras.get(camera.id)
    except NotFoundError:
        pass
    else:
        return False
    try:
        await add_demo_scene(database, camera, lines, zones)
    except ConflictError:
        log.info("the demo camera was registered concurrently by another server")
        return False
    log.info("registered the demo camera %r (%s)", camera.id, camera.stream_url)
    return True


async def add_demo_scene(
    database: Database, camera: Camera, lines: list[Line], zones: list[Zone]
) -> None:
    """Store the demo camera, its lines and zones, and its rules (``demo_rules``).

    Raises:
        ConflictError: One of them is stored already.
    """
    await database.cameras.add(camera)
    for line in lines:
        await database.lines.add(line)
    for zone in zones:
        await database.zones.add(zone)
    for rule in demo_rules(camera.id):
        await database.rules.add(rule)


def demo_rules(camera_id: str) -> list[Rule]:
    """The demo camera's alert rules: kerb crossings, people in the street, crowding.

    Their weights span the severities: traffic on the kerb line raises low
    alerts, by day and at night, however often it repeats (the rule's severity
    ceiling holds it there: the clip's kerb is busy, and without the ceiling
    repeats and the night would lift every kerb alert to medium), crowding
    raises medium ones, and a person in the (critical) street zone a high one
    at most once a minute, which escalates unless acknowledged. The README's
    table of these severities is checked by ``tests/integration/test_demo_alerts.py``.
    """
    now = utc_now()
    specs: list[dict[str, Any]] = [
        {
            "name": "Traffic crosses the kerb line",
            "event_types": ("line.crossed",),
            "line": "kerb",
            "weight": 0.1,
            "severity_ceiling": "low",
        },
        {
            "name": "A person walks into the street",
            "event_types": ("zone.entered",),
            "classes": ("person",),
            "zone": "street",
            "weight": 1.0,
            "cooldown_seconds": 60.0,
            "cooldown_scope": "camera",
        },
        {
            "name": "The street is crowded",
            "event_types": ("zone.crowding",),
            "zone": "street",
            "weight": 0.6,
            "cooldown_seconds": 60.0,
            "cooldown_scope": "camera",
        },
    ]
    return [
        Rule(id=new_id(), created_at=now, updated_at=now, camera_id=camera_id, **spec)
        for spec in specs
    ]
