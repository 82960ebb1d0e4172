"""The camera registry as a use case: cameras, their lines and zones, and events.

Every change to a camera, or to one of its lines or zones, is stored first and
then handed to the pipeline supervisor for **that camera only** (``apply`` with
its full, fresh configuration); deleting a camera removes its pipeline. Entry
points (the REST API) call one method per request and never query the store.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from argus.domain.cameras import Camera, Credentials, Line, Zone, new_id, utc_now
from argus.domain.errors import NotFoundError, SourceError, ValidationError
from argus.domain.events import Envelope
from argus.ports.pipelines import CameraStatus, PipelineSupervisor
from argus.ports.repositories import MAX_PAGE, Database, EventFilter, Page, check_page
from argus.ports.video import JpegEncoder, ProbeOpener
from argus.services.camera_video import SourceCheck, StreamProbe, probe_stream, watch_frames
from argus.services.paging import all_pages

__all__ = ["CameraChange", "CameraService", "EventService", "stream_origin"]

T = TypeVar("T")
E = TypeVar("E", Line, Zone)


_DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}


def stream_origin(stream_url: str) -> tuple[str, str | None, int | None]:
    """Scheme, host and port of a stream URL (default ports filled in); a path has none.

    Stored credentials belong to this origin: they are sent nowhere else.
    """
    parts = urlsplit(stream_url)
    scheme = parts.scheme.lower()
    if not parts.hostname:
        return scheme, None, None
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS.get(scheme)


@dataclasses.dataclass(frozen=True, slots=True)
class CameraChange:
    """What ``update_camera`` did.

    Attributes:
        camera: The camera as stored now.
        credentials_dropped: Its stored login was removed because the stream
            moved to another scheme, host or port without a new login.
        old_origin: ``stream_origin`` of the URL before the change.
    """

    camera: Camera
    credentials_dropped: bool
    old_origin: tuple[str, str | None, int | None]


def _credentials(value: object) -> Credentials | None:
    if value is None or isinstance(value, Credentials):
        return value
    if isinstance(value, Mapping):
        return Credentials(username=value.get("username", ""), password=value.get("password", ""))
    raise TypeError(f"credentials must be a mapping or None, got {type(value).__name__}")


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
    """

    def __init__(
        self,
        database: Database,
        pipelines: PipelineSupervisor,
        *,
        open_probe: ProbeOpener,
        encode_jpeg: JpegEncoder,
        check_source: SourceCheck,
    ) -> None:
        self._db = database
        self._pipelines = pipelines
        self._open_probe = open_probe
        self._encode_jpeg = encode_jpeg
        self._check_source = check_source

    # --- cameras ----------------------------------------------------------------------------

    async def create_camera(self, fields: Mapping[str, Any]) -> Camera:
        """Register a camera and start its pipeline.

        Args:
            fields: ``Camera`` fields other than ``id`` and the timestamps;
                ``credentials`` may be a ``{"username", "password"}`` mapping.

        Raises:
            ValidationError: A field breaks the camera's invariants, or the
                policy on stream targets refuses its ``stream_url``.
        """
        values = dict(fields)
        if "credentials" in values:
            values["credentials"] = _credentials(values["credentials"])
        camera = Camera(id=new_id(), **values)
        await self._allowed(camera.stream_url)
        await self._db.cameras.add(camera)
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

    async def update_camera(self, camera_id: str, changes: Mapping[str, Any]) -> CameraChange:
        """Change some fields of a camera and restart only its pipeline.

        A new ``stream_url`` on another scheme, host or port drops the stored
        login unless ``changes`` brings one: a login is never sent to a host
        it was not given for.

        Args:
            camera_id: The camera.
            changes: Fields to replace; ``credentials`` ``None`` removes them.

        Raises:
            NotFoundError: Unknown camera.
            ValidationError: A field breaks the camera's invariants, or the
                policy on stream targets refuses the new ``stream_url``.
        """
        camera = await self._db.cameras.get(camera_id)
        values = dict(changes)
        if "credentials" in values:
            values["credentials"] = _credentials(values["credentials"])
        old_origin = stream_origin(camera.stream_url)
        dropped = False
        new_url = values.get("stream_url")
        if new_url is not None and new_url != camera.stream_url:
            await self._allowed(new_url)
            moved = stream_origin(new_url) != old_origin
            if moved and "credentials" not in values and camera.credentials is not None:
                values["credentials"] = None
                dropped = True
        updated = dataclasses.replace(camera, **values, updated_at=utc_now())
        await self._db.cameras.update(updated)
        await self._apply(updated)
        return CameraChange(updated, dropped, old_origin)

    async def delete_camera(self, camera_id: str) -> None:
        """Delete a camera with its lines and zones and stop its pipeline."""
        await self._db.cameras.delete(camera_id)
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

    async def probe(
        self, stream_url: str, credentials: object = None, *, timeout_s: float
    ) -> StreamProbe:
        """Try a stream before a camera is saved: open it and read its first frame.

        Credentials go into the URL as for a saved camera's pipeline; a
        failure is an answer (``ok`` false with the reason), never an error.

        Args:
            stream_url: The URL or path, without a password.
            credentials: ``Credentials``, a ``{"username", "password"}`` mapping, or None.
            timeout_s: Seconds allowed to connect and read the first frame.
        """
        return await probe_stream(
            self._open_probe,
            self._encode_jpeg,
            stream_url,
            _credentials(credentials),
            timeout_s=timeout_s,
            check_source=self._check_source,
        )

    async def status(self, camera_id: str) -> CameraStatus:
        """The camera's pipeline status (``disabled`` or ``offline`` when none runs)."""
        camera = await self._db.cameras.get(camera_id)
        status = self._pipelines.status(camera_id)
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

    # --- lines and zones --------------------------------------------------------------------

    async def create_line(self, camera_id: str, fields: Mapping[str, Any]) -> Line:
        """Add a line to a camera and restart its pipeline."""
        line = Line(id=new_id(), camera_id=camera_id, **fields)
        await self._db.lines.add(line)
        await self._reapply(camera_id)
        return line

    async def list_lines(self, camera_id: str, *, limit: int = 100, offset: int = 0) -> Page[Line]:
        """A camera's lines by name (``NotFoundError`` for an unknown camera)."""
        check_page(limit, offset)
        await self._db.cameras.get(camera_id)
        return await self._db.lines.list(camera_id, limit=limit, offset=offset)

    async def get_line(self, camera_id: str, line_id: str) -> Line:
        """One line of a camera (``NotFoundError`` if it is not that camera's)."""
        return _owned(await self._db.lines.get(line_id), camera_id, "line")

    async def update_line(self, camera_id: str, line_id: str, changes: Mapping[str, Any]) -> Line:
        """Change some fields of a line and restart its camera's pipeline."""
        line = dataclasses.replace(await self.get_line(camera_id, line_id), **changes)
        await self._db.lines.update(line)
        await self._reapply(camera_id)
        return line

    async def delete_line(self, camera_id: str, line_id: str) -> None:
        """Delete a line and restart its camera's pipeline."""
        await self.get_line(camera_id, line_id)
        await self._db.lines.delete(line_id)
        await self._reapply(camera_id)

    async def create_zone(self, camera_id: str, fields: Mapping[str, Any]) -> Zone:
        """Add a zone to a camera and restart its pipeline."""
        zone = Zone(id=new_id(), camera_id=camera_id, **fields)
        await self._db.zones.add(zone)
        await self._reapply(camera_id)
        return zone

    async def list_zones(self, camera_id: str, *, limit: int = 100, offset: int = 0) -> Page[Zone]:
        """A camera's zones by name (``NotFoundError`` for an unknown camera)."""
        check_page(limit, offset)
        await self._db.cameras.get(camera_id)
        return await self._db.zones.list(camera_id, limit=limit, offset=offset)

    async def get_zone(self, camera_id: str, zone_id: str) -> Zone:
        """One zone of a camera (``NotFoundError`` if it is not that camera's)."""
        return _owned(await self._db.zones.get(zone_id), camera_id, "zone")

    async def update_zone(self, camera_id: str, zone_id: str, changes: Mapping[str, Any]) -> Zone:
        """Change some fields of a zone and restart its camera's pipeline."""
        zone = dataclasses.replace(await self.get_zone(camera_id, zone_id), **changes)
        await self._db.zones.update(zone)
        await self._reapply(camera_id)
        return zone

    async def delete_zone(self, camera_id: str, zone_id: str) -> None:
        """Delete a zone and restart its camera's pipeline."""
        await self.get_zone(camera_id, zone_id)
        await self._db.zones.delete(zone_id)
        await self._reapply(camera_id)

    # --- pipelines --------------------------------------------------------------------------

    async def _allowed(self, stream_url: str) -> None:
        """Refuse a stream URL the policy does not allow (a name that does not resolve passes:
        the camera may not be on the network yet, and its pipeline checks again)."""
        try:
            await asyncio.to_thread(self._check_source, stream_url, unresolved_ok=True)
        except SourceError as exc:
            raise ValidationError(f"stream_url {exc}") from exc

    async def _reapply(self, camera_id: str) -> None:
        await self._apply(await self._db.cameras.get(camera_id))

    async def _apply(self, camera: Camera) -> None:
        lines = await all_pages(
            lambda skip: self._db.lines.list(camera.id, limit=MAX_PAGE, offset=skip)
        )
        zones = await all_pages(
            lambda skip: self._db.zones.list(camera.id, limit=MAX_PAGE, offset=skip)
        )
        await self._pipelines.apply(camera, lines, zones)


def _owned(entity: E, camera_id: str, what: str) -> E:
    if entity.camera_id != camera_id:
        raise NotFoundError(f"camera {camera_id} has no {what} {entity.id}")
    return entity


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
