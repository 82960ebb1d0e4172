"""Rule suggestions from false-positive verdicts (``/api/v1/suggestions``).

``GET /suggestions`` lists the last computed suggestions (viewers may read
them); ``POST /suggestions/refresh`` recomputes them from the reviewed alerts,
``POST /suggestions/{id}/apply`` changes the rule as proposed and
``POST /suggestions/{id}/dismiss`` sets one aside (admins; all audited). A
camera-scoped caller sees and decides its cameras' rules' suggestions only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from argus.api.deps import RuntimeDep
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.schemas.suggestions import SuggestionDismiss, SuggestionList, SuggestionPublic
from argus.api.security import Acting
from argus.services.rule_suggestions import RuleSuggestions

__all__ = ["router"]

router = APIRouter(tags=["Rule suggestions"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

SuggestionId = Annotated[str, Path(min_length=1, max_length=64, description="Suggestion id.")]


def get_suggestions(runtime: RuntimeDep) -> RuleSuggestions:
    """The app's rule suggestions."""
    return runtime.learning.suggestions


SuggestionsDep = Annotated[RuleSuggestions, Depends(get_suggestions)]


@router.get("/suggestions", summary="List rule suggestions")
async def list_suggestions(
    suggestions: SuggestionsDep,
    actor: Acting,
    state: Annotated[Literal["open", "applied", "dismissed"] | None, Query()] = None,
) -> SuggestionList:
    """The last computed suggestions (of one state when ``state`` is given)."""
    found = await suggestions.listing(actor, state)
    return SuggestionList(items=[SuggestionPublic.of(s) for s in found])


@router.post("/suggestions/refresh", summary="Recompute rule suggestions")
async def refresh(suggestions: SuggestionsDep, actor: Acting) -> SuggestionList:
    """Recompute from the reviewed alerts; applied and dismissed ones keep their decision."""
    found = await suggestions.refresh(actor)
    return SuggestionList(items=[SuggestionPublic.of(s) for s in found])


@router.post("/suggestions/{suggestion_id}/apply", summary="Apply a rule suggestion")
async def apply(
    suggestion_id: SuggestionId, suggestions: SuggestionsDep, actor: Acting
) -> SuggestionPublic:
    """Change the rule as proposed (409 when already decided or not applicable)."""
    return SuggestionPublic.of(await suggestions.apply(actor, suggestion_id))


@router.post("/suggestions/{suggestion_id}/dismiss", summary="Dismiss a rule suggestion")
async def dismiss(
    suggestion_id: SuggestionId,
    body: SuggestionDismiss,
    suggestions: SuggestionsDep,
    actor: Acting,
) -> SuggestionPublic:
    """Set the suggestion aside; a refresh does not bring it back."""
    return SuggestionPublic.of(await suggestions.dismiss(actor, suggestion_id, body.note))
