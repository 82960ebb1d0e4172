"""Search in words over events, alerts and incidents (issue 21, part F2).

``GET /search?q=person loitering at the north gate last night`` answers with
what the parser understood (time, camera, zone, line, class, direction and
kind filters), the words left for ranking by meaning, and the items found,
limited to the caller's cameras. Needs ``view``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.search import SearchResultPublic
from argus.api.security import Acting
from argus.services.event_search import MAX_QUERY, EventSearch

__all__ = ["router"]

router = APIRouter(tags=["Search in words"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})


def get_search(runtime: RuntimeDep) -> EventSearch:
    """The app's search in words."""
    return runtime.learning.search


SearchDep = Annotated[EventSearch, Depends(get_search)]


@router.get("/search", summary="Search events, alerts and incidents in words")
async def search(
    search: SearchDep,
    actor: Acting,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY, description="The question.")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchResultPublic:
    """Filters from the question's time, camera, zone, line, class and kind words; the rest
    ranked by meaning (all-MiniLM-L6-v2 over the items' descriptions)."""
    return SearchResultPublic.of(await search.search(actor.principal, q, limit=limit))
