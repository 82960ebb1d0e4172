"""Labelling: claim, label, release, review (issue 21, part B; groundwork stub)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["Labelling"])
