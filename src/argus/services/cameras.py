"""The camera registry as a use case: cameras, their lines and zones, and events.

Every change to a camera, or to one of its lines or zones, is stored first and
then handed to the pipeline supervisor for **that camera only** (``apply`` with
its full, fresh configuration); deleting a camera removes its pipeline. Entry
points (the REST API) call one method per request and never query the store.

Writes take the acting ``Actor`` and a typed command (``NewCamera``,
``CameraChanges``, ``StreamTry``); the service checks the actor's camera
scope, stores the change and its audit record in one unit of work, then
restarts the pipeline. Lines and zones are ``lines`` and ``zones``
(``SceneItems``).

A camera assigned to an edge node (``Camera.edge_node_id``) is run by that
node, never by the embedded worker: applying it removes any local pipeline,
and its status comes from the node's health reports (``remote_status``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable

from argus.domain.actor import Actor
from argus.domain.cameras import Camera, Line, Zone, new_id, stream_origin, utc_now
from argus.domain.errors import NotFoundError, SourceError, ValidationError
from argus.domain.events import Envelope
from argus.ports.paging import MAX_PAGE, Page, all_pages, check_page
from argus.ports.pipelines import CameraStatus, PipelineSupervisor
from argus.ports.repositories import Database, EventFilter
from argus.ports.video import JpegEncoder, ProbeOpener
from argus.services.camera_commands import CameraChange, CameraChanges, NewCamera, StreamTry
from argus.services.camera_video import SourceCheck, StreamProbe, probe_stream, watch_frames
from argus.services.scene_items import SceneItems, line_items, zone_items
from argus.services.writes import record, require_camera, set_fields

__all__ = [
    "CameraChange",
    "CameraChanges",
    "CameraService",
    "EventService",
    "NewCamera",
    "RemoteStatus",
    "StreamTry",
    "stream_origin",
]

log = logging.getLogger(__name__)


RemoteStatus = Callable[[Camera], Awaitable[CameraStatus | None]]
"""The status of a camera run by an edge node (from its health reports), ``None`` if unknown."""


class CameraService:
    """Registers cameras, lines and zones and keeps their pipelines in step.

    A stream URL is checked against ``check_source`` (local media
    directories, networks) before it is stored or probed; pipelines check it
    again whenever they open it.

    Args:
        database: The store.
        pipelines: The supervisor that runs one pipeline per camera.
        open_probe: Opens a stream for ``probe`` (without retries).
        encode_jpeg: Encodes the first frame ``probe`` reads.
        check_source: The administrator's policy on stream targets.
        remote_status: The status of a camera assigned to an edge node (from
            the node's health); without it such a camera reads ``offline``.
    """

    def __init__(
        self,
        database: Database,
        pipelines: PipelineSupervisor,
        *,
        open_probe: ProbeOpener,
        encode_jpeg: JpegEncoder,
        check_source: SourceCheck,
        remote_status: RemoteStatus | None = None,
    ) -> None:
        self._db = database
        self._pipelines = pipelines
        self._remote_status = remote_status
        self._open_probe = open_probe
        self._encode_jpeg = encode_jpeg
        self._check_source = check_source
        self.lines: SceneItems[Line] = line_items(database, self._reapply)
        """The cameras' counting lines."""
        self.zones: SceneItems[Zone] = zone_items(database, self._reapply)
        """The cameras' polygon zones."""

    # --- cameras ----------------------------------------------------------------------------

    async def create_camera(self, actor: Actor, command: NewCamera) -> Camera:
        """Register a camera (audited ``camera.create``) and start its pipeline.

        Raises:
            PermissionDeniedError: The actor is camera-scoped.
            ValidationError: A field breaks the camera's invariants, or the
                policy on stream targets refuses its ``stream_url`` or
                ``detect_stream_url``.
        """
        require_camera(actor, None)
        camera = Camera(id=new_id(), **set_fields(command))
        await self._allowed(camera.stream_url)
        if camera.detect_stream_url is not None:
            await self._allowed(camera.detect_stream_url, "detect_stream_url")
        async with self._db.unit_of_work() as unit:
            await unit.cameras.add(camera)
            target = f"camera:{camera.id}"
            await record(unit.audit, actor, "camera.create", target, name=camera.name)
        await self._apply(camera)
        return camera

    async def list_cameras(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        enabled: bool | None = None,
        name: str | None = None,
        ids: frozenset[str] | None = None,
    ) -> Page[Camera]:
        """Cameras in creation order, optionally (not) enabled, whose name contains ``name``,
        and among ``ids`` (a caller's camera scope).

        The name and id filters run over all cameras of the store, which holds
        at most a few thousand.
        """
        check_page(limit, offset)
        if name is None and ids is None:
            return await self._db.cameras.list(limit=limit, offset=offset, enabled=enabled)
        needle = (name or "").casefold()
        everything = await all_pages(
            lambda skip: self._db.cameras.list(limit=MAX_PAGE, offset=skip, enabled=enabled)
        )
        matching = [
            c for c in everything if needle in c.name.casefold() and (ids is None or c.id in ids)
        ]
        return Page(tuple(matching[offset : offset + limit]), len(matching))

    async def get_camera(self, camera_id: str) -> Camera:
        """One camera (``NotFoundError`` if unknown)."""
        return await self._db.cameras.get(camera_id)

    async def cameras_for_node(self, node_id: str) -> list[Camera]:
        """The cameras assigned to edge node ``node_id``, in creation order."""
        return await all_pages(
            lambda skip: self._db.cameras.list(limit=MAX_PAGE, offset=skip, edge_node_id=node_id)
        )

    async def update_camera(
        self, actor: Actor, camera_id: str, changes: CameraChanges
    ) -> CameraChange:
        """Change some fields of a camera (audited ``camera.update``) and restart its pipeline.

        A new ``stream_url`` on another scheme, host or port drops the stored
        login unless ``changes`` brings one (audited ``camera.credentials.drop``):
        a login is never sent to a host it was not given for.

        Raises:
            PermissionDeniedError: The camera is outside the actor's scope.
            NotFoundError: Unknown camera.
            ValidationError: A field breaks the camera's invariants, or the
                policy on stream targets refuses the new ``stream_url`` or
                ``detect_stream_url``.
        """
        require_camera(actor, camera_id)
        given = set_fields(changes)
        new_url = given.get("stream_url")
        if new_url is not None and new_url != (await self._db.cameras.get(camera_id)).stream_url:
            await self._allowed(new_url)  # before the unit: the check may resolve a name
        new_detect = given.get("detect_stream_url")
        if new_detect is not None:
            await self._allowed(new_detect, "detect_stream_url")
        target = f"camera:{camera_id}"
        async with self._db.unit_of_work() as unit:
            camera = await unit.cameras.get(camera_id)
            values = dict(given)
            old_origin = stream_origin(camera.stream_url)
            moved = new_url is not None and stream_origin(new_url) != old_origin
            dropped = moved and "credentials" not in values and camera.credentials is not None
            if dropped:
                values["credentials"] = None
            updated = dataclasses.replace(camera, **values, updated_at=utc_now())
            await unit.cameras.update(updated)
            await record(unit.audit, actor, "camera.update", target, fields=sorted(given))
            if dropped:
                await record(
                    unit.audit,
                    actor,
                    "camera.credentials.drop",
                    target,
                    reason="the stream moved to another scheme, host or port without a new login",
                    old_origin=_origin_text(old_origin),
                    new_url=updated.stream_url,
                )
        await self._apply(updated)
        return CameraChange(updated, dropped, old_origin)

    async def delete_camera(self, actor: Actor, camera_id: str) -> None:
        """Delete a camera with its lines and zones (audited) and stop its pipeline."""
        require_camera(actor, camera_id)
        async with self._db.unit_of_work() as unit:
            await unit.cameras.delete(camera_id)
            await record(unit.audit, actor, "camera.delete", f"camera:{camera_id}")
        await self._pipelines.remove(camera_id)

    async def snapshot(self, camera_id: str) -> bytes:
        """The camera's latest frame as JPEG.

        Raises:
            NotFoundError: The camera is unknown or has no frame yet.
        """
        camera = await self._db.cameras.get(camera_id)
        image = self._pipelines.snapshot(camera_id)
        if image is None:
            why = "it is disabled" if not camera.enabled else "its pipeline has no frame yet"
            raise NotFoundError(f"camera {camera_id} has no snapshot: {why}")
        return image

    async def watch(self, camera_id: str, *, fps: float) -> AsyncGenerator[bytes, None]:
        """The camera's frames as JPEG, each once when it changes, at most ``fps`` a second.

        It waits while the camera has no frame and ends only when the consumer stops.

        Raises:
            NotFoundError: The camera is unknown (raised here, before any frame).
        """
        await self._db.cameras.get(camera_id)
        return watch_frames(self._pipelines, camera_id, interval=1.0 / fps)

    async def probe(self, actor: Actor, command: StreamTry) -> StreamProbe:
        """Try a stream before a camera is saved: open it and read its first frame.

        Credentials go into the URL as for a saved camera's pipeline; a
        failure is an answer (``ok`` false with the reason), never an error.
        The try is logged and audited (``camera.probe``).

        Raises:
            PermissionDeniedError: The actor is camera-scoped.
        """
        require_camera(actor, None)
        probe = await probe_stream(
            self._open_probe,
            self._encode_jpeg,
            command.stream_url,
            command.credentials,
            timeout_s=command.timeout_s,
            check_source=self._check_source,
        )
        log.info(
            "%s probed a stream: ok=%s in %.2f s (%s)",
            actor.audit_name,
            probe.ok,
            probe.elapsed_s,
            probe.error or "first frame read",
        )
        url = command.stream_url
        await record(self._db.audit, actor, "camera.probe", "camera:probe", url=url, ok=probe.ok)
        return probe

    async def status(self, camera_id: str) -> CameraStatus:
        """The camera's pipeline status (``disabled`` or ``offline`` when none runs).

        A camera assigned to an edge node reports what ``remote_status`` says
        (the node's latest health), ``offline`` when it knows nothing.
        """
        camera = await self._db.cameras.get(camera_id)
        if camera.edge_node_id is not None and self._remote_status is not None:
            remote = await self._remote_status(camera)
            if remote is not None:
                return remote
        status = None if camera.edge_node_id is not None else self._pipelines.status(camera_id)
        if status is not None:
            return status
        return CameraStatus(
            camera_id=camera_id,
            state="offline" if camera.enabled else "disabled",
            last_error=None,
            fps_in=0.0,
            fps_decoded=0.0,
            fps_detected=0.0,
            updated_at=utc_now(),
        )

    async def resume(self) -> int:
        """Hand every stored camera's configuration to the pipelines (at start-up).

        Returns:
            How many cameras were applied.
        """
        cameras = await all_pages(lambda skip: self._db.cameras.list(limit=MAX_PAGE, offset=skip))
        for camera in cameras:
            await self._apply(camera)
        return len(cameras)

    # --- pipelines --------------------------------------------------------------------------

    async def _allowed(self, stream_url: str, field: str = "stream_url") -> None:
        """Refuse a stream URL the policy does not allow (a name that does not resolve passes:
        the camera may not be on the network yet, and its pipeline checks again)."""
        try:
            await asyncio.to_thread(self._check_source, stream_url, unresolved_ok=True)
        except SourceError as exc:
            raise ValidationError(f"{field} {exc}") from exc

    async def _reapply(self, camera_id: str) -> None:
        await self._apply(await self._db.cameras.get(camera_id))

    async def _apply(self, camera: Camera) -> None:
        if camera.edge_node_id is not None:
            # Its node runs it (and reads its lines and zones from the config API).
            await self._pipelines.remove(camera.id)
            return
        lines = await all_pages(
            lambda skip: self._db.lines.list(camera.id, limit=MAX_PAGE, offset=skip)
        )
        zones = await all_pages(
            lambda skip: self._db.zones.list(camera.id, limit=MAX_PAGE, offset=skip)
        )
        await self._pipelines.apply(camera, lines, zones)


def _origin_text(origin: tuple[str, str | None, int | None]) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}:{port}" if host else "a local path"


class EventService:
    """Reads the event store.

    Args:
        database: The store.
    """

    def __init__(self, database: Database) -> None:
        self._db = database

    async def query(
        self, where: EventFilter, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Envelope]:
        """Matching events, newest first, one cursor page at a time."""
        check_page(limit)
        return await self._db.events.query(where, limit=limit, cursor=cursor)

    async def get(self, event_id: str) -> Envelope:
        """One event (``NotFoundError`` if unknown)."""
        return await self._db.events.get(event_id)
