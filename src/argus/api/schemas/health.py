"""Health schemas."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["Check", "Liveness", "Readiness"]


class Liveness(BaseModel):
    """The process answers."""

    status: Literal["ok"] = "ok"


class Check(BaseModel):
    """One part of readiness."""

    ok: bool
    detail: str = Field(description="What was checked, or why it failed.")


class Readiness(BaseModel):
    """Whether the service can do its work, part by part."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, Check] = Field(
        description="database, bus, event_store (writes), alerting and pipelines."
    )
