"""In-memory repositories: the fake for service tests and the contract's reference.

State lives in dicts on one ``MemoryDatabase``; values are frozen, so nothing
handed out can change what is stored. Ordering, paging, filtering, conflicts
and idempotency follow the same contract as the SQL store.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Generic, TypeVar

from argus.adapters.db._common import (
    batch_result,
    decode_cursor,
    encode_cursor,
    event_class_name,
    only_types,
    unique_batch,
)
from argus.adapters.db.alerts_memory import (
    MemoryAlertRepository,
    MemoryIncidentRepository,
    MemoryRuleRepository,
)
from argus.adapters.db.audit_memory import MemoryAuditLog
from argus.adapters.db.evidence_memory import MemoryEvidenceRepository
from argus.adapters.db.identity_memory import (
    MemoryApiKeyRepository,
    MemoryRefreshTokenRepository,
    MemorySettingsStore,
    MemoryUserRepository,
)
from argus.adapters.db.workstations_memory import (
    MemoryCapacityStore,
    MemoryDecisionRepository,
    MemorySubjectRepository,
    MemoryVerifyClientRepository,
)
from argus.domain.cameras import Camera, Line, Zone
from argus.domain.errors import ConflictError, NotFoundError, StorageError
from argus.domain.event_stats import (
    COUNTED_TYPES,
    DWELL_TYPE,
    HEATMAP_TYPE,
    CountBucket,
    CountTally,
    DetectionStats,
    DetectionTally,
    DwellStats,
    DwellTally,
    HeatmapGrid,
    HeatmapTally,
    Interval,
)
from argus.domain.events import Envelope
from argus.ports.repositories import EventFilter, InsertResult, Page, check_page

__all__ = [
    "MemoryCameraRepository",
    "MemoryDatabase",
    "MemoryEventRepository",
    "MemoryLineRepository",
    "MemoryZoneRepository",
]


T = TypeVar("T")
E = TypeVar("E", Line, Zone)


class _State:
    def __init__(self) -> None:
        self.cameras: dict[str, Camera] = {}
        self.lines: dict[str, Line] = {}
        self.zones: dict[str, Zone] = {}
        self.events: dict[str, Envelope] = {}
        self.closed = False

    def check(self) -> None:
        if self.closed:
            raise StorageError("the database is closed")


def _page(items: builtins.list[T], limit: int, offset: int) -> Page[T]:
    check_page(limit, offset)
    return Page(tuple(items[offset : offset + limit]), len(items))


class MemoryCameraRepository:
    """Cameras in a dict (see ``CameraRepository``)."""

    def __init__(self, state: _State) -> None:
        self._state = state

    async def add(self, camera: Camera) -> None:
        self._state.check()
        if camera.id in self._state.cameras:
            raise ConflictError(f"camera {camera.id} already exists")
        self._state.cameras[camera.id] = camera

    async def get(self, camera_id: str) -> Camera:
        self._state.check()
        try:
            return self._state.cameras[camera_id]
        except KeyError:
            raise NotFoundError(f"no camera {camera_id}") from None

    async def list(
        self, *, limit: int = 50, offset: int = 0, enabled: bool | None = None
    ) -> Page[Camera]:
        self._state.check()
        cameras = sorted(self._state.cameras.values(), key=lambda c: (c.created_at, c.id))
        if enabled is not None:
            cameras = [c for c in cameras if c.enabled is enabled]
        return _page(cameras, limit, offset)

    async def update(self, camera: Camera) -> None:
        await self.get(camera.id)
        self._state.cameras[camera.id] = camera

    async def delete(self, camera_id: str) -> None:
        await self.get(camera_id)
        del self._state.cameras[camera_id]
        for table in (self._state.lines, self._state.zones):
            for key in [k for k, v in table.items() if v.camera_id == camera_id]:
                del table[key]


class _PerCamera(Generic[E]):
    """Lines or zones: entities with an id, a camera and a per-camera unique name."""

    kind = "entity"

    def __init__(self, state: _State, table: Callable[[_State], dict[str, E]]) -> None:
        self._state = state
        self._table: dict[str, E] = table(state)

    def _check_name(self, entity: E) -> None:
        for other in self._table.values():
            if (other.camera_id, other.name) == (entity.camera_id, entity.name) and (
                other.id != entity.id
            ):
                raise ConflictError(
                    f"camera {entity.camera_id} already has a {self.kind} named {entity.name!r}"
                )

    async def add(self, entity: E) -> None:
        self._state.check()
        if entity.camera_id not in self._state.cameras:
            raise NotFoundError(f"no camera {entity.camera_id}")
        if entity.id in self._table:
            raise ConflictError(f"{self.kind} {entity.id} already exists")
        self._check_name(entity)
        self._table[entity.id] = entity

    async def get(self, entity_id: str) -> E:
        self._state.check()
        try:
            return self._table[entity_id]
        except KeyError:
            raise NotFoundError(f"no {self.kind} {entity_id}") from None

    async def list(self, camera_id: str, *, limit: int = 100, offset: int = 0) -> Page[E]:
        self._state.check()
        items = sorted(
            (e for e in self._table.values() if e.camera_id == camera_id),
            key=lambda e: (e.name, e.id),
        )
        return _page(items, limit, offset)

    async def update(self, entity: E) -> None:
        old = await self.get(entity.id)
        if old.camera_id != entity.camera_id:
            raise ConflictError(f"a {self.kind} cannot move to another camera")
        self._check_name(entity)
        self._table[entity.id] = entity

    async def delete(self, entity_id: str) -> None:
        await self.get(entity_id)
        del self._table[entity_id]


class MemoryLineRepository(_PerCamera[Line]):
    """Lines in a dict (see ``LineRepository``)."""

    kind = "line"

    def __init__(self, state: _State) -> None:
        super().__init__(state, lambda s: s.lines)


class MemoryZoneRepository(_PerCamera[Zone]):
    """Zones in a dict (see ``ZoneRepository``)."""

    kind = "zone"

    def __init__(self, state: _State) -> None:
        super().__init__(state, lambda s: s.zones)


def _matches(envelope: Envelope, where: EventFilter) -> bool:
    checks = (
        where.camera_id is None or envelope.source.camera_id == where.camera_id,
        where.camera_ids is None or envelope.source.camera_id in where.camera_ids,
        where.edge_node_id is None or envelope.source.edge_node_id == where.edge_node_id,
        where.types is None or envelope.type in where.types,
        where.class_name is None or event_class_name(envelope) == where.class_name,
        where.since is None or envelope.timestamp >= where.since,
        where.until is None or envelope.timestamp < where.until,
    )
    return all(checks)


class MemoryEventRepository:
    """Events in a dict keyed by id (see ``EventRepository``)."""

    def __init__(self, state: _State) -> None:
        self._state = state

    async def add(self, envelope: Envelope) -> bool:
        result = await self.add_many([envelope])
        return bool(result.inserted)

    async def add_many(self, envelopes: Sequence[Envelope]) -> InsertResult:
        self._state.check()
        first, _repeated = unique_batch(envelopes)
        stored = {e.event_id for e in first if e.event_id not in self._state.events}
        for envelope in first:
            if envelope.event_id in stored:
                self._state.events[envelope.event_id] = envelope
        return batch_result(envelopes, stored)

    async def exists(self, event_id: str) -> bool:
        self._state.check()
        return event_id in self._state.events

    async def get(self, event_id: str) -> Envelope:
        self._state.check()
        try:
            return self._state.events[event_id]
        except KeyError:
            raise NotFoundError(f"no event {event_id}") from None

    async def query(
        self, where: EventFilter | None = None, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Envelope]:
        self._state.check()
        check_page(limit)
        where = where or EventFilter()
        matching = sorted(
            (e for e in self._state.events.values() if _matches(e, where)),
            key=lambda e: (e.timestamp, e.event_id),
            reverse=True,
        )
        after: tuple[datetime, str] | None = decode_cursor(cursor) if cursor else None
        rest = (
            [e for e in matching if (e.timestamp, e.event_id) < after]
            if after is not None
            else matching
        )
        items = tuple(rest[:limit])
        next_cursor = (
            encode_cursor(items[-1].timestamp, items[-1].event_id) if len(rest) > limit else None
        )
        return Page(items, len(matching), next_cursor)

    def _matching(self, where: EventFilter | None) -> Iterator[Envelope]:
        self._state.check()
        if where is None:
            return iter(())
        return (e for e in self._state.events.values() if _matches(e, where))

    async def counts(
        self, where: EventFilter, *, interval: Interval = "hour", tz: tzinfo = UTC
    ) -> tuple[CountBucket, ...]:
        tally = CountTally(interval, tz)
        for e in self._matching(only_types(where, COUNTED_TYPES)):
            tally.add(e.timestamp, e.source.camera_id, e.type, e.payload)
        return tally.result()

    async def dwell(self, where: EventFilter, *, zone: str | None = None) -> tuple[DwellStats, ...]:
        tally = DwellTally(zone)
        for e in self._matching(only_types(where, (DWELL_TYPE,))):
            tally.add(e.source.camera_id, e.type, e.payload)
        return tally.result()

    async def detections(self, where: EventFilter) -> tuple[DetectionStats, ...]:
        tally = DetectionTally()
        for e in self._matching(where):
            tally.add(e.source.camera_id, e.type, e.payload)
        return tally.result()

    async def heatmap(self, camera_id: str, since: datetime, until: datetime) -> HeatmapGrid | None:
        where = EventFilter(camera_id=camera_id, types=(HEATMAP_TYPE,), since=since, until=until)
        tally = HeatmapTally()
        for e in sorted(
            self._matching(where), key=lambda e: (e.timestamp, e.event_id), reverse=True
        ):
            tally.add(e.payload)
        return tally.result()


class MemoryDatabase:
    """All repositories over one in-memory state (see ``Database``)."""

    def __init__(self, audit_key: bytes | None = None) -> None:
        self._state = _State()
        self._audit = MemoryAuditLog(audit_key if audit_key is not None else os.urandom(32))
        self._evidence = MemoryEvidenceRepository()
        self._cameras = MemoryCameraRepository(self._state)
        self._lines = MemoryLineRepository(self._state)
        self._zones = MemoryZoneRepository(self._state)
        self._events = MemoryEventRepository(self._state)
        self._rules = MemoryRuleRepository(self._state.check)
        self._alerts = MemoryAlertRepository(self._state.check)
        self._incidents = MemoryIncidentRepository(self._state.check)
        self._users = MemoryUserRepository(self._state.check)
        self._refresh_tokens = MemoryRefreshTokenRepository(self._state.check)
        self._api_keys = MemoryApiKeyRepository(self._state.check)
        self._settings = MemorySettingsStore(self._state.check)
        self._face_subjects = MemorySubjectRepository(self._state.check)
        self._verify_clients = MemoryVerifyClientRepository(self._state.check)
        self._verify_decisions = MemoryDecisionRepository(self._state.check)
        self._capacity = MemoryCapacityStore(self._state.check)

    @property
    def cameras(self) -> MemoryCameraRepository:
        """Cameras."""
        return self._cameras

    @property
    def lines(self) -> MemoryLineRepository:
        """Lines."""
        return self._lines

    @property
    def zones(self) -> MemoryZoneRepository:
        """Zones."""
        return self._zones

    @property
    def events(self) -> MemoryEventRepository:
        """Events."""
        return self._events

    @property
    def rules(self) -> MemoryRuleRepository:
        """Alert rules."""
        return self._rules

    @property
    def alerts(self) -> MemoryAlertRepository:
        """Alerts."""
        return self._alerts

    @property
    def incidents(self) -> MemoryIncidentRepository:
        """Incidents."""
        return self._incidents

    @property
    def audit(self) -> MemoryAuditLog:
        """The audit trail."""
        return self._audit

    @property
    def evidence(self) -> MemoryEvidenceRepository:
        """Evidence metadata."""
        return self._evidence

    @property
    def users(self) -> MemoryUserRepository:
        """Users."""
        return self._users

    @property
    def refresh_tokens(self) -> MemoryRefreshTokenRepository:
        """Refresh tokens."""
        return self._refresh_tokens

    @property
    def api_keys(self) -> MemoryApiKeyRepository:
        """API keys."""
        return self._api_keys

    @property
    def settings(self) -> MemorySettingsStore:
        """Installation-wide settings."""
        return self._settings

    @property
    def face_subjects(self) -> MemorySubjectRepository:
        """Face subjects and their descriptors."""
        return self._face_subjects

    @property
    def verify_clients(self) -> MemoryVerifyClientRepository:
        """Workstation clients."""
        return self._verify_clients

    @property
    def verify_decisions(self) -> MemoryDecisionRepository:
        """The workstation decision history."""
        return self._verify_decisions

    @property
    def capacity(self) -> MemoryCapacityStore:
        """The capacity document (one process)."""
        return self._capacity

    async def ping(self) -> None:
        """Raise ``StorageError`` once closed."""
        self._state.check()

    async def close(self) -> None:
        """Refuse further use (as a closed SQL store would)."""
        self._state.closed = True
