"""Workstation security's registry: face subjects and their enrolment, verify clients.

Enrolment turns photos into descriptors (face detection, alignment, the
embedder) and keeps the descriptors with a small thumbnail of each face: the
photos are never stored (``workstation_photos``). A photo must show exactly one
face; zero or several are refused with a message that says which photo and
why. Deleting a subject erases its descriptors and thumbnails (GDPR) and
removes it from every client that named it.

A client is registered with a name and the subjects allowed at its screen; its
key is returned once and only its SHA-256 is stored. Pausing, blocking,
unblocking and deleting are audited, and reported to the listeners (the verify
hub ends or refreshes the client's live session).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from argus.domain.actor import Actor
from argus.domain.audit import AuditEntry
from argus.domain.cameras import new_id
from argus.domain.errors import (
    AuthenticationError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from argus.domain.faces import EnrolledFaces
from argus.domain.workstations import (
    ClientStatus,
    DecisionRecord,
    FaceEmbedding,
    FaceSubject,
    VerifyClient,
)
from argus.ports.audit import AuditLog
from argus.ports.faces import FaceDetector, FaceEmbedder
from argus.ports.paging import MAX_PAGE, Page, all_pages
from argus.ports.repositories import Database
from argus.ports.video import JpegEncoder
from argus.ports.workstations import ImageDecoder, VerifyClientRepository
from argus.services.ratelimit import RateLimiter
from argus.services.workstation_photos import Described, SubjectView, describe_photos

__all__ = ["EnrolmentModels", "IssuedClient", "SubjectView", "WorkstationService"]

log = logging.getLogger(__name__)

EnrolmentModels = Callable[[], tuple[FaceDetector, FaceEmbedder]]
"""Builds the face detector and embedder used for enrolment (called once, lazily)."""

FAILED_SIGN_INS_PER_S = 0.5
FAILED_SIGN_IN_BURST = 20
"""Failed workstation sign-ins one address may make: a burst, then one every 2 s."""

Listener = Callable[[str], Awaitable[None]]
"""Told the id of a client whose status, subjects or subjects' descriptors changed."""

_STATUS_ACTIONS: dict[ClientStatus, str] = {
    "active": "workstation.client.unblock",
    "paused": "workstation.client.pause",
    "blocked": "workstation.client.block",
}


