"""Keeping the search index current: events, alerts and incidents in words.

``SearchIndexer`` turns each stored event, alert and incident into a
``SearchItem`` (its description from ``argus.domain.event_text`` and the
columns filters use), stores it, and gives every description that the
encoder has not seen yet a vector in the ``VectorIndex``. Descriptions are
encoded once per distinct text: a million events sharing a few thousand
descriptions cost a few thousand encodings.

Two durable bus consumers keep it current (the events subject, and the alerts
subject for alerts and the incidents they open); ``backfill`` indexes what was
stored before. Indexing is idempotent: an item is replaced by its kind and
id, and a description is encoded until the store records it as indexed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from argus.domain.alerts.alert import Alert
from argus.domain.errors import ArgusError, NotFoundError
from argus.domain.event_text import describe_alert, describe_event, describe_incident
from argus.domain.events import Envelope
from argus.domain.example_sampling import CANDIDATE_EVENT
from argus.domain.model_trials import SHADOW_EVENT
from argus.domain.site import Site
from argus.ports.bus import EventBus, Subscription
from argus.ports.repositories import Database
from argus.ports.search_items import SearchItem, SearchItemStore
from argus.ports.text_search import TextEncoder, VectorIndex
from argus.services.background import TaskGroup
from argus.services.consumers import ConsumerState, consume_resubscribing

__all__ = ["ALERT_DURABLE", "EVENT_DURABLE", "LazyVectorIndex", "SearchIndexer", "SiteNames"]

log = logging.getLogger(__name__)

EVENT_DURABLE = "argus-search-events"
ALERT_DURABLE = "argus-search-alerts"
_SKIPPED_TYPES = frozenset(
    {
        "heatmap.minute",  # per-minute summaries
        "tracks.minute",
        CANDIDATE_EVENT,  # the learning loop's own traffic: hard-example candidates,
        SHADOW_EVENT,  # shadow-run agreement summaries and which model runs where
        "model.running",  # adapters.pipelines.model_runs.MODEL_RUNNING (not importable here)
    }
)
_ENCODE_BATCH = 256
_NAMES_TTL = 30.0
_NAMES_RETRY = 1.0


@dataclass(slots=True)
class SiteNames:
    """Camera names and line direction labels, read from the store and cached.

    Attributes:
        cameras: Camera id to name.
        zones: Zone name in lower case to the name as configured.
        lines: Line name in lower case to the name as configured.
        labels: ``(line, direction)`` to the line's label.
        zone_cameras: Zone name in lower case to the cameras that have it.
        line_cameras: Line name in lower case to the cameras that have it.
        loaded_at: Monotonic seconds when read.
    """

    cameras: dict[str, str] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)
    lines: dict[str, str] = field(default_factory=dict)
    labels: dict[tuple[str, str], str] = field(default_factory=dict)
    zone_cameras: dict[str, set[str]] = field(default_factory=dict)
    line_cameras: dict[str, set[str]] = field(default_factory=dict)
    loaded_at: float = -1e9


async def load_names(database: Database) -> SiteNames:
    """Every camera's name, zones and lines (first 1000 cameras)."""
    names = SiteNames(loaded_at=time.monotonic())
    cameras = await database.cameras.list(limit=1000)
    for camera in cameras.items:
        names.cameras[camera.id] = camera.name
        for zone in (await database.zones.list(camera.id, limit=1000)).items:
            names.zones[zone.name.lower()] = zone.name
            names.zone_cameras.setdefault(zone.name.lower(), set()).add(camera.id)
        for line in (await database.lines.list(camera.id, limit=1000)).items:
            names.lines[line.name.lower()] = line.name
            names.line_cameras.setdefault(line.name.lower(), set()).add(camera.id)
            names.labels[(line.name, "in")] = line.in_label
            names.labels[(line.name, "out")] = line.out_label
    return names


