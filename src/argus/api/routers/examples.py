"""Hard examples: list, read, frames (issue 21, part A; groundwork stub)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["Hard examples"])
