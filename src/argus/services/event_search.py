"""Search in words over events, alerts and incidents.

A question is parsed (``argus.domain.search_query``) into exact filters --
time, camera, zone, line, class, direction, kind of event -- and the words
left over. With words left, they are encoded and the nearest descriptions in
the vector index rank the items that pass the filters (most similar
description first, newest first within one); without, the newest items that
pass the filters come back. Results are limited to the caller's cameras.
When the encoder fails (its files are missing) the words are matched as
keywords instead, and the answer says so.

``SearchIndexer`` (``argus.services.event_search_index``) keeps the index
current; this class is what the API calls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from argus.domain.errors import ArgusError, ValidationError
from argus.domain.identity import Principal
from argus.domain.search_query import ParsedQuery, SearchVocabulary, parse_query
from argus.domain.site import Site
from argus.ports.search_items import ItemFilter, SearchItem
from argus.services.event_search_index import SearchIndexer

__all__ = ["MAX_QUERY", "EventSearch", "SearchHit", "SearchResult"]

log = logging.getLogger(__name__)

MAX_QUERY = 300
"""Longest question, in characters."""
_CHUNK = 32
_CANDIDATES = 512

Ranking = Literal["similarity", "recency", "keyword"]


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One item found.

    Attributes:
        item: The item and its description.
        score: Cosine similarity of its description to the words (``None``
            when ranked by recency or keywords).
    """

    item: SearchItem
    score: float | None


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The answer to a question.

    Attributes:
        parsed: What the parser understood.
        ranking: ``similarity``, ``recency`` or ``keyword`` (the encoder failed).
        hits: The items, best first.
    """

    parsed: ParsedQuery
    ranking: Ranking
    hits: tuple[SearchHit, ...]


class EventSearch:
    """Search in words.

    Args:
        indexer: Keeps the index current and holds the stores.
        site: Reads the site's time zones.
        clock: The present moment (timezone-aware).
        candidates: Most descriptions the vector index returns per question.
        indexing: Whether ``start`` indexes (off: questions see what is indexed).
    """

    def __init__(
        self,
        indexer: SearchIndexer,
        site: Callable[[], Awaitable[Site]],
        clock: Callable[[], datetime],
        *,
        candidates: int = _CANDIDATES,
        indexing: bool = True,
    ) -> None:
        self.indexer = indexer
        self._site = site
        self._clock = clock
        self._candidates = candidates
        self._indexing = indexing

    def start(self) -> None:
        """Backfill and follow new events (in the background), unless indexing is off."""
        if self._indexing:
            self.indexer.start()

    async def stop(self) -> None:
        """Stop indexing and release the vector index."""
        await self.indexer.stop()
        await self.indexer.index.close()

    async def parse(self, query: str, principal: Principal | None = None) -> ParsedQuery:
        """Parse a question with the site's names, clock and time zone.

        Only the names of cameras ``principal`` sees (and of their zones and
        lines) are recognised: others stay words, so the answer never names them.
        """
        if not query.strip() or len(query) > MAX_QUERY:
            raise ValidationError(f"the question must be 1-{MAX_QUERY} characters")
        names = await self.indexer.names()

        def seen(camera_ids: Iterable[str]) -> bool:
            return principal is None or any(principal.sees_camera(c) for c in camera_ids)

        cameras = {cid: name for cid, name in names.cameras.items() if seen((cid,))}
        lines = frozenset(n for n in names.lines if seen(names.line_cameras.get(n, ())))
        vocabulary = SearchVocabulary(
            cameras={
                **{cid.lower(): cid for cid in cameras},
                **{name.lower(): cid for cid, name in cameras.items()},
            },
            zones=frozenset(n for n in names.zones if seen(names.zone_cameras.get(n, ()))),
            lines=lines,
            line_labels={
                label.lower(): (line, direction)
                for (line, direction), label in names.labels.items()
                if label.lower() not in ("in", "out") and line.lower() in lines
            },
        )
        site = await self._site()
        return parse_query(query, vocabulary, now=self._clock(), tz=ZoneInfo(site.timezone))

    async def search(
        self, principal: Principal | None, query: str, *, limit: int = 20
    ) -> SearchResult:
        """Items matching a question, best first, within the caller's cameras.

        Raises:
            ValidationError: The question is empty or too long, or ``limit`` is
                outside 1-100.
        """
        if not 1 <= limit <= 100:
            raise ValidationError("limit must be in [1, 100]")
        parsed = await self.parse(query, principal)
        names = await self.indexer.names()
        where = _filter(parsed, principal)
        where = replace(
            where,
            zones=tuple(names.zones.get(z, z) for z in where.zones),
            lines=tuple(names.lines.get(n, n) for n in where.lines),
        )
        if not parsed.text:
            found = await self.indexer.items.find(where, None, limit=limit)
            return SearchResult(parsed, "recency", tuple(SearchHit(i, None) for i in found))
        try:
            hits = await self._similar(parsed.text, where, limit)
        except ArgusError:
            log.exception("search encoder failed; matching keywords instead")
            words = parsed.text.split()
            found = await self.indexer.items.keyword(where, words, limit=limit)
            return SearchResult(parsed, "keyword", tuple(SearchHit(i, None) for i in found))
        return SearchResult(parsed, "similarity", hits)

    async def _similar(self, text: str, where: ItemFilter, limit: int) -> tuple[SearchHit, ...]:
        encoder = self.indexer.encoder
        vector = (await asyncio.to_thread(encoder.encode, [text]))[0]
        ranked = await self.indexer.index.search(vector, self._candidates)
        scores = dict(ranked)
        hits: list[SearchHit] = []
        start, size = 0, 1
        while start < len(ranked):
            # Growing chunks: the best descriptions are read one by one, so recency
            # within a chunk never pushes a more similar description's items out.
            chunk = [key for key, _ in ranked[start : start + size]]
            start, size = start + size, min(size * 2, _CHUNK)
            found = await self.indexer.items.find(where, chunk, limit=limit - len(hits))
            ordered = sorted(
                found, key=lambda i: (-scores[i.description_id], -i.occurred_at.timestamp())
            )
            hits.extend(SearchHit(i, round(scores[i.description_id], 4)) for i in ordered)
            if len(hits) >= limit:
                break
        return tuple(hits[:limit])


def _scope(principal: Principal | None) -> tuple[str, ...] | None:
    if principal is None or principal.cameras is None:
        return None
    return tuple(sorted(principal.cameras))


def _filter(parsed: ParsedQuery, principal: Principal | None) -> ItemFilter:
    f = parsed.filters
    return ItemFilter(
        since=f.since,
        until=f.until,
        hours=f.hours,
        camera_ids=f.camera_ids,
        scope=_scope(principal),
        kinds=f.kinds,
        types=f.types,
        classes=f.classes,
        zones=f.zones,
        lines=f.lines,
        directions=f.directions,
    )
