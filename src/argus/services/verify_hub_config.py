"""``HubConfig``: how the verify hub runs (limits, the default policy, frames, timing)."""

from __future__ import annotations

from dataclasses import dataclass, field

from argus.domain.capacity import CapacityLimits
from argus.domain.phone import PhoneRules
from argus.domain.verification import VerificationPolicy

__all__ = ["HubConfig"]


@dataclass(frozen=True, slots=True)
class HubConfig:
    """How the hub runs.

    Attributes:
        limits: Pipelines, clients per pipeline, queue, idle time.
        policy: The decision chart's thresholds.
        phone: When a phone counts as aimed at the screen.
        frame_queue: Frames buffered per client before the oldest is dropped.
        max_frame_bytes: Largest frame accepted.
        lease_seconds: How long a client's place survives without its server renewing it.
        tick_seconds: How often the shared state is read (queue positions, promotions).
        status_seconds: How often connected clients are re-read from the database.
        evidence_repeat_seconds: Evidence interval while a non-allow episode lasts.
    """

    limits: CapacityLimits = field(default_factory=CapacityLimits)
    policy: VerificationPolicy = field(default_factory=VerificationPolicy)
    phone: PhoneRules = field(default_factory=PhoneRules)
    frame_queue: int = 2
    max_frame_bytes: int = 2 << 20
    lease_seconds: float = 15.0
    tick_seconds: float = 0.5
    status_seconds: float = 5.0
    evidence_repeat_seconds: float = 30.0