class LazyVectorIndex:
    """A ``VectorIndex`` opened on first use (opening is async; building the app is not).

    Args:
        open_index: Opens the real index.
    """

    def __init__(self, open_index: Callable[[], Awaitable[VectorIndex]]) -> None:
        self._open = open_index
        self._index: VectorIndex | None = None
        self._lock = asyncio.Lock()

    async def _get(self) -> VectorIndex:
        async with self._lock:
            if self._index is None:
                self._index = await self._open()
            return self._index

    async def upsert(self, keys: Sequence[int], vectors: npt.NDArray[np.float32]) -> None:
        await (await self._get()).upsert(keys, vectors)

    async def search(self, vector: npt.NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        return await (await self._get()).search(vector, k)

    async def remove(self, keys: Sequence[int]) -> None:
        await (await self._get()).remove(keys)

    async def count(self) -> int:
        return await (await self._get()).count()

    async def close(self) -> None:
        async with self._lock:
            if self._index is not None:
                await self._index.close()
                self._index = None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class SearchIndexer:
    """Indexes events, alerts and incidents for search in words.

    Args:
        database: The store (events, alerts, incidents, cameras).
        items: The description store.
        index: The vector index of descriptions.
        encoder: The text encoder.
        site: Reads the site's time zones.
        bus: The event bus (``None``: no live consumers, backfill only).
        events_subject: Subject of the pipelines' events.
        alerts_subject: Subject of alert changes.
    """

    def __init__(
        self,
        database: Database,
        items: SearchItemStore,
        index: VectorIndex,
        encoder: TextEncoder,
        site: Callable[[], Awaitable[Site]],
        *,
        bus: EventBus | None = None,
        events_subject: str = "events",
        alerts_subject: str = "alerts",
    ) -> None:
        self._db = database
        self.items = items
        self.index = index
        self.encoder = encoder
        self._site = site
        self._bus = bus
        self._subjects = (events_subject, alerts_subject)
        self._names = SiteNames()
        self._lock = asyncio.Lock()
        self._tasks = TaskGroup()
        self.state = ConsumerState()

    async def names(self, *, camera_id: str | None = None) -> SiteNames:
        """The cached camera, zone and line names.

        Read again after ``_NAMES_TTL`` seconds, or at once (at most every
        ``_NAMES_RETRY`` seconds) when ``camera_id`` is a camera it does not know.
        """
        age = time.monotonic() - self._names.loaded_at
        unknown = camera_id is not None and camera_id not in self._names.cameras
        if age > _NAMES_TTL or (unknown and age > _NAMES_RETRY):
            self._names = await load_names(self._db)
        return self._names

    async def _zone(self, camera_id: str | None) -> ZoneInfo:
        return ZoneInfo((await self._site()).zone_of(camera_id))

    async def event_items(self, envelopes: Iterable[Envelope]) -> list[SearchItem]:
        """The search items of events (skipping per-minute summaries)."""
        site = await self._site()
        made: list[SearchItem] = []
        for envelope in envelopes:
            if envelope.type in _SKIPPED_TYPES:
                continue
            camera_id = envelope.source.camera_id
            names = await self.names(camera_id=camera_id)
            payload = envelope.payload
            hour = envelope.timestamp.astimezone(ZoneInfo(site.zone_of(camera_id))).hour
            text = describe_event(
                envelope.type,
                payload,
                camera=names.cameras.get(camera_id, camera_id),
                local_hour=hour,
                direction_labels=names.labels,
            )
            made.append(
                SearchItem(
                    kind="event",
                    item_id=envelope.event_id,
                    occurred_at=envelope.timestamp,
                    local_hour=hour,
                    text=text,
                    camera_id=camera_id,
                    event_type=envelope.type,
                    class_name=_text(payload.get("class_name")),
                    zone=_text(payload.get("zone")),
                    line=_text(payload.get("line")),
                    direction=_text(payload.get("direction")),
                )
            )
        return made

    async def alert_item(self, alert: Alert) -> SearchItem:
        """The search item of an alert (its rule, event and verdict in words)."""
        names = await self.names(camera_id=alert.camera_id)
        hour = alert.event_time.astimezone(await self._zone(alert.camera_id)).hour
        payload = await self._payload_of(alert)
        event = describe_event(
            alert.event_type,
            payload,
            camera=names.cameras.get(alert.camera_id, alert.camera_id),
            local_hour=hour,
        )
        return SearchItem(
            kind="alert",
            item_id=alert.id,
            occurred_at=alert.event_time,
            local_hour=hour,
            text=describe_alert(alert.rule_name, event, state=alert.state),
            camera_id=alert.camera_id,
            event_type=alert.event_type,
            class_name=alert.class_name,
            zone=_text(payload.get("zone")),
            line=_text(payload.get("line")),
            direction=_text(payload.get("direction")),
        )

    async def _payload_of(self, alert: Alert) -> Mapping[str, object]:
        """The payload of the alert's event (its class alone when the event is gone)."""
        try:
            return (await self._db.events.get(alert.event_id)).payload
        except NotFoundError:
            return {"class_name": alert.class_name or "object"}

    async def incident_item(self, incident_id: str) -> SearchItem:
        """The search item of a stored incident."""
        incident = await self._db.incidents.get(incident_id)
        names = await self.names()
        camera = incident.camera_id
        hour = incident.created_at.astimezone(await self._zone(camera)).hour
        text = describe_incident(
            incident.title,
            incident.description,
            camera=names.cameras.get(camera, camera) if camera else None,
        )
        return SearchItem(
            kind="incident",
            item_id=incident.id,
            occurred_at=incident.created_at,
            local_hour=hour,
            text=text,
            camera_id=camera,
        )

    async def add(self, items: Sequence[SearchItem]) -> None:
        """Store items, then encode and index their new descriptions."""
        if items:
            await self.items.add(items)
            try:
                await self.sync()
            except ArgusError:  # stored: the descriptions stay pending for the next sync
                log.exception("could not encode search descriptions; keywords still match")

    async def sync(self) -> int:
        """Encode and index every description the encoder has not indexed; how many."""
        done = 0
        async with self._lock:
            while True:
                pending = await self.items.pending(self.encoder.model_ref, limit=_ENCODE_BATCH)
                if not pending:
                    return done
                texts = [d.text for d in pending]
                vectors = await asyncio.to_thread(self.encoder.encode, texts)
                keys = [d.id for d in pending]
                await self.index.upsert(keys, vectors)
                await self.items.mark_indexed(keys, self.encoder.model_ref)
                done += len(keys)

    async def ensure_index(self) -> None:
        """Re-encode every description when the vector index lost them (new or deleted file)."""
        _, descriptions = await self.items.counts()
        if descriptions and await self.index.count() < descriptions:
            await self.items.reset_indexed()
        await self.sync()

    async def backfill(self, *, since: datetime | None = None, batch: int = 1000) -> int:
        """Index stored events, alerts and incidents (newest first); how many items."""
        from argus.ports.repositories import EventFilter

        total = 0
        cursor: str | None = None
        where = EventFilter(since=since) if since is not None else None
        while True:
            page = await self._db.events.query(where, limit=batch, cursor=cursor)
            items = await self.event_items(page.items)
            await self.items.add(items)
            total += len(items)
            cursor = page.next_cursor
            if cursor is None or not page.items:
                break
        offset = 0
        while True:
            alerts = await self._db.alerts.list(limit=batch, offset=offset)
            await self.items.add([await self.alert_item(a) for a in alerts.items])
            total += len(alerts.items)
            offset += len(alerts.items)
            if not alerts.items or offset >= alerts.total:
                break
        offset = 0
        while True:
            incidents = await self._db.incidents.list(limit=batch, offset=offset)
            await self.items.add([await self.incident_item(i.id) for i in incidents.items])
            total += len(incidents.items)
            offset += len(incidents.items)
            if not incidents.items or offset >= incidents.total:
                break
        await self.ensure_index()
        return total

    async def on_envelope(self, envelope: Envelope) -> None:
        """Index one delivery: an event, or an alert change (and its incident)."""
        if envelope.type in ("alert.created", "alert.updated"):
            alert = Alert.from_dict(envelope.payload)
            items = [await self.alert_item(alert)]
            if alert.incident_id is not None:
                items.append(await self.incident_item(alert.incident_id))
            await self.add(items)
        elif "." in envelope.type and not envelope.type.startswith("alert"):
            await self.add(await self.event_items([envelope]))

    def start(self) -> None:
        """Index what is stored, then follow both subjects (once)."""
        self._tasks.start(("argus-search-index", self._run))

    async def stop(self) -> None:
        """Stop following the subjects."""
        await self._tasks.stop()

    async def _run(self) -> None:
        try:
            await self.backfill()
        except Exception:  # top of a task: the live consumers still run
            log.exception("search backfill failed")
        if self._bus is None:
            return
        bus = self._bus
        events, alerts = self._subjects
        await asyncio.gather(
            consume_resubscribing(
                lambda: bus.subscribe(events, durable=EVENT_DURABLE),
                self._consume,
                self.state,
                what="search event indexer",
            ),
            consume_resubscribing(
                lambda: bus.subscribe(alerts, durable=ALERT_DURABLE),
                self._consume,
                ConsumerState(),
                what="search alert indexer",
            ),
        )

    async def _consume(self, subscription: Subscription) -> None:
        async for delivery in subscription:
            await self.on_envelope(delivery.envelope)
            await delivery.ack()
