"""``/api/v1/cameras/{camera_id}/recordings``: a camera's timeline, playback and export.

Viewers read the timeline and play segments; exporting a range as a signed
evidence bundle needs ``operate``, like every evidence export. The camera in
the path must lie in the caller's scope (the router's guard). A segment is
named by the id the timeline gave; its file is found by the recordings
store, never from the request, and one ``Range`` of bytes is honoured.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse

from argus.api.deps import CameraId, RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, ErrorBody, Moment
from argus.api.schemas.recordings import RecordingExportCreate, TimelinePublic
from argus.api.security import Acting
from argus.services.recordings import RangeNotSatisfiableError, RecordingService

__all__ = ["router"]

router = APIRouter(
    prefix="/cameras", tags=["recordings"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES}
)

SegmentId = Annotated[
    str,
    # No pattern here: a malformed id is an unknown segment (404), like ``export`` asked
    # for with another method than POST.
    Path(
        min_length=1,
        max_length=40,
        description="Segment id from the timeline (a UTC stamp: 20261207T091500.123Z).",
    ),
]


def _recordings(runtime: RuntimeDep) -> RecordingService:
    return runtime.recordings


RecordingsDep = Annotated[RecordingService, Depends(_recordings)]


@router.get("/{camera_id}/recordings", summary="Recordings timeline")
async def timeline(
    camera_id: CameraId,
    recordings: RecordingsDep,
    actor: Acting,
    start: Annotated[Moment | None, Query(description="From (with offset).")] = None,
    end: Annotated[
        Moment | None, Query(description="To (with offset); at most 24 h after start.")
    ] = None,
) -> TimelinePublic:
    """Segments, gaps, and alert and event markers of a range (default: the last hour)."""
    return TimelinePublic.of(await recordings.timeline(camera_id, start, end, actor=actor))


# Before the segment route: ``export`` would otherwise match ``{segment_id}`` first, and
# other methods on it would be answered 405 with the segment route's ``Allow: GET``.
@router.post(
    "/{camera_id}/recordings/export",
    summary="Export a range",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "The signed bundle."}},
)
async def export(
    camera_id: CameraId, body: RecordingExportCreate, recordings: RecordingsDep, actor: Acting
) -> Response:
    """Cut the range (at most 1 h) from the segments without re-encoding, store the clips as
    evidence of the camera and answer them as a signed bundle (``argus evidence verify``)."""
    done = await recordings.export(camera_id, body.start, body.end, actor=actor)
    return Response(
        done.bundle,
        media_type="application/zip",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="argus-recording-{camera_id}.zip"',
            "X-Bundle-SHA256": done.sha256,
        },
    )


@router.get(
    "/{camera_id}/recordings/{segment_id}",
    summary="Play a segment",
    response_class=Response,
    responses={
        200: {"content": {"video/mp4": {}}, "description": "The whole segment."},
        206: {"content": {"video/mp4": {}}, "description": "The range asked for."},
        416: {"model": ErrorBody, "description": "The range cannot be served."},
    },
)
async def segment(
    camera_id: CameraId,
    segment_id: SegmentId,
    recordings: RecordingsDep,
    actor: Acting,
    range_header: Annotated[
        str | None,
        Header(alias="Range", max_length=200, description="One range: bytes=a-b, a- or -n."),
    ] = None,
) -> Response:
    """The segment's MP4, streamed from disk; a ``Range`` answers 206 with that part."""
    try:
        media = await recordings.media(camera_id, segment_id, range_header, actor=actor)
    except RangeNotSatisfiableError as exc:
        return JSONResponse(
            {"detail": str(exc)},
            status_code=416,
            headers={"Content-Range": f"bytes */{exc.size}", "Accept-Ranges": "bytes"},
        )
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(media.length),
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{camera_id}-{segment_id}.mp4"',
    }
    if media.partial:
        headers["Content-Range"] = f"bytes {media.first}-{media.last}/{media.size}"
    return StreamingResponse(
        media.chunks,
        status_code=206 if media.partial else 200,
        media_type="video/mp4",
        headers=headers,
    )
