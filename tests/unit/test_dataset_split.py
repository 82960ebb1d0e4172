"""The train/validation split: units, time links, near duplicates, shares, determinism."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from argus.domain.dataset_split import (
    SplitItem,
    SplitResult,
    SplitRule,
    dhash,
    hamming,
    near_duplicate_pairs,
    split_dataset,
)
from argus.domain.errors import ValidationError

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
VTEST = Path(__file__).resolve().parents[3] / "shared" / "eval" / "media" / "vtest.avi"


def _far(n: int) -> int:
    """A hash far (128 bits) from every other ``_far``: one bit pattern per number."""
    return int.from_bytes(random.Random(n).randbytes(32), "big")


def item(
    key: str, camera: str = "cam-a", minutes: float = 0.0, hash_: int | None = None
) -> SplitItem:
    return SplitItem(
        key=key,
        camera_id=camera,
        captured_at=T0 + timedelta(minutes=minutes),
        dhash=_far(int.from_bytes(key.encode(), "big")) if hash_ is None else hash_,
    )


def together(result: SplitResult, *keys: str) -> bool:
    sides = {"train" if k in result.train else "val" for k in keys}
    return len(sides) == 1


@dataclass(frozen=True)
class Case:
    id: str
    items: Sequence[SplitItem]
    rule: SplitRule
    together: Sequence[tuple[str, ...]] = ()
    val: int | None = None


CASES = [
    Case(
        "one-block-stays-whole",
        [item(f"b{i}", minutes=i * 0.5, hash_=_far(i)) for i in range(6)]
        + [item(f"x{i}", minutes=120 + 30 * i, hash_=_far(100 + i)) for i in range(6)],
        SplitRule(val_fraction=0.5, link_within=timedelta(0)),
        together=[tuple(f"b{i}" for i in range(6))],
    ),
    Case(
        "whole-cameras-by-camera",
        [item(f"a{i}", "cam-a", i * 60, _far(i)) for i in range(5)]
        + [item(f"b{i}", "cam-b", i * 60, _far(50 + i)) for i in range(5)],
        SplitRule(val_fraction=0.5, by="camera"),
        together=[tuple(f"a{i}" for i in range(5)), tuple(f"b{i}" for i in range(5))],
        val=5,
    ),
    Case(
        "frames-across-a-block-boundary-linked",
        [item("before", minutes=9.95, hash_=_far(1)), item("after", minutes=10.05, hash_=_far(2))]
        + [item(f"x{i}", minutes=100 + 30 * i, hash_=_far(10 + i)) for i in range(8)],
        SplitRule(val_fraction=0.5),
        together=[("before", "after")],
    ),
    Case(
        "near-duplicates-across-cameras-linked",
        [
            item("a", "cam-a", 0, _far(7)),
            item("b", "cam-b", 500, _far(7) ^ 0b111),  # three bits apart
        ]
        + [item(f"x{i}", "cam-c", 30 * i, _far(20 + i)) for i in range(8)],
        SplitRule(val_fraction=0.5, max_distance=3),
        together=[("a", "b")],
    ),
    Case(
        "val-share-of-independent-frames",
        [item(f"i{i:03}", "cam-a", 15 * i, _far(i)) for i in range(100)],
        SplitRule(val_fraction=0.2),
        val=20,
    ),
    Case(
        "no-validation",
        [item(f"i{i}", "cam-a", 15 * i, _far(i)) for i in range(10)],
        SplitRule(val_fraction=0.0),
        val=0,
    ),
    Case("empty", [], SplitRule(), val=0),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_split_cases(case: Case) -> None:
    result = split_dataset(case.items, case.rule)
    assert sorted(result.train + result.val) == sorted(i.key for i in case.items)
    for keys in case.together:
        assert together(result, *keys), keys
    if case.val is not None:
        assert len(result.val) == case.val


def test_no_near_duplicate_crosses_the_split() -> None:
    rng = random.Random(5)
    items = []
    for i in range(300):
        base = _far(i // 3)  # triples of near copies, scattered over cameras and days
        items.append(
            item(
                f"k{i}",
                camera=f"cam-{rng.randrange(4)}",
                minutes=rng.uniform(0, 60 * 24 * 7),
                hash_=base ^ (1 << rng.randrange(256)),
            )
        )
    result = split_dataset(items, SplitRule(val_fraction=0.25, max_distance=4))
    val = set(result.val)
    by_key = {i.key: i for i in items}
    for a in result.train:
        for b in val:
            assert hamming(by_key[a].dhash, by_key[b].dhash) > 4
    assert 0.15 < len(val) / len(items) < 0.35


def test_deterministic_given_the_seed() -> None:
    items = [item(f"i{i:02}", f"cam-{i % 3}", 20 * i, _far(i)) for i in range(40)]
    first = split_dataset(items, SplitRule(seed=3))
    assert split_dataset(list(reversed(items)), SplitRule(seed=3)).val == tuple(
        k for k in reversed([i.key for i in items]) if k in set(first.val)
    )
    assert split_dataset(items, SplitRule(seed=3)) == first
    others = {split_dataset(items, SplitRule(seed=s)).val for s in range(4, 10)}
    assert any(set(o) != set(first.val) for o in others)


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([item("a"), item("a", minutes=60)], "own key"),
        (
            [SplitItem("a", "cam-a", datetime(2026, 1, 1), 0)],
            "timezone-aware",
        ),
    ],
    ids=["duplicate-keys", "naive-time"],
)
def test_refuses_bad_items(items: list[SplitItem], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        split_dataset(items, SplitRule())


@pytest.mark.parametrize(
    "changes",
    [
        {"val_fraction": 0.95},
        {"val_fraction": -0.1},
        {"by": "day"},
        {"block": timedelta(0)},
        {"link_within": timedelta(seconds=-1)},
        {"max_distance": -1},
    ],
    ids=[
        "share-too-big",
        "share-negative",
        "unknown-unit",
        "empty-block",
        "negative-link",
        "bad-distance",
    ],
)
def test_refuses_bad_rules(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SplitRule(**changes)  # type: ignore[arg-type]


def test_dhash_sees_content_not_brightness_or_colour_format() -> None:
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
    image = np.asarray(cv2.resize(noise, (320, 240)), dtype=np.uint8)
    grey = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    brighter = np.clip(image.astype(np.int16) + 20, 0, 255).astype(np.uint8)
    assert hamming(dhash(image), dhash(grey)) <= 4
    assert hamming(dhash(image), dhash(brighter)) <= 4
    assert hamming(dhash(image), dhash(image[:, ::-1])) > 64
    assert dhash(np.zeros((3, 5), dtype=np.uint8)) == 0  # tinier than the hash: no error
    assert dhash(image).bit_length() <= 256


@pytest.mark.parametrize(
    "pixels",
    [np.zeros((0, 4), dtype=np.uint8), np.zeros((4, 4, 2), dtype=np.uint8)],
    ids=["empty", "two-channels"],
)
def test_dhash_refuses_non_images(pixels: npt.NDArray[np.uint8]) -> None:
    with pytest.raises(ValidationError):
        dhash(pixels)


def test_near_duplicate_pairs_by_distance() -> None:
    hashes = [0b0000, 0b0001, 0b0111, (1 << 200) - 1]
    assert near_duplicate_pairs(hashes, 1) == [(0, 1)]
    assert near_duplicate_pairs(hashes, 3) == [(0, 1), (0, 2), (1, 2)]
    assert near_duplicate_pairs([5], 0) == []


def _frames(indices: Sequence[int]) -> dict[int, npt.NDArray[np.uint8]]:
    capture = cv2.VideoCapture(str(VTEST))
    wanted, index = set(indices), 0
    frames: dict[int, npt.NDArray[np.uint8]] = {}
    try:
        while len(frames) < len(wanted):
            ok, frame = capture.read()
            if not ok:
                break
            if index in wanted:
                frames[index] = np.asarray(frame, dtype=np.uint8)
            index += 1
    finally:
        capture.release()
    return frames


@pytest.mark.eval
def test_real_frames_consecutive_are_near_duplicates_a_minute_apart_are_not() -> None:
    if not VTEST.is_file():
        pytest.skip(f"{VTEST} is absent: ../shared/eval is only beside a project checkout")
    indices = [0, 1, 2, 600, 601, 602, 780, 781]  # vtest.avi runs at 10 frames a second
    frames = _frames(indices)
    hashes = {i: dhash(f) for i, f in frames.items()}
    rule = SplitRule()
    near = {
        (indices[a], indices[b])
        for a, b in near_duplicate_pairs([hashes[i] for i in indices], rule.max_distance)
    }
    assert {(0, 1), (1, 2), (600, 601), (601, 602), (780, 781)} <= near
    assert all(b - a < 10 for a, b in near), near

    # Two "cameras" of the same frames, days apart: the copies must share a side.
    items = [
        SplitItem(f"{cam}-{i}", cam, T0 + timedelta(days=d, seconds=i / 10), hashes[i])
        for cam, d in (("cam-a", 0), ("cam-b", 3))
        for i in indices
    ]
    result = split_dataset(
        items, SplitRule(val_fraction=0.5, block=timedelta(seconds=1), link_within=timedelta(0))
    )
    for i in indices:
        assert together(result, f"cam-a-{i}", f"cam-b-{i}")
    assert result.val
    assert result.train
