"""Shadow runs and evaluations (issue 21, part D2; groundwork stub)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["Shadow runs and evaluations"])
