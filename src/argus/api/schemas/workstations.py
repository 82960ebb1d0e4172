"""Schemas of ``/api/v1/workstations``: subjects, enrolment, clients, capacity, decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from argus.api.schemas.common import PartialUpdate, StrictModel, Text, non_nullable
from argus.domain.workstations import ClientStatus, DecisionRecord, FaceSubject, VerifyClient
from argus.services.verify_capacity import CapacityView, Place
from argus.services.workstation_photos import SubjectView

__all__ = [
    "CapacityPublic",
    "ClientCreate",
    "ClientCreated",
    "ClientList",
    "ClientPublic",
    "ClientUpdate",
    "DecisionList",
    "DecisionPublic",
    "EnrolmentPublic",
    "SubjectCreate",
    "SubjectErased",
    "SubjectList",
    "SubjectPublic",
]

DisplayName = Annotated[Text, Field(min_length=1, max_length=200)]
SubjectId = Annotated[str, Field(min_length=1, max_length=64)]
Subjects = Annotated[list[SubjectId], Field(max_length=100)]


class SubjectCreate(StrictModel):
    """A new face subject (descriptors are added by uploading photos)."""

    name: DisplayName


class SubjectPublic(BaseModel):
    """A face subject, how many reference descriptors it has, and its face thumbnails."""

    id: str
    name: str
    created_at: datetime
    embeddings: int = Field(description="Reference descriptors (one per enrolled photo).")
    photos: list[str] = Field(
        default_factory=list,
        description="Ids of the enrolled faces kept as thumbnails, oldest first "
        "(GET /workstations/subjects/{id}/photos/{photo_id}).",
    )

    @classmethod
    def of(cls, subject: FaceSubject, embeddings: int) -> SubjectPublic:
        """From the domain value (a new subject: no thumbnails yet)."""
        return cls(
            id=subject.id, name=subject.name, created_at=subject.created_at, embeddings=embeddings
        )

    @classmethod
    def view(cls, seen: SubjectView) -> SubjectPublic:
        """From the registry's view of a subject."""
        subject = seen.subject
        return cls(
            id=subject.id,
            name=subject.name,
            created_at=subject.created_at,
            embeddings=seen.embeddings,
            photos=list(seen.photos),
        )


class SubjectList(BaseModel):
    """A page of subjects."""

    items: list[SubjectPublic]
    total: int
    limit: int
    offset: int


class SubjectErased(BaseModel):
    """What deleting a subject erased."""

    id: str
    erased_embeddings: int


class EnrolmentPublic(BaseModel):
    """The result of an enrolment upload (the photos themselves are not kept)."""

    subject_id: str
    added: int = Field(description="Descriptors made from this upload, one per photo.")
    embeddings: int = Field(description="Descriptors the subject has now.")
    model: str = Field(description="The embedder that made them (name@version).")
    photos: list[str] = Field(
        default_factory=list,
        description="Ids of the face thumbnails kept from this upload, one per photo.",
    )


class ClientCreate(StrictModel):
    """A new workstation client and the subjects allowed at it."""

    name: DisplayName
    subjects: Subjects


class ClientUpdate(PartialUpdate):
    """Changes to a client."""

    not_null: ClassVar[tuple[str, ...]] = ("name", "subjects")
    model_config = ConfigDict(json_schema_extra=non_nullable(("name", "subjects")))

    name: DisplayName | None = None
    subjects: Subjects | None = None


class ClientPublic(BaseModel):
    """A client, its status and where it is in the shared capacity state now."""

    id: str
    name: str
    subjects: list[str]
    status: ClientStatus
    violations: int
    created_at: datetime
    last_seen: datetime | None
    connection: Place = Field(description="Served by a pipeline, waiting, or not connected.")
    pipeline: int | None = Field(description="The pipeline serving it, when assigned.")
    position: int | None = Field(description="Its place in the queue (1 is next), when queued.")

    @classmethod
    def of(cls, client: VerifyClient, view: CapacityView) -> ClientPublic:
        """From the domain value and the capacity state."""
        connection, number = view.place(client.id)
        return cls(
            id=client.id,
            name=client.name,
            subjects=list(client.subjects),
            status=client.status,
            violations=client.violations,
            created_at=client.created_at,
            last_seen=client.last_seen,
            connection=connection,
            pipeline=number if connection == "assigned" else None,
            position=number if connection == "queued" else None,
        )


class ClientCreated(ClientPublic):
    """A registered client with its key: this is the only time the key is shown."""

    key: str = Field(description="The client's secret; send it in the auth message.")


class ClientList(BaseModel):
    """A page of clients."""

    items: list[ClientPublic]
    total: int
    limit: int
    offset: int


class LimitsPublic(BaseModel):
    """The capacity limits in force."""

    max_pipelines: int
    max_clients_per_pipeline: int
    max_queue: int
    idle_seconds: float


class PipelinePublic(BaseModel):
    """One running pipeline."""

    id: int
    clients: list[str]
    analysed_here: int | None = Field(
        description="Frames analysed by this server's worker for it (null: none here)."
    )


class CapacityPublic(BaseModel):
    """Pipelines and the queue, shared by every server."""

    limits: LimitsPublic
    pipelines: list[PipelinePublic]
    queue: list[str] = Field(description="Waiting clients, first in line first.")

    @classmethod
    def of(cls, view: CapacityView, analysed: dict[int, int]) -> CapacityPublic:
        """From the shared state and this server's counters."""
        limits = view.limits
        return cls(
            limits=LimitsPublic(
                max_pipelines=limits.max_pipelines,
                max_clients_per_pipeline=limits.max_clients_per_pipeline,
                max_queue=limits.max_queue,
                idle_seconds=limits.idle_seconds,
            ),
            pipelines=[
                PipelinePublic(id=n, clients=list(c), analysed_here=analysed.get(n))
                for n, c in view.pipelines.items()
            ],
            queue=list(view.queue),
        )


class DecisionPublic(BaseModel):
    """A non-allow decision sent to a client."""

    id: str
    client_id: str
    subject: str | None
    action: str = Field(description="lock_screen, sign_out or block.")
    reasons: list[str]
    scores: dict[str, float]
    at: datetime
    frame_seq: int
    evidence_id: str | None = Field(description="The encrypted frame (GET /evidence/{id}).")

    @classmethod
    def of(cls, record: DecisionRecord) -> DecisionPublic:
        """From the domain value."""
        return cls(
            id=record.id,
            client_id=record.client_id,
            subject=record.subject,
            action=record.action,
            reasons=list(record.reasons),
            scores=dict(record.scores),
            at=record.at,
            frame_seq=record.frame_seq,
            evidence_id=record.evidence_id,
        )


class DecisionList(BaseModel):
    """A page of decisions, newest first."""

    items: list[DecisionPublic]
    total: int
    limit: int
    offset: int
