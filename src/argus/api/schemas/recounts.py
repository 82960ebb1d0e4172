"""Request and response schemas of re-count jobs (``/api/v1/.../recounts``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from argus.api.schemas.common import Moment, StrictModel
from argus.domain.recount_jobs import LineRecount, RecountJob, RecountStatus

__all__ = ["Crossings", "LineRecountPublic", "RecountCreate", "RecountList", "RecountPublic"]


class RecountCreate(StrictModel):
    """A re-count of a camera's period (at most 31 days)."""

    start: Moment = Field(strict=False, description="From (inclusive, with a UTC offset).")
    end: Moment = Field(strict=False, description="To (exclusive, with a UTC offset).")


class Crossings(BaseModel):
    """Crossings of one line per direction."""

    in_: int = Field(alias="in", description="Crossings in.")
    out: int = Field(description="Crossings out.")

    model_config = ConfigDict(validate_by_name=True, serialize_by_alias=True)


class LineRecountPublic(BaseModel):
    """One line's live and re-counted crossings over the period."""

    line: str = Field(description="The line's name.")
    live: Crossings = Field(description="The line.crossed events of the period.")
    recounted: Crossings = Field(
        description="The offline re-count over the period's trajectory log (look-ahead "
        "smoothing and stitching)."
    )

    @classmethod
    def of(cls, item: LineRecount) -> LineRecountPublic:
        """The public form of a line's figures."""
        return cls(
            line=item.line,
            live=Crossings(in_=item.live_in, out=item.live_out),
            recounted=Crossings(in_=item.recounted_in, out=item.recounted_out),
        )


class RecountPublic(BaseModel):
    """A re-count job and, once done, its figures."""

    id: str
    camera_id: str
    start: datetime
    end: datetime
    status: RecountStatus = Field(description="queued, running, done or failed.")
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    lines: list[LineRecountPublic] = Field(description="Per line of the camera (when done).")
    samples: int = Field(description="Trajectory samples the re-count read.")
    error: str | None = Field(description="Why it failed (when failed).")

    @classmethod
    def of(cls, job: RecountJob) -> RecountPublic:
        """The public form of a job."""
        return cls(
            id=job.id,
            camera_id=job.camera_id,
            start=job.start,
            end=job.end,
            status=job.status,
            requested_by=job.requested_by,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            lines=[LineRecountPublic.of(item) for item in job.lines],
            samples=job.samples,
            error=job.error,
        )


class RecountList(BaseModel):
    """Re-count jobs, newest first."""

    items: list[RecountPublic]
