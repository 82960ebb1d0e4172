"""Model versions and per-camera assignment (issue 21, part D1; groundwork stub)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["Model versions and per-camera assignment"])