def key_hash(secret: str) -> str:
    """SHA-256 (hex) of a client key."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedClient:
    """A newly registered client and its key (shown once, never stored).

    Attributes:
        client: The stored client (with the key's SHA-256 only).
        key: The secret the client signs in with.
    """

    client: VerifyClient
    key: str


class WorkstationService:
    """Subjects, enrolment and clients (see the module doc).

    Args:
        database: The store (``face_subjects``, ``verify_clients``, ``verify_decisions``).
        audit: The audit trail of failed sign-ins (a write appends its record in the unit
            of work of the store, with the write).
        models: Builds the enrolment face detector and embedder.
        decode: Decodes uploaded photos.
        clock: The current UTC time.
        encode: Encodes face thumbnails as JPEG (``None``: enrolment keeps none).
    """

    def __init__(
        self,
        database: Database,
        audit: AuditLog,
        models: EnrolmentModels,
        decode: ImageDecoder,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        encode: JpegEncoder | None = None,
    ) -> None:
        self._db = database
        self._encode = encode
        self._audit = audit
        self._models_factory = models
        self._models: tuple[FaceDetector, FaceEmbedder] | None = None
        self._decode = decode
        self._clock = clock
        self._lock = asyncio.Lock()
        self._listeners: list[Listener] = []
        self._failures = RateLimiter(
            FAILED_SIGN_INS_PER_S, FAILED_SIGN_IN_BURST, what="failed workstation sign-ins"
        )

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(client_id)`` after a client's status or enrolment changes."""
        self._listeners.append(listener)

    async def _changed(self, client_ids: Sequence[str]) -> None:
        for client_id in client_ids:
            for listener in self._listeners:
                await listener(client_id)

    async def _record(
        self,
        audit: AuditLog,
        action: str,
        actor: Actor,
        target: str,
        **details: Any,
    ) -> None:
        entry = AuditEntry(
            action, actor.audit_name, self._clock(), target, "success", details, actor.ip
        )
        await audit.append(entry)

    # --- subjects and enrolment --------------------------------------------------------------

    async def create_subject(self, actor: Actor, name: str) -> FaceSubject:
        """A new subject without descriptors yet (audited)."""
        subject = FaceSubject(id=new_id(), name=name, created_at=self._clock())
        async with self._db.unit_of_work() as unit:
            await unit.face_subjects.add(subject)
            target = f"subject:{subject.id}"
            await self._record(unit.audit, "workstation.subject.create", actor, target)
        return subject

    async def _view(self, subject: FaceSubject) -> SubjectView:
        store = self._db.face_subjects
        count = await store.count_embeddings(subject.id)
        return SubjectView(subject, count, await store.photos(subject.id))

    async def get_subject(self, subject_id: str) -> SubjectView:
        """A subject, how many descriptors it has and which keep a face thumbnail."""
        return await self._view(await self._db.face_subjects.get(subject_id))

    async def list_subjects(self, *, limit: int = 50, offset: int = 0) -> Page[SubjectView]:
        """Subjects (oldest first) with their descriptor counts and thumbnails."""
        page = await self._db.face_subjects.list(limit=limit, offset=offset)
        return Page(tuple([await self._view(s) for s in page.items]), page.total)

    async def thumbnail(self, subject_id: str, photo_id: str) -> bytes:
        """The face thumbnail (JPEG) kept with descriptor ``photo_id`` of a subject.

        Raises:
            NotFoundError: No such subject, descriptor of it, or thumbnail.
        """
        return await self._db.face_subjects.thumbnail(subject_id, photo_id)

    def _enrolment_models(self) -> tuple[FaceDetector, FaceEmbedder]:
        if self._models is None:
            self._models = self._models_factory()
        return self._models

    def _describe(self, photos: Sequence[bytes]) -> Described:
        """Runs in a worker thread (building the models on first use is slow too)."""
        return describe_photos(photos, self._decode, self._enrolment_models(), self._encode)

    async def enrol(
        self, actor: Actor, subject_id: str, photos: Sequence[bytes]
    ) -> tuple[FaceEmbedding, ...]:
        """Add one descriptor and face thumbnail per photo (all or none, audited); the photos
        are not kept.

        Raises:
            NotFoundError: No such subject.
            ValidationError: No photo, a photo that is not an image, or one without
                exactly one face.
        """
        await self._db.face_subjects.get(subject_id)
        if not photos:
            raise ValidationError("send at least one photo")
        async with self._lock:  # one enrolment at a time: the models are not shared further
            described = await asyncio.to_thread(self._describe, photos)
        now, model = self._clock(), described.model
        made = tuple(
            FaceEmbedding(
                id=new_id(),
                subject_id=subject_id,
                model=model,
                vector=v,
                created_at=now,
                thumbnail=t,
            )
            for v, t in zip(described.vectors, described.thumbnails, strict=True)
        )
        async with self._db.unit_of_work() as unit:
            await unit.face_subjects.add_embeddings(made)
            await self._record(
                unit.audit,
                "workstation.subject.enrol",
                actor,
                f"subject:{subject_id}",
                photos=len(made),
                thumbnails=sum(1 for e in made if e.thumbnail is not None),
                model=model,
            )
        await self._changed(await self._clients_naming(subject_id))
        return made

    async def delete_subject(self, actor: Actor, subject_id: str) -> int:
        """Delete a subject, erase its descriptors, drop it from clients (one unit, audited).

        Returns:
            How many descriptors were erased.
        """
        async with self._db.unit_of_work() as unit:
            erased = await unit.face_subjects.delete(subject_id)
            naming = await self._clients_naming(subject_id, unit.verify_clients)
            for client_id in naming:
                client = await unit.verify_clients.get(client_id)
                kept = [s for s in client.subjects if s != subject_id]
                await unit.verify_clients.update(client_id, subjects=kept)
            await self._record(
                unit.audit,
                "workstation.subject.delete",
                actor,
                f"subject:{subject_id}",
                erased_embeddings=erased,
                clients=len(naming),
            )
        await self._changed(naming)
        return erased

    async def _clients_naming(
        self, subject_id: str, repository: VerifyClientRepository | None = None
    ) -> list[str]:
        clients_of = repository if repository is not None else self._db.verify_clients
        clients = await all_pages(lambda skip: clients_of.list(limit=MAX_PAGE, offset=skip))
        return [c.id for c in clients if subject_id in c.subjects]

    async def enrolled_faces(self, client: VerifyClient) -> EnrolledFaces | None:
        """The descriptors of the client's subjects, or ``None`` when none has any."""
        embeddings = await self._db.face_subjects.embeddings(client.subjects)
        if not embeddings:
            return None
        identities = tuple(e.subject_id for e in embeddings)
        return EnrolledFaces(identities, np.stack([e.vector for e in embeddings]))

    # --- clients -----------------------------------------------------------------------------

    async def _check_subjects(self, subjects: Sequence[str]) -> None:
        for subject_id in subjects:
            try:
                await self._db.face_subjects.get(subject_id)
            except NotFoundError as exc:
                raise ValidationError(f"subject {subject_id} does not exist") from exc

    async def register(self, actor: Actor, name: str, subjects: Sequence[str]) -> IssuedClient:
        """Register a client (audited); its key (256 random bits) is in the answer only."""
        await self._check_subjects(subjects)
        secret = secrets.token_urlsafe(32)
        client = VerifyClient(
            id=new_id(),
            name=name,
            key_hash=key_hash(secret),
            subjects=tuple(subjects),
            created_at=self._clock(),
        )
        async with self._db.unit_of_work() as unit:
            await unit.verify_clients.add(client)
            await self._record(
                unit.audit,
                "workstation.client.register",
                actor,
                f"verify-client:{client.id}",
                subjects=list(client.subjects),
            )
        return IssuedClient(client, secret)

    async def get_client(self, client_id: str) -> VerifyClient:
        """One client."""
        return await self._db.verify_clients.get(client_id)

    async def list_clients(self, *, limit: int = 50, offset: int = 0) -> Page[VerifyClient]:
        """Clients, oldest first."""
        return await self._db.verify_clients.list(limit=limit, offset=offset)

    async def update_client(
        self,
        actor: Actor,
        client_id: str,
        *,
        name: str | None = None,
        subjects: Sequence[str] | None = None,
    ) -> VerifyClient:
        """Rename a client or change the subjects allowed at it (audited)."""
        if subjects is not None:
            await self._check_subjects(subjects)
        async with self._db.unit_of_work() as unit:
            client = await unit.verify_clients.update(client_id, name=name, subjects=subjects)
            await self._record(
                unit.audit,
                "workstation.client.update",
                actor,
                f"verify-client:{client_id}",
                subjects=list(client.subjects),
            )
        await self._changed([client_id])
        return client

    async def set_status(self, actor: Actor, client_id: str, status: ClientStatus) -> VerifyClient:
        """Pause, block or unblock (``active``) a client (audited); a live session of it ends at
        once when it is paused or blocked."""
        async with self._db.unit_of_work() as unit:
            client = await unit.verify_clients.set_status(client_id, status)
            target = f"verify-client:{client_id}"
            await self._record(unit.audit, _STATUS_ACTIONS[status], actor, target)
        await self._changed([client_id])
        return client

    async def delete_client(self, actor: Actor, client_id: str) -> None:
        """Remove a client (audited; its decision history stays)."""
        async with self._db.unit_of_work() as unit:
            await unit.verify_clients.delete(client_id)
            target = f"verify-client:{client_id}"
            await self._record(unit.audit, "workstation.client.delete", actor, target)
        await self._changed([client_id])

    async def authenticate(
        self, client_id: str, key: str, *, ip: str | None = None
    ) -> VerifyClient:
        """The client whose id and key these are (marked seen now).

        Failed attempts are audited and limited per address (successful ones are
        not, so a room of workstations reconnecting at once is never held back).

        Raises:
            RateLimitedError: Too many failed attempts from ``ip`` lately.
            AuthenticationError: An unknown id or a wrong key (one message for both).
        """
        address = ip or "unknown"
        wait = self._failures.retry_after(address)
        if wait > 0:
            raise RateLimitedError("too many failed sign-ins from this address", wait)
        try:
            client = await self._db.verify_clients.get(client_id)
        except NotFoundError:
            client = None
        if client is None or not hmac.compare_digest(client.key_hash, key_hash(key)):
            with contextlib.suppress(RateLimitedError):
                self._failures.hit(address)
            target = f"verify-client:{client_id}"[:300]
            await self._audit.append(
                AuditEntry(
                    "workstation.client.connect",
                    target[:200],
                    self._clock(),
                    target,
                    "failure",
                    {"reason": "unknown client or wrong key"},
                    ip,
                )
            )
            raise AuthenticationError("unknown client or wrong key")
        await self._db.verify_clients.touch(client.id, self._clock())
        return client

    async def decisions(
        self, *, client_id: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[DecisionRecord]:
        """The decision history, newest first."""
        return await self._db.verify_decisions.list(client_id=client_id, limit=limit, offset=offset)
