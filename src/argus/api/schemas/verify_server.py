"""Messages the server sends on ``/ws/verify``, and the close codes of its endings.

One model per message type (see ``argus.api.schemas.verify`` for the
protocol). ``verify_message`` builds the message of a hub outcome
(``argus.services.verify_outcomes``); ``CLOSE_CODES`` gives the close code of
each way the hub ends a session.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from argus.domain.verification import Action, Reason
from argus.services.verify_outcomes import (
    Ending,
    VerifyAssigned,
    VerifyDecision,
    VerifyError,
    VerifyErrorCode,
    VerifyQueued,
    VerifyRejected,
)

__all__ = [
    "CLOSE_CODES",
    "CLOSE_FULL",
    "CLOSE_RATE_LIMITED",
    "CLOSE_REFUSED",
    "CLOSE_REPLACED",
    "CLOSE_SHUTDOWN",
    "CLOSE_UNAUTHORIZED",
    "AssignedMessage",
    "DecisionMessage",
    "QueuedMessage",
    "RejectedMessage",
    "VerifyErrorMessage",
    "VerifyPongMessage",
    "VerifyServerMessage",
    "verify_message",
]

CLOSE_UNAUTHORIZED = 4401
"""Close code: no or wrong sign-in (or none within 10 s)."""
CLOSE_REFUSED = 4403
"""Close code: paused, blocked, unknown or not enrolled."""
CLOSE_REPLACED = 4409
"""Close code: replaced by a newer connection of the same client (or the place expired)."""
CLOSE_RATE_LIMITED = 4429
"""Close code: too many failed sign-ins from this address."""
CLOSE_FULL = 4503
"""Close code: system full."""
CLOSE_SHUTDOWN = 1012
"""Close code: the server is shutting down."""

CLOSE_CODES: dict[Ending, int] = {
    Ending.REFUSED: CLOSE_REFUSED,
    Ending.REPLACED: CLOSE_REPLACED,
    Ending.FULL: CLOSE_FULL,
    Ending.SHUTDOWN: CLOSE_SHUTDOWN,
}
"""The close code of each way the hub ends a session."""


class _ServerMessage(BaseModel):
    # Every field is always sent, so the document lists each as required.
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)


class AssignedMessage(_ServerMessage):
    """Signed in and served by a pipeline: send frames now."""

    type: Literal["assigned"] = "assigned"
    pipeline: int


class QueuedMessage(_ServerMessage):
    """Signed in and waiting (position 1 is next); sent again when the position changes."""

    type: Literal["queued"] = "queued"
    position: int


class RejectedMessage(_ServerMessage):
    """Refused: the connection closes next."""

    type: Literal["rejected"] = "rejected"
    reason: str = Field(description="unknown client, paused, blocked, not enrolled or system full.")


class DecisionMessage(_ServerMessage):
    """The decision on one analysed frame."""

    type: Literal["decision"] = "decision"
    action: Action
    reasons: list[Reason] = Field(description="Why, the deciding reason first.")
    scores: dict[str, float]
    frame_seq: int = Field(description="The frame's number in the session.")
    subject: str | None = Field(description="The enrolled identity the face matched, if any.")
    dropped_frames: int = Field(description="Frames dropped because the client sent faster.")


class VerifyErrorMessage(_ServerMessage):
    """A bad message or frame; the session goes on (unless the connection closes next)."""

    type: Literal["error"] = "error"
    code: VerifyErrorCode
    message: str


class VerifyPongMessage(_ServerMessage):
    """The answer to ``ping``."""

    type: Literal["pong"] = "pong"


VerifyServerMessage = Annotated[
    AssignedMessage
    | QueuedMessage
    | RejectedMessage
    | DecisionMessage
    | VerifyErrorMessage
    | VerifyPongMessage,
    Field(discriminator="type"),
]
"""Every message the server sends on ``/ws/verify``."""


def verify_message(
    outcome: VerifyAssigned | VerifyQueued | VerifyRejected | VerifyError | VerifyDecision,
) -> AssignedMessage | QueuedMessage | RejectedMessage | VerifyErrorMessage | DecisionMessage:
    """The wire message of a hub outcome."""
    if isinstance(outcome, VerifyAssigned):
        return AssignedMessage(pipeline=outcome.pipeline)
    if isinstance(outcome, VerifyQueued):
        return QueuedMessage(position=outcome.position)
    if isinstance(outcome, VerifyRejected):
        return RejectedMessage(reason=outcome.reason)
    if isinstance(outcome, VerifyError):
        return VerifyErrorMessage(code=outcome.code, message=outcome.message)
    return DecisionMessage(
        action=outcome.action,
        reasons=list(outcome.reasons),
        scores=dict(outcome.scores),
        frame_seq=outcome.frame_seq,
        subject=outcome.subject,
        dropped_frames=outcome.dropped_frames,
    )
