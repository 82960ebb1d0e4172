"""Repository ports: cameras, their lines and zones, and the event store.

Every method is one transaction; ``Database.unit_of_work()`` groups several
(``argus.ports.unit_of_work``). Unknown ids raise ``NotFoundError``; an id
that is taken (or a line/zone name already used on its camera) raises
``ConflictError``; a failing database raises ``StorageError``.

Lists are paginated by ``limit`` and ``offset`` and report the ``total`` that
matched. Events, which grow without bound, are paginated by an opaque
``cursor`` (keyset: stable while new events arrive) and still report ``total``.
The event store inserts idempotently: an ``event_id`` that is already stored
is reported as a duplicate and left unchanged, so a replay never double-counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from argus.domain.cameras import Camera, Line, Zone
from argus.domain.errors import ValidationError
from argus.domain.event_stats import (
    CountBucket,
    DetectionStats,
    DwellStats,
    HeatmapGrid,
    Interval,
)
from argus.domain.events import Envelope
from argus.ports.paging import Page

if TYPE_CHECKING:
    from argus.ports.alert_groups import AlertGroupRepository, SuppressionRepository
    from argus.ports.alerts import AlertRepository, IncidentRepository, RuleRepository
    from argus.ports.audit import AuditLog
    from argus.ports.evidence import EvidenceRepository
    from argus.ports.hard_examples import HardExampleStore
    from argus.ports.identity import (
        ApiKeyRepository,
        RefreshTokenRepository,
        SettingsStore,
        UserRepository,
    )
    from argus.ports.model_registry import ModelRegistryStore
    from argus.ports.model_trials import TrialStore
    from argus.ports.nodes import NodeRepository
    from argus.ports.notify import NotifyStore
    from argus.ports.privacy import ErasureStore
    from argus.ports.recounts import RecountJobStore
    from argus.ports.retention import RetentionStore
    from argus.ports.unit_of_work import UnitOfWork
    from argus.ports.workstations import (
        CapacityStore,
        DecisionRepository,
        SubjectRepository,
        VerifyClientRepository,
    )

__all__ = [
    "CameraRepository",
    "Database",
    "EventFilter",
    "EventRepository",
    "InsertResult",
    "LineRepository",
    "ZoneRepository",
]


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a query returns; ``None`` fields do not filter.

    Attributes:
        camera_id: Events of this camera.
        types: Events of any of these types.
        class_name: Events about this object class (``payload.class_name``).
        since: At or after this time (timezone-aware).
        until: Strictly before this time (timezone-aware).
        edge_node_id: Events produced by this edge node.
        camera_ids: Events of any of these cameras (a caller's camera scope).
    """

    camera_id: str | None = None
    types: tuple[str, ...] | None = None
    class_name: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    edge_node_id: str | None = None
    camera_ids: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            moment = getattr(self, name)
            if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
                raise ValidationError(f"{name} must be timezone-aware")
        if self.types is not None and not self.types:
            raise ValidationError("types must be None or name at least one type")


@dataclass(frozen=True, slots=True)
class InsertResult:
    """What a batched event insert did.

    Attributes:
        inserted: Event ids stored by this call, in input order.
        duplicates: Event ids that were already stored (or repeated in the
            batch), in input order.
    """

    inserted: tuple[str, ...] = field(default=())
    duplicates: tuple[str, ...] = field(default=())


@runtime_checkable
class CameraRepository(Protocol):
    """Registered cameras; credentials are encrypted at rest by SQL stores."""

    async def add(self, camera: Camera) -> None:
        """Store a new camera (``ConflictError`` if its id exists)."""
        ...

    async def get(self, camera_id: str) -> Camera:
        """Return a camera (``NotFoundError`` if unknown)."""
        ...

    async def list(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        enabled: bool | None = None,
        edge_node_id: str | None = None,
    ) -> Page[Camera]:
        """Cameras in creation order (then id), optionally only (not) enabled ones, and
        only those assigned to edge node ``edge_node_id`` when it is given."""
        ...

    async def update(self, camera: Camera) -> None:
        """Replace a stored camera by id (``NotFoundError`` if unknown)."""
        ...

    async def delete(self, camera_id: str) -> None:
        """Delete a camera with its lines and zones (``NotFoundError`` if unknown)."""
        ...


@runtime_checkable
class LineRepository(Protocol):
    """Counting lines per camera; names are unique per camera."""

    async def add(self, line: Line) -> None:
        """Store a new line (``NotFoundError`` for an unknown camera, ``ConflictError``)."""
        ...

    async def get(self, line_id: str) -> Line:
        """Return a line (``NotFoundError`` if unknown)."""
        ...

    async def list(self, camera_id: str, *, limit: int = 100, offset: int = 0) -> Page[Line]:
        """Lines of one camera by name."""
        ...

    async def update(self, line: Line) -> None:
        """Replace a stored line by id (``NotFoundError``, ``ConflictError`` on a taken name)."""
        ...

    async def delete(self, line_id: str) -> None:
        """Delete a line (``NotFoundError`` if unknown)."""
        ...


@runtime_checkable
class ZoneRepository(Protocol):
    """Polygon zones per camera; names are unique per camera."""

    async def add(self, zone: Zone) -> None:
        """Store a new zone (``NotFoundError`` for an unknown camera, ``ConflictError``)."""
        ...

    async def get(self, zone_id: str) -> Zone:
        """Return a zone (``NotFoundError`` if unknown)."""
        ...

    async def list(self, camera_id: str, *, limit: int = 100, offset: int = 0) -> Page[Zone]:
        """Zones of one camera by name."""
        ...

    async def update(self, zone: Zone) -> None:
        """Replace a stored zone by id (``NotFoundError``, ``ConflictError`` on a taken name)."""
        ...

    async def delete(self, zone_id: str) -> None:
        """Delete a zone (``NotFoundError`` if unknown)."""
        ...


