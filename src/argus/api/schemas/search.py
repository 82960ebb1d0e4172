"""Schemas of search in words (``GET /search``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from argus.services.event_search import SearchHit, SearchResult

__all__ = ["SearchFiltersPublic", "SearchHitPublic", "SearchResultPublic", "UnderstoodPublic"]


class UnderstoodPublic(BaseModel):
    """A piece of the question a filter took."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="time, hours, camera, zone, line, class, direction, type, kind.")
    words: str = Field(description="The words of the question.")
    value: str = Field(description="What the filter became.")


class SearchFiltersPublic(BaseModel):
    """The exact filters the question became."""

    model_config = ConfigDict(extra="forbid")

    since: datetime | None = None
    until: datetime | None = None
    hours: tuple[int, int] | None = Field(None, description="Site-local hours [start, end).")
    camera_ids: list[str] = []
    zones: list[str] = []
    lines: list[str] = []
    classes: list[str] = []
    directions: list[str] = []
    types: list[str] = []
    kinds: list[str] = []


class SearchHitPublic(BaseModel):
    """One event, alert or incident found."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["event", "alert", "incident"]
    id: str
    occurred_at: datetime
    description: str = Field(description="The item in words, as it was matched.")
    score: float | None = Field(None, description="Similarity of its description to the words.")
    camera_id: str | None = None
    event_type: str | None = None
    class_name: str | None = None
    zone: str | None = None
    line: str | None = None

    @classmethod
    def of(cls, hit: SearchHit) -> SearchHitPublic:
        """From the service's hit."""
        item = hit.item
        return cls(
            kind=item.kind,
            id=item.item_id,
            occurred_at=item.occurred_at,
            description=item.text,
            score=hit.score,
            camera_id=item.camera_id,
            event_type=item.event_type,
            class_name=item.class_name,
            zone=item.zone,
            line=item.line,
        )


class SearchResultPublic(BaseModel):
    """The answer to a question: what was understood and what was found."""

    model_config = ConfigDict(extra="forbid")

    query: str
    text: str = Field(description="The words left for similarity ranking.")
    ranking: Literal["similarity", "recency", "keyword"] = Field(
        description="similarity: by the words' meaning; recency: only filters; keyword: the "
        "encoder was unavailable and the words were matched literally."
    )
    understood: list[UnderstoodPublic]
    filters: SearchFiltersPublic
    items: list[SearchHitPublic]

    @classmethod
    def of(cls, result: SearchResult) -> SearchResultPublic:
        """From the service's result."""
        parsed = result.parsed
        f = parsed.filters
        return cls(
            query=parsed.query,
            text=parsed.text,
            ranking=result.ranking,
            understood=[
                UnderstoodPublic(field=u.field, words=u.words, value=u.value)
                for u in parsed.understood
            ],
            filters=SearchFiltersPublic(
                since=f.since,
                until=f.until,
                hours=f.hours,
                camera_ids=list(f.camera_ids),
                zones=list(f.zones),
                lines=list(f.lines),
                classes=list(f.classes),
                directions=list(f.directions),
                types=list(f.types),
                kinds=list(f.kinds),
            ),
            items=[SearchHitPublic.of(hit) for hit in result.hits],
        )
