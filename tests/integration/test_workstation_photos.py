"""Enrolled face thumbnails over the API: kept per photo, served to admins only, erased.

A subject is enrolled from a real portrait (matplotlib's Grace Hopper, always
installed) through a running server and the real face models; the thumbnail
it keeps is the face, cropped and scaled down, served as a private JPEG.
A subject's export (GDPR access) carries its thumbnails; deleting the subject
leaves nothing behind: no descriptor, no thumbnail.
Who may call the route is in ``test_authz_matrix`` (admin only).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from argus.domain.workstations import THUMBNAIL_SIZE
from argus.services.privacy_bundle import open_bundle
from tests.integration.verify_support import WS, grace_hopper, server

pytestmark = [pytest.mark.integration, pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data directory per module, so the model packs are built once."""
    return tmp_path_factory.mktemp("workstation-photos")


async def test_an_enrolled_face_is_kept_as_a_private_thumbnail(data_dir: Path) -> None:
    async with server(data_dir) as api:
        subject = await api.subject("Grace Hopper")
        files = [("photos", ("grace.jpg", grace_hopper(), "image/jpeg"))]
        enrolled = await api.http.post(f"{WS}/subjects/{subject}/photos", files=files)
        assert enrolled.status_code == 201, enrolled.text
        [photo] = enrolled.json()["photos"]
        listed = (await api.http.get(f"{WS}/subjects")).json()["items"]
        assert [(s["id"], s["embeddings"], s["photos"]) for s in listed] == [(subject, 1, [photo])]
        assert (await api.http.get(f"{WS}/subjects/{subject}")).json()["photos"] == [photo]

        answer = await api.http.get(f"{WS}/subjects/{subject}/photos/{photo}")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "image/jpeg"
        assert answer.headers["cache-control"] == "private, no-store"
        image = cv2.imdecode(np.frombuffer(answer.content, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None
        assert image.shape == (THUMBNAIL_SIZE, THUMBNAIL_SIZE, 3)
        assert len(answer.content) < len(grace_hopper()) // 4  # a thumbnail, not the photo
        [embedding] = await api.plane.database.face_subjects.embeddings([subject])
        assert embedding.thumbnail == answer.content

        audit = await api.http.get("/api/v1/audit", params={"action": "workstation.subject.enrol"})
        [entry] = audit.json()["items"]
        assert (entry["details"]["photos"], entry["details"]["thumbnails"]) == (1, 1)


async def test_unknown_photos_are_not_found(data_dir: Path) -> None:
    async with server(data_dir) as api:
        grace = await api.subject("Grace", grace_hopper())
        other = await api.subject("Nobody yet")
        [photo] = (await api.http.get(f"{WS}/subjects/{grace}")).json()["photos"]
        for path in (
            f"{WS}/subjects/{grace}/photos/no-such-photo",
            f"{WS}/subjects/{other}/photos/{photo}",  # a photo of someone else
            f"{WS}/subjects/no-such-subject/photos/{photo}",
        ):
            answer = await api.http.get(path)
            assert answer.status_code == 404, (path, answer.text)
        too_long = await api.http.get(f"{WS}/subjects/{grace}/photos/{'x' * 65}")
        assert too_long.status_code == 422


async def test_deleting_the_subject_erases_its_thumbnails(data_dir: Path) -> None:
    async with server(data_dir) as api:
        subject = await api.subject("Grace", grace_hopper(), grace_hopper())
        photos = (await api.http.get(f"{WS}/subjects/{subject}")).json()["photos"]
        assert len(photos) == 2
        erased = await api.http.delete(f"{WS}/subjects/{subject}")
        assert erased.json() == {"id": subject, "erased_embeddings": 2}
        for photo in photos:
            answer = await api.http.get(f"{WS}/subjects/{subject}/photos/{photo}")
            assert answer.status_code == 404
        store = api.plane.database.face_subjects
        assert await store.embeddings([subject]) == ()
        assert await store.photos(subject) == ()
        assert (await api.http.get(f"{WS}/subjects")).json()["total"] == 0


async def test_a_subjects_export_carries_its_thumbnails(data_dir: Path) -> None:
    passphrase = "correct horse battery staple"
    async with server(data_dir) as api:
        subject = await api.subject("Grace", grace_hopper())
        [photo] = (await api.http.get(f"{WS}/subjects/{subject}")).json()["photos"]
        face = (await api.http.get(f"{WS}/subjects/{subject}/photos/{photo}")).content
        sealed = await api.http.post(
            f"/api/v1/privacy/subjects/{subject}/export",
            json={"passphrase": passphrase, "reason": "access request"},
        )
        assert sealed.status_code == 200, sealed.text
        archive = zipfile.ZipFile(io.BytesIO(open_bundle(sealed.content, passphrase)))
        [descriptor] = json.loads(archive.read("descriptors.json"))
        assert descriptor["thumbnail"] == f"faces/{photo}.jpg"
        assert archive.read(f"faces/{photo}.jpg") == face
