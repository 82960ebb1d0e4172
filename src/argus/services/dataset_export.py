"""Dataset export of labelled examples: COCO JSON and YOLO layouts with a manifest.

``DatasetExporter.export`` gathers the accepted hard examples (optionally
also those labelled but not yet reviewed) of the cameras the actor sees,
reads each one's sealed frame, hashes it (dHash), splits the frames into
train and validation by camera and time with no near duplicates across the
split (``argus.domain.dataset_split``), and writes one ZIP: the images, COCO
and YOLO annotations and ``manifest.json`` (``argus.services.dataset_layout``).
The export is audited as ``dataset.export`` with its counts and the ZIP's
sha256. ``preview`` computes the same split and counts without writing.

Frames that cannot be read (lost, tampered) or decoded, or whose size is not
the example's, are left out and listed in the summary's ``skipped``: one bad
frame does not sink an export. The ZIP is built in memory, so an export holds
at most ``max_examples`` frames and ``max_bytes`` of them, and one export (or
preview) runs at a time, a second one meanwhile being refused (409); narrow
it by camera or time beyond that. The
ZIP's entries carry a fixed date: the same examples and rule give the same
files (only the manifest's creation time differs).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import re
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from argus.domain.actor import Actor
from argus.domain.dataset_split import SplitItem, SplitRule, dhash, split_dataset
from argus.domain.errors import ArgusError, ConflictError, ValidationError
from argus.domain.hard_examples import ExampleState, HardExample
from argus.ports.hard_examples import ExampleFilter
from argus.ports.repositories import Database
from argus.ports.workstations import ImageDecoder
from argus.services.dataset_layout import DatasetFiles, ExportSummary, build_files, class_order
from argus.services.writes import record, require_camera

__all__ = [
    "DEFAULT_LICENCE",
    "MAX_EXPORT_BYTES",
    "DatasetArchive",
    "DatasetExporter",
    "ExportRequest",
    "ExportSummary",
    "FrameReader",
]

DEFAULT_LICENCE = "site footage"
"""The licence recorded for a camera's frames unless an export says otherwise."""

MAX_EXPORT_BYTES = 1 << 30
"""Most bytes of frames one export holds in memory (1 GiB)."""

