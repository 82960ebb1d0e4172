"""Face thumbnails kept with their descriptors, on every store (memory, SQLite, PostgreSQL).

Runs through the repository contract's ``store`` fixture. A thumbnail lives in
its descriptor's row (migration 0014): it is read back byte for byte, listed
only for descriptors that have one, found only under its own subject, and
erased with the subject.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from argus.domain.errors import NotFoundError, ValidationError
from argus.domain.workstations import MAX_THUMBNAIL_BYTES, FaceEmbedding, FaceSubject
from tests.integration import test_repositories_contract as contract
from tests.integration.test_repositories_contract import T0, Store

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

store = contract.store

JPEG = b"\xff\xd8\xff\xe0 a face \xff\xd9"


def _subject(n: int) -> FaceSubject:
    return FaceSubject(id=f"subject-{n}", name=f"Person {n}", created_at=T0 + timedelta(n))


def _embedding(subject: str, n: int, thumbnail: bytes | None = None) -> FaceEmbedding:
    return FaceEmbedding(
        id=f"emb-{subject}-{n}",
        subject_id=subject,
        model="dlib-face-resnet@1.0",
        vector=np.full(128, n / 10, np.float32),
        created_at=T0 + timedelta(minutes=n),
        thumbnail=thumbnail,
    )


async def test_thumbnails_are_kept_listed_and_erased(store: Store) -> None:
    repo = store.db.face_subjects
    await repo.add(_subject(0))
    await repo.add(_subject(1))
    faces = [
        _embedding("subject-0", 0, JPEG),
        _embedding("subject-0", 1),
        _embedding("subject-0", 2, JPEG * 2),
    ]
    await repo.add_embeddings(faces)
    await repo.add_embeddings([_embedding("subject-1", 0, b"other")])
    assert await repo.photos("subject-0") == ("emb-subject-0-0", "emb-subject-0-2")
    assert await repo.photos("nobody") == ()
    assert await repo.thumbnail("subject-0", "emb-subject-0-2") == JPEG * 2
    assert await repo.embeddings(["subject-0"]) == tuple(faces)  # thumbnails read back too
    for subject, photo in (
        ("subject-0", "emb-subject-0-1"),  # a descriptor without a thumbnail
        ("subject-1", "emb-subject-0-0"),  # someone else's
        ("subject-0", "nothing"),
    ):
        with pytest.raises(NotFoundError):
            await repo.thumbnail(subject, photo)

    assert await repo.delete("subject-0") == 3
    assert await repo.photos("subject-0") == ()
    with pytest.raises(NotFoundError):
        await repo.thumbnail("subject-0", "emb-subject-0-0")
    assert await repo.thumbnail("subject-1", "emb-subject-1-0") == b"other"


async def test_a_unit_of_work_rolls_thumbnails_back(store: Store) -> None:
    await store.db.face_subjects.add(_subject(0))

    async def failing_enrolment() -> None:
        async with store.db.unit_of_work() as unit:
            await unit.face_subjects.add_embeddings([_embedding("subject-0", 0, JPEG)])
            raise RuntimeError("the audit write failed")

    with pytest.raises(RuntimeError):
        await failing_enrolment()
    assert await store.db.face_subjects.photos("subject-0") == ()


def test_thumbnails_are_checked() -> None:
    with pytest.raises(ValidationError):
        _embedding("s", 0, b"")
    with pytest.raises(ValidationError):
        _embedding("s", 0, b"x" * (MAX_THUMBNAIL_BYTES + 1))
    assert _embedding("s", 0, JPEG) != replace(_embedding("s", 0, JPEG), thumbnail=b"other")
