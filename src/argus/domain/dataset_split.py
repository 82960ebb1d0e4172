"""Train/validation split of labelled frames by camera and time, without near-duplicate leaks.

A detector validated on frames that are near copies of its training frames
looks better than it is. Frames of a fixed camera a second apart are such
copies, and so are two frames of an empty scene an hour apart. The split
therefore never separates:

* frames of one *unit*: a camera's time block (``by="time"``: the block of
  ``SplitRule.block`` the frame was captured in) or a whole camera
  (``by="camera"``);
* frames of one camera captured within ``SplitRule.link_within`` of each other
  (two frames either side of a block boundary);
* *near duplicates*: frames whose difference hashes (dHash, ``dhash``) differ
  in at most ``SplitRule.max_distance`` bits, whatever their camera or time.

These links are transitive: the frames they connect form a *group* (a
connected component), and a group goes to one side whole. Groups are visited
in an order drawn from ``SplitRule.seed`` (sha256, the same on every run and
machine) and each joins validation while that brings the validation share
nearer to ``val_fraction``. The result is deterministic given the frames and
the rule; one huge group (every frame of a single static camera linked) makes
the share coarse, and ``SplitResult`` says how many groups there were.

The hash is computed on decoded pixels (callers decode; this module does no
I/O): the grey image is shrunk by area averaging to ``size`` rows of
``size + 1`` columns and each bit says whether a cell is brighter than its
left neighbour, ``size * size`` bits in all.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt

from argus.domain.errors import ValidationError

__all__ = [
    "DEFAULT_HASH_SIZE",
    "SplitItem",
    "SplitResult",
    "SplitRule",
    "dhash",
    "hamming",
    "near_duplicate_pairs",
    "split_dataset",
]

DEFAULT_HASH_SIZE = 16
"""Rows (and column differences) of the difference hash: 256 bits."""

SplitBy = Literal["time", "camera"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _grey(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    if pixels.ndim == 2:
        return pixels.astype(np.float32)
    if pixels.ndim == 3 and pixels.shape[2] in (3, 4):
        bgr = pixels[:, :, :3].astype(np.float32)
        return bgr @ np.array([0.114, 0.587, 0.299], dtype=np.float32)
    raise ValidationError(f"a frame is (H, W) or (H, W, 3) pixels, not {pixels.shape}")


def _shrink(grey: npt.NDArray[np.float32], rows: int, cols: int) -> npt.NDArray[np.float32]:
    """Area-average ``grey`` down to ``rows`` x ``cols`` (repeating pixels of a tinier image)."""
    height, width = grey.shape
    if height < rows or width < cols:
        grey = np.repeat(np.repeat(grey, -(-rows // height), axis=0), -(-cols // width), axis=1)
        height, width = grey.shape
    y_edges = (np.arange(rows + 1) * height) // rows
    x_edges = (np.arange(cols + 1) * width) // cols
    sums = np.add.reduceat(np.add.reduceat(grey, y_edges[:-1], axis=0), x_edges[:-1], axis=1)
    areas = np.outer(np.diff(y_edges), np.diff(x_edges)).astype(np.float32)
    return (sums / areas).astype(np.float32)


def dhash(pixels: npt.NDArray[np.uint8], size: int = DEFAULT_HASH_SIZE) -> int:
    """The difference hash of a frame: ``size * size`` bits as an integer.

    Args:
        pixels: Grey ``(H, W)`` or BGR(A) ``(H, W, 3|4)`` pixels.
        size: Rows of the shrunk image (2 to 64).

    Raises:
        ValidationError: Empty pixels, a shape that is not an image, or a bad ``size``.
    """
    if not 2 <= size <= 64:
        raise ValidationError(f"hash size must be within [2, 64] (got {size})")
    if pixels.size == 0:
        raise ValidationError("cannot hash an empty frame")
    small = _shrink(_grey(pixels), size, size + 1)
    bits = small[:, 1:] > small[:, :-1]
    return int.from_bytes(np.packbits(bits.ravel()).tobytes(), "big")


def hamming(a: int, b: int) -> int:
    """How many bits two hashes differ in."""
    return (a ^ b).bit_count()


def near_duplicate_pairs(hashes: Sequence[int], max_distance: int) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, whose hashes differ in at most ``max_distance`` bits."""
    if len(hashes) < 2:
        return []
    words = max(1, -(-max(h.bit_length() for h in hashes) // 64))
    packed = np.frombuffer(
        b"".join(h.to_bytes(words * 8, "big") for h in hashes), dtype=">u8"
    ).reshape(len(hashes), words)
    table = packed.astype(np.uint64)
    pairs: list[tuple[int, int]] = []
    # Every pair is compared (n^2 / 2 XORs of 4 words): about a second for 2,000 frames.
    for i in range(len(hashes) - 1):
        distances = np.bitwise_count(table[i + 1 :] ^ table[i]).sum(axis=1)
        pairs.extend((i, i + 1 + int(j)) for j in np.flatnonzero(distances <= max_distance))
    return pairs


@dataclass(frozen=True, slots=True)
class SplitRule:
    """How frames are split.

    Attributes:
        val_fraction: Share of frames wanted in validation, in ``[0, 0.9]``.
        by: ``time``: a camera's time blocks are the units; ``camera``: whole cameras.
        block: Length of a time block (``by="time"``), at least a second.
        link_within: Frames of one camera this close in time stay together.
        max_distance: Near duplicates differ in at most this many hash bits.
        seed: Draws the order the groups are visited in.
    """

    val_fraction: float = 0.2
    by: SplitBy = "time"
    block: timedelta = timedelta(minutes=10)
    link_within: timedelta = timedelta(seconds=10)
    max_distance: int = 12
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.val_fraction <= 0.9:
            raise ValidationError(f"val_fraction must be within [0, 0.9] (got {self.val_fraction})")
        if self.by not in ("time", "camera"):
            raise ValidationError(f"split by 'time' or 'camera', not {self.by!r}")
        if self.block < timedelta(seconds=1):
            raise ValidationError("a time block lasts at least a second")
        if self.link_within < timedelta(0):
            raise ValidationError("link_within cannot be negative")
        if not 0 <= self.max_distance <= 64 * 64:
            raise ValidationError(
                f"max_distance must be within [0, 4096] (got {self.max_distance})"
            )

    def describe(self) -> dict[str, object]:
        """The rule as JSON-ready values (for a dataset's manifest)."""
        return {
            "val_fraction": self.val_fraction,
            "by": self.by,
            "block_seconds": self.block.total_seconds(),
            "link_within_seconds": self.link_within.total_seconds(),
            "near_duplicate": f"dHash {DEFAULT_HASH_SIZE}x{DEFAULT_HASH_SIZE}, "
            f"at most {self.max_distance} bits apart",
            "seed": self.seed,
        }


@dataclass(frozen=True, slots=True)
class SplitItem:
    """One frame to split.

    Attributes:
        key: Unique key of the frame (an example id).
        camera_id: Its camera.
        captured_at: When it was captured (timezone-aware).
        dhash: Its difference hash (``dhash``).
    """

    key: str
    camera_id: str
    captured_at: datetime
    dhash: int


@dataclass(frozen=True, slots=True)
class SplitResult:
    """Where each frame went.

    Attributes:
        train: Keys of the training frames, in input order.
        val: Keys of the validation frames, in input order.
        group_of: Each key's group number (frames of a group share a side).
        groups: How many groups there were.
        near_duplicates: How many near-duplicate pairs linked frames.
    """

    train: tuple[str, ...]
    val: tuple[str, ...]
    group_of: dict[str, int]
    groups: int
    near_duplicates: int


class _Groups:
    """Union-find over ``n`` frames."""

    def __init__(self, n: int) -> None:
        self._parent = list(range(n))

    def find(self, i: int) -> int:
        while self._parent[i] != i:
            self._parent[i] = self._parent[self._parent[i]]
            i = self._parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self._parent[max(a, b)] = min(a, b)


def _unit(item: SplitItem, rule: SplitRule) -> tuple[str, int]:
    if rule.by == "camera":
        return (item.camera_id, 0)
    seconds = (item.captured_at - _EPOCH).total_seconds()
    return (item.camera_id, int(seconds // rule.block.total_seconds()))


def _draw(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}\x00{key}".encode()).hexdigest()


def split_dataset(items: Sequence[SplitItem], rule: SplitRule) -> SplitResult:
    """Split ``items`` into train and validation; no group straddles the two.

    Raises:
        ValidationError: Two items share a key, or a capture time is naive.
    """
    keys = [item.key for item in items]
    if len(set(keys)) != len(keys):
        raise ValidationError("every frame to split needs its own key")
    if any(item.captured_at.utcoffset() is None for item in items):
        raise ValidationError("capture times must be timezone-aware")
    groups = _Groups(len(items))
    first_of_unit: dict[tuple[str, int], int] = {}
    by_camera: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        groups.join(first_of_unit.setdefault(_unit(item, rule), i), i)
        by_camera[item.camera_id].append(i)
    for members in by_camera.values():
        members.sort(key=lambda i: items[i].captured_at)
        for before, after in itertools.pairwise(members):
            if items[after].captured_at - items[before].captured_at <= rule.link_within:
                groups.join(before, after)
    pairs = near_duplicate_pairs([item.dhash for item in items], rule.max_distance)
    for i, j in pairs:
        groups.join(i, j)

    members_of: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        members_of[groups.find(i)].append(i)
    order = sorted(members_of.values(), key=lambda m: _draw(rule.seed, min(keys[i] for i in m)))
    target = rule.val_fraction * len(items)
    in_val: set[int] = set()
    group_of: dict[str, int] = {}
    for number, members in enumerate(order):
        if abs(len(in_val) + len(members) - target) < abs(len(in_val) - target):
            in_val.update(members)
        for i in members:
            group_of[keys[i]] = number
    return SplitResult(
        train=tuple(keys[i] for i in range(len(items)) if i not in in_val),
        val=tuple(keys[i] for i in range(len(items)) if i in in_val),
        group_of=group_of,
        groups=len(order),
        near_duplicates=len(pairs),
    )