FrameReader = Callable[[Actor, HardExample], Awaitable[bytes]]
"""Reads an example's sealed frame (JPEG bytes) for an actor."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PAGE = 1000
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """Which examples an export takes and how it splits and labels them.

    Attributes:
        camera_ids: These cameras only (``None``: every camera the actor sees).
        since: Frames captured at or after.
        until: Frames captured before.
        include_unreviewed: Also take labelled examples nobody has reviewed yet.
        classes: The classes in export order; boxes of other classes are dropped
            (``None``: every labelled class, sorted).
        rule: How frames are split into train and validation.
        licence: The licence of the source video (``None``: the default).
        camera_licences: A licence per camera, overriding ``licence``.
        name: The dataset's name (file name and COCO ``info``).
    """

    camera_ids: tuple[str, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None
    include_unreviewed: bool = False
    classes: tuple[str, ...] | None = None
    rule: SplitRule = field(default_factory=SplitRule)
    licence: str | None = None
    camera_licences: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    name: str = "argus-dataset"

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValidationError(
                "a dataset name is 1 to 64 letters, digits, dots, dashes or underscores"
            )
        for moment in (self.since, self.until):
            if moment is not None and moment.utcoffset() is None:
                raise ValidationError("since and until must be timezone-aware")
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise ValidationError("until must be after since")
        texts = [self.licence or "", *self.camera_licences.values()]
        if any(len(text) > 500 for text in texts) or any(
            not text.strip() for text in self.camera_licences.values()
        ):
            raise ValidationError("a licence text is 1 to 500 characters")
        if self.classes is not None and any(not 0 < len(c) <= 64 for c in self.classes):
            raise ValidationError("a class name is 1 to 64 characters")


@dataclass(frozen=True, slots=True)
class DatasetArchive:
    """A written export.

    Attributes:
        filename: Suggested file name (``<name>-<UTC time>.zip``).
        data: The ZIP.
        sha256: The ZIP's sha256 (recorded in the audit trail).
        summary: What it holds.
    """

    filename: str
    data: bytes
    sha256: str
    summary: ExportSummary


@dataclass(frozen=True, slots=True)
class _Gathered:
    examples: tuple[HardExample, ...]
    frames: dict[str, bytes]
    hashes: dict[str, int]
    skipped: dict[str, str]


class DatasetExporter:
    """Exports labelled hard examples as COCO and YOLO datasets.

    Args:
        database: The store (examples, audit).
        frames: Reads an example's frame (the hard-example service).
        decode: Decodes a JPEG into pixels (for the near-duplicate hash).
        clock: The current time (UTC).
        max_examples: Most examples one export takes.
        licence: The licence recorded when a request names none.
        max_bytes: Most bytes of frames one export takes.
    """

    def __init__(
        self,
        database: Database,
        frames: FrameReader,
        decode: ImageDecoder,
        clock: Callable[[], datetime],
        *,
        max_examples: int = 2000,
        licence: str = DEFAULT_LICENCE,
        max_bytes: int = MAX_EXPORT_BYTES,
    ) -> None:
        self._db = database
        self._frames = frames
        self._decode = decode
        self._clock = clock
        self._max = max_examples
        self._licence = licence
        self._max_bytes = max_bytes
        self._busy = asyncio.Lock()

    async def preview(self, actor: Actor, request: ExportRequest) -> ExportSummary:
        """What ``export`` would write now, without writing it.

        Raises:
            PermissionDeniedError: A named camera is outside the actor's scope.
            ValidationError: More than ``max_examples`` examples or ``max_bytes``
                of frames match.
            ConflictError: Another export or preview is running.
        """
        async with self._alone():
            built = await self._build(actor, request, self._clock())
        return built.summary

    async def export(self, actor: Actor, request: ExportRequest) -> DatasetArchive:
        """The dataset as a ZIP; audited as ``dataset.export``.

        Raises:
            PermissionDeniedError: A named camera is outside the actor's scope.
            ValidationError: No example matches, or more than ``max_examples``
                examples or ``max_bytes`` of frames do.
            ConflictError: Another export or preview is running.
        """
        now = self._clock()
        async with self._alone():
            built = await self._build(actor, request, now)
            if not sum(built.summary.images.values()):
                raise ValidationError("no labelled examples match: nothing to export")
            data = await asyncio.to_thread(_zip, built.files)
        digest = hashlib.sha256(data).hexdigest()
        filename = f"{request.name}-{now:%Y%m%dT%H%M%SZ}.zip"
        summary = built.summary
        await record(
            self._db.audit,
            actor,
            "dataset.export",
            f"dataset:{filename}",
            sha256=digest,
            images=summary.images,
            boxes=summary.boxes,
            classes=list(summary.classes),
            cameras=sorted(summary.cameras),
            skipped=len(summary.skipped),
            split=request.rule.describe(),
        )
        return DatasetArchive(filename=filename, data=data, sha256=digest, summary=summary)

    @contextlib.asynccontextmanager
    async def _alone(self) -> AsyncIterator[None]:
        """Hold the exporter: exports are built in memory, so one runs at a time."""
        if self._busy.locked():
            raise ConflictError("another dataset export is running: try again when it ends")
        async with self._busy:
            yield

    async def _build(self, actor: Actor, request: ExportRequest, now: datetime) -> DatasetFiles:
        gathered = await self._gather(actor, request)
        examples = gathered.examples
        items = [
            SplitItem(e.id, e.camera_id, e.captured_at, gathered.hashes[e.id]) for e in examples
        ]
        split = await asyncio.to_thread(split_dataset, items, request.rule)
        default = request.licence or self._licence
        licences = {
            e.camera_id: request.camera_licences.get(e.camera_id, default) for e in examples
        }
        header = {
            "name": request.name,
            "created_at": now.isoformat(),
            "created_by": actor.audit_name,
            "states": sorted(_states(request)),
        }
        return build_files(
            examples,
            gathered.frames,
            gathered.hashes,
            split,
            request.rule,
            classes=class_order(examples, request.classes),
            licences=licences,
            header=header,
            skipped=gathered.skipped,
        )

    async def _gather(self, actor: Actor, request: ExportRequest) -> _Gathered:
        where = ExampleFilter(
            camera_ids=_cameras(actor, request.camera_ids),
            states=_states(request),
            since=request.since,
            until=request.until,
        )
        total = await self._db.hard_examples.count(where)
        if total > self._max:
            raise ValidationError(
                f"{total} examples match, an export takes at most {self._max}: "
                "narrow it by camera or time"
            )
        found: list[HardExample] = []
        while len(found) < total:
            page = await self._db.hard_examples.list(
                where, limit=_PAGE, offset=len(found), oldest_first=True
            )
            if not page.items:
                break
            found.extend(page.items)
        frames: dict[str, bytes] = {}
        skipped: dict[str, str] = {}
        held = 0
        for example in found[: self._max]:
            try:
                frames[example.id] = await self._frames(actor, example)
            except ArgusError as exc:
                skipped[example.id] = f"frame unreadable: {exc}"
                continue
            held += len(frames[example.id])
            if held > self._max_bytes:
                raise ValidationError(
                    f"the frames of this export pass {self._max_bytes} bytes: "
                    "narrow it by camera or time"
                )
        hashes, bad = await asyncio.to_thread(_hash_frames, found, frames, self._decode)
        skipped.update(bad)
        kept = tuple(e for e in found[: self._max] if e.id in hashes)
        return _Gathered(kept, {e.id: frames[e.id] for e in kept}, hashes, skipped)


def _states(request: ExportRequest) -> frozenset[ExampleState]:
    if request.include_unreviewed:
        return frozenset({ExampleState.ACCEPTED, ExampleState.LABELLED})
    return frozenset({ExampleState.ACCEPTED})


def _cameras(actor: Actor, wanted: tuple[str, ...] | None) -> frozenset[str] | None:
    """The cameras to read: ``wanted`` (each within scope) or the actor's whole scope."""
    if wanted is not None:
        for camera_id in wanted:
            require_camera(actor, camera_id)
        return frozenset(wanted)
    return None if actor.principal is None else actor.principal.cameras


def _hash_frames(
    examples: list[HardExample], frames: Mapping[str, bytes], decode: ImageDecoder
) -> tuple[dict[str, int], dict[str, str]]:
    """Each readable frame's dHash; the others with the reason they are left out."""
    hashes: dict[str, int] = {}
    bad: dict[str, str] = {}
    for example in examples:
        data = frames.get(example.id)
        if data is None:
            continue
        try:
            pixels = decode(data)
        except ValidationError as exc:
            bad[example.id] = f"frame undecodable: {exc}"
            continue
        height, width = pixels.shape[:2]
        if (width, height) != (example.width, example.height):
            bad[example.id] = (
                f"frame is {width}x{height}, the example says {example.width}x{example.height}"
            )
            continue
        hashes[example.id] = dhash(pixels)
    return hashes, bad


def _zip(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            # JPEGs do not shrink; the text files do.
            jpeg = path.endswith(".jpg")
            info.compress_type = zipfile.ZIP_STORED if jpeg else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()
