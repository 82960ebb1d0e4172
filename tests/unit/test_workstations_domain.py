"""Workstation values refuse what a store or a client must never hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from argus.adapters.face.images import decode_image
from argus.domain.capacity import CapacityLimits
from argus.domain.errors import ValidationError
from argus.domain.workstations import DecisionRecord, FaceEmbedding, VerifyClient
from argus.services.verify_capacity import CapacityView


def _gif() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "GIF")
    return buffer.getvalue()


NOW = datetime(2026, 3, 1, tzinfo=UTC)
CLIENT = VerifyClient(id="c1", name="Desk", key_hash="0" * 64, subjects=("s1",), created_at=NOW)


@pytest.mark.parametrize(
    "changes",
    [
        {"key_hash": "short"},
        {"key_hash": "Z" * 64},
        {"status": "gone"},
        {"violations": -1},
        {"name": ""},
        {"subjects": tuple(f"s{i}" for i in range(101))},
        {"created_at": datetime(2026, 3, 1)},
    ],
    ids=["short-hash", "not-hex", "status", "violations", "name", "too-many-subjects", "naive"],
)
def test_bad_clients_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        replace(CLIENT, **changes)


def test_client_subjects_are_deduplicated_in_order() -> None:
    assert replace(CLIENT, subjects=("b", "a", "b")).subjects == ("b", "a")


@pytest.mark.parametrize(
    "vector",
    [np.zeros(0), np.zeros((2, 64)), np.array([1.0, np.nan]), np.zeros(5000)],
    ids=["empty", "2-d", "nan", "too-long"],
)
def test_bad_descriptors_are_refused(vector: Any) -> None:
    with pytest.raises(ValidationError):
        FaceEmbedding(id="e", subject_id="s", model="m@1", vector=vector, created_at=NOW)


def test_descriptors_round_trip_through_bytes_and_are_read_only() -> None:
    vector = np.random.default_rng(0).normal(size=128).astype(np.float32)
    made = FaceEmbedding(id="e", subject_id="s", model="m@1", vector=vector, created_at=NOW)
    assert np.array_equal(FaceEmbedding.vector_from_bytes(made.to_bytes()), vector)
    assert not made.vector.flags.writeable
    with pytest.raises(ValidationError):
        FaceEmbedding.vector_from_bytes(b"abc")


def test_decision_scores_must_be_finite() -> None:
    with pytest.raises(ValidationError):
        DecisionRecord(
            id="d",
            client_id="c",
            action="sign_out",
            reasons=("spoof",),
            at=NOW,
            scores={"liveness": float("nan")},
        )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"just text", "not an image"),
        (_gif(), "GIF images are not taken"),
    ],
    ids=["empty", "text", "gif"],
)
def test_the_decoder_refuses_what_is_not_a_jpeg_or_png(data: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        decode_image(data)


def test_the_decoder_refuses_images_over_the_pixel_limit_before_decoding() -> None:
    import cv2

    ok, png = cv2.imencode(".png", np.zeros((64, 80, 3), np.uint8))
    assert ok
    assert decode_image(png.tobytes()).shape == (64, 80, 3)
    with pytest.raises(ValidationError, match="80x64 pixels"):
        decode_image(png.tobytes(), max_pixels=64 * 64)


def test_capacity_view_places() -> None:
    view = CapacityView(CapacityLimits(), {0: ("a", "b"), 1: ("c",)}, ("d", "e"))
    assert [view.place(c) for c in "acex"] == [
        ("assigned", 0),
        ("assigned", 1),
        ("queued", 2),
        ("offline", None),
    ]
