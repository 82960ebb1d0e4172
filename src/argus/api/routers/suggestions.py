"""Rule suggestions (issue 21, part E; groundwork stub)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["Rule suggestions"])
