"""What the verify hub tells a session's client, as typed outcomes.

The hub and its pipelines queue these on a ``VerifySession``; the API turns
each into its ``/ws/verify`` message (``argus.api.schemas.verify_server``)
and a ``VerifyClosed`` into the close of the connection, with the close code
of its ``Ending``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from argus.domain.verification import Action, Reason

__all__ = [
    "Ending",
    "VerifyAssigned",
    "VerifyClosed",
    "VerifyDecision",
    "VerifyError",
    "VerifyErrorCode",
    "VerifyOutcome",
    "VerifyQueued",
    "VerifyRejected",
]

VerifyErrorCode = Literal[
    "invalid",
    "bad_frame",
    "too_large",
    "not_assigned",
    "unauthorized",
    "closed",
    "replaced",
    "rate_limited",
    "unavailable",
    "internal",
]
"""Why a message or frame was refused (``replaced``: the session ends next)."""


class Ending(StrEnum):
    """Why the hub ends a session."""

    REFUSED = "refused"
    """The client may not run: paused, blocked, unknown or not enrolled."""
    REPLACED = "replaced"
    """A newer connection of the client took over, or its place expired."""
    FULL = "full"
    """No pipeline and no queue place is free."""
    SHUTDOWN = "shutdown"
    """The server is shutting down."""


@dataclass(frozen=True, slots=True)
class VerifyAssigned:
    """A pipeline serves the client now: it may send frames."""

    pipeline: int


@dataclass(frozen=True, slots=True)
class VerifyQueued:
    """The client waits at ``position`` (1 is next)."""

    position: int


@dataclass(frozen=True, slots=True)
class VerifyRejected:
    """The client may not run (the session ends next)."""

    reason: str


@dataclass(frozen=True, slots=True)
class VerifyError:
    """A message or frame was refused; the session goes on unless it ends next."""

    code: VerifyErrorCode
    message: str


@dataclass(frozen=True, slots=True)
class VerifyDecision:
    """The decision on one analysed frame.

    Attributes:
        action: What the workstation must do.
        reasons: Why.
        scores: The finite scores the decision was based on.
        frame_seq: The frame's number in the session.
        subject: The enrolled identity the face matched, if any.
        dropped_frames: Frames dropped so far because the client sent faster.
    """

    action: Action
    reasons: tuple[Reason, ...]
    scores: Mapping[str, float]
    frame_seq: int
    subject: str | None
    dropped_frames: int


@dataclass(frozen=True, slots=True)
class VerifyClosed:
    """The session ended: close the connection (always the last outcome)."""

    ending: Ending
    reason: str


VerifyOutcome = (
    VerifyAssigned | VerifyQueued | VerifyRejected | VerifyError | VerifyDecision | VerifyClosed
)
"""Everything the hub queues for a client."""