@runtime_checkable
class EventRepository(Protocol):
    """The append-only event store, idempotent on ``event_id``."""

    async def add(self, envelope: Envelope) -> bool:
        """Store one event; ``False`` (and nothing changed) if its id is already stored."""
        ...

    async def add_many(self, envelopes: Sequence[Envelope]) -> InsertResult:
        """Store a batch in one transaction, skipping ids already stored."""
        ...

    async def exists(self, event_id: str) -> bool:
        """Whether an event with this id is stored (the durable idempotency check)."""
        ...

    async def get(self, event_id: str) -> Envelope:
        """Return a stored event (``NotFoundError`` if unknown)."""
        ...

    async def query(
        self, where: EventFilter | None = None, *, limit: int = 100, cursor: str | None = None
    ) -> Page[Envelope]:
        """Matching events, newest first (then by id, descending).

        Raises:
            ValidationError: ``cursor`` was not made by this method.
        """
        ...

    async def counts(
        self, where: EventFilter, *, interval: Interval = "hour", tz: tzinfo = UTC
    ) -> tuple[CountBucket, ...]:
        """Line crossings (per direction) and zone entries per interval, camera, name and class.

        Only ``line.crossed`` and ``zone.entered`` events count (the others
        ``where.types`` names are ignored); buckets follow the clock of ``tz``.
        The events are streamed through a ``CountTally``, never loaded at once.
        """
        ...

    async def dwell(self, where: EventFilter, *, zone: str | None = None) -> tuple[DwellStats, ...]:
        """Dwell statistics of ``zone.exited`` events per camera, zone (or just ``zone``), class."""
        ...

    async def detections(self, where: EventFilter) -> tuple[DetectionStats, ...]:
        """Events per camera, type and class with their mean detection confidence."""
        ...

    async def heatmap(self, camera_id: str, since: datetime, until: datetime) -> HeatmapGrid | None:
        """The ``heatmap.minute`` events of a camera in ``[since, until)`` summed.

        Returns:
            The summed grid (the newest event's geometry), or ``None`` when
            the period has none.

        Raises:
            ValidationError: ``since`` or ``until`` is naive.
        """
        ...


@runtime_checkable
class Database(Protocol):
    """The repositories of one store, and its lifecycle."""

    @property
    def cameras(self) -> CameraRepository:
        """Cameras."""
        ...

    @property
    def lines(self) -> LineRepository:
        """Lines."""
        ...

    @property
    def zones(self) -> ZoneRepository:
        """Zones."""
        ...

    @property
    def events(self) -> EventRepository:
        """Events."""
        ...

    @property
    def rules(self) -> RuleRepository:
        """Alert rules."""
        ...

    @property
    def alerts(self) -> AlertRepository:
        """Alerts."""
        ...

    @property
    def incidents(self) -> IncidentRepository:
        """Incidents."""
        ...

    @property
    def alert_groups(self) -> AlertGroupRepository:
        """Alert groups (``argus.ports.alert_groups``)."""
        ...

    @property
    def suppressions(self) -> SuppressionRepository:
        """Snoozes and maintenance windows (``argus.ports.alert_groups``)."""
        ...

    @property
    def audit(self) -> AuditLog:
        """The hash-chained audit trail."""
        ...

    @property
    def evidence(self) -> EvidenceRepository:
        """Evidence metadata."""
        ...

    @property
    def users(self) -> UserRepository:
        """Users."""
        ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository:
        """Refresh tokens of sign-in sessions."""
        ...

    @property
    def api_keys(self) -> ApiKeyRepository:
        """API keys."""
        ...

    @property
    def settings(self) -> SettingsStore:
        """Installation-wide settings (the security policy)."""
        ...

    @property
    def face_subjects(self) -> SubjectRepository:
        """Face subjects of workstation security and their descriptors."""
        ...

    @property
    def verify_clients(self) -> VerifyClientRepository:
        """Registered workstation clients."""
        ...

    @property
    def verify_decisions(self) -> DecisionRepository:
        """The workstation decision history."""
        ...

    @property
    def capacity(self) -> CapacityStore:
        """The shared capacity document of the verification pipelines."""
        ...

    @property
    def nodes(self) -> NodeRepository:
        """Edge nodes, their health reports and evidence links (``argus.ports.nodes``)."""
        ...

    @property
    def privacy(self) -> ErasureStore:
        """Deletions of events and decisions for privacy requests (``argus.ports.privacy``)."""
        ...

    @property
    def notify(self) -> NotifyStore:
        """Notification channels, routes and the durable outbox (``argus.ports.notify``)."""
        ...

    @property
    def retention(self) -> RetentionStore:
        """Batched deletes of data past its retention (``argus.ports.retention``)."""
        ...

    @property
    def recounts(self) -> RecountJobStore:
        """Re-count jobs (``argus.ports.recounts``)."""
        ...

    @property
    def hard_examples(self) -> HardExampleStore:
        """The hard-example labelling queue (``argus.ports.hard_examples``)."""
        ...

    @property
    def model_registry(self) -> ModelRegistryStore:
        """Model pack versions and per-camera assignments (``argus.ports.model_registry``)."""
        ...

    @property
    def model_trials(self) -> TrialStore:
        """Shadow plans, shadow reports and evaluations (``argus.ports.model_trials``)."""
        ...

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Repositories bound to one transaction (see ``argus.ports.unit_of_work``)."""
        ...

    async def ping(self) -> None:
        """Check the store answers (``StorageError`` if not); for readiness probes."""
        ...

    async def close(self) -> None:
        """Release connections. Idempotent."""
        ...
