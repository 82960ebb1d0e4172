"""A rule's line or zone checked against the scene of the cameras the control plane knows.

A rule that names a line or zone its camera does not have is stored fine and
never fires, so ``check_rule_scene`` refuses it with a ``ValidationError``
that names the camera and the names it does have:

* a rule of a registered camera must name one of that camera's lines (zones);
* a rule of every camera must name a line (zone) at least one registered
  camera has.

What the control plane holds no scene for it does not refuse: a camera id that
is not registered (events of a source that never registered it), and a camera
(for a rule of every camera: all cameras) without any line, or any zone, so a
rule may be written before its line is drawn (and the dashboard then says the
rule cannot fire yet). Once the lines or zones exist, a change of the rule's
camera, line or zone is checked against them.
"""

from __future__ import annotations

from typing import Protocol

from argus.domain.errors import ValidationError
from argus.ports.paging import MAX_PAGE, all_pages
from argus.ports.repositories import CameraRepository, LineRepository, ZoneRepository

__all__ = ["SceneStore", "check_rule_scene", "scene_names"]


class SceneStore(Protocol):
    """Where cameras, lines and zones are read: the database, or a unit of work."""

    @property
    def cameras(self) -> CameraRepository:
        """Registered cameras."""
        ...

    @property
    def lines(self) -> LineRepository:
        """Counting lines."""
        ...

    @property
    def zones(self) -> ZoneRepository:
        """Polygon zones."""
        ...


async def scene_names(database: SceneStore, camera_id: str) -> tuple[list[str], list[str]]:
    """The names of a camera's lines and zones, in their stored order."""
    lines = await all_pages(
        lambda skip: database.lines.list(camera_id, limit=MAX_PAGE, offset=skip)
    )
    zones = await all_pages(
        lambda skip: database.zones.list(camera_id, limit=MAX_PAGE, offset=skip)
    )
    return [line.name for line in lines], [zone.name for zone in zones]


def _listed(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names) if names else "none"


async def check_rule_scene(
    database: SceneStore, camera_id: str | None, line: str | None, zone: str | None
) -> None:
    """Refuse a rule whose line or zone its camera (or, without a camera, every camera) lacks.

    Raises:
        ValidationError: The name is not on the camera, or on no registered camera.
    """
    if line is None and zone is None:
        return
    cameras = await all_pages(lambda skip: database.cameras.list(limit=MAX_PAGE, offset=skip))
    if camera_id is not None:
        camera = next((c for c in cameras if c.id == camera_id), None)
        if camera is None:
            return
        lines, zones = await scene_names(database, camera_id)
        where = f"camera {camera.name!r} has"
    else:
        lines, zones = [], []
        for each in cameras:
            more_lines, more_zones = await scene_names(database, each.id)
            lines += more_lines
            zones += more_zones
        where = "no camera has"
    for kind, name, known in (("line", line, lines), ("zone", zone, zones)):
        if name is not None and known and name not in known:
            if camera_id is None:
                raise ValidationError(
                    f"{where} a {kind} {name!r} (lines and zones are per camera: "
                    f"pick the camera, or one of {_listed(sorted(set(known)))})"
                )
            raise ValidationError(f"{where} no {kind} {name!r} (its {kind}s: {_listed(known)})")
