"""The security decision for a workstation client, frame by frame (the reference's chart).

Per frame, in the chart's order::

    face detected? --no (for no_face_seconds)--> lock_screen   (no_face)
    real face?     --no (spoof_windows in a row)-> sign_out    (spoof)
    correct user?  --no (wrong_user_frames in a row)-> lock_screen (wrong_user)
    phone aimed?   --yes--> sign_out                            (phone)
    otherwise      allow

and on top: ``violations_to_block`` violations within ``violation_seconds`` block
the client (and a blocked client stays blocked until an administrator lifts it,
which resets the :class:`Verifier`). A *violation* is the start of a non-allow
episode (the action changes from allow, or to another non-allow action), not
every frame of it: a screen that stays locked for ten frames is one violation.

Until a condition has persisted long enough the frame is allowed and the pending
condition is named in the reasons (``no_face_pending`` ...), so a client can warn.
Time is passed in with each observation; nothing here reads a clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from argus.domain.errors import ValidationError
from argus.domain.faces import DEFAULT_MATCH_THRESHOLD

__all__ = ["Action", "Decision", "Observation", "Reason", "VerificationPolicy", "Verifier"]


class Action(StrEnum):
    """What the client must do."""

    ALLOW = "allow"
    LOCK_SCREEN = "lock_screen"
    SIGN_OUT = "sign_out"
    BLOCK = "block"


class Reason(StrEnum):
    """Why."""

    NO_FACE = "no_face"
    SPOOF = "spoof"
    WRONG_USER = "wrong_user"
    PHONE = "phone"
    REPEATED_VIOLATIONS = "repeated_violations"
    BLOCKED = "blocked"
    NO_FACE_PENDING = "no_face_pending"
    SPOOF_PENDING = "spoof_pending"
    WRONG_USER_PENDING = "wrong_user_pending"


@dataclass(frozen=True, slots=True)
class VerificationPolicy:
    """The configurable thresholds of the decision chart.

    Attributes:
        no_face_seconds: Seconds without a face before the screen is locked.
        match_threshold: Largest descriptor distance accepted as the enrolled user.
        wrong_user_frames: Consecutive frames of a face that is not the user before locking.
        liveness_threshold: Liveness scores below this are spoofs.
        spoof_windows: Consecutive spoof verdicts (liveness windows) before signing out.
        violations_to_block: Violations within ``violation_seconds`` that block the client.
        violation_seconds: The span over which violations are counted.
    """

    no_face_seconds: float = 3.0
    match_threshold: float = DEFAULT_MATCH_THRESHOLD
    wrong_user_frames: int = 3
    liveness_threshold: float = 0.5
    spoof_windows: int = 2
    violations_to_block: int = 3
    violation_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.no_face_seconds < 0 or self.violation_seconds <= 0 or self.match_threshold <= 0:
            raise ValidationError("times must be non-negative and the match threshold positive")
        if min(self.wrong_user_frames, self.spoof_windows, self.violations_to_block) < 1:
            raise ValidationError("frame and violation counts must be at least 1")
        if not 0 < self.liveness_threshold < 1:
            raise ValidationError("liveness_threshold must lie in (0, 1)")


@dataclass(frozen=True, slots=True)
class Observation:
    """What the models saw in one frame of one client.

    Attributes:
        timestamp: Seconds (any epoch, non-decreasing per client).
        face: Whether a face was found.
        distance: Descriptor distance to the enrolled user (``None`` without a face).
        liveness: Liveness score of the window ending here, ``None`` while unmeasured.
        phone_aimed: Whether a phone has been held up (see :mod:`argus.domain.phone`).
        phone_score: The phone signal's score.
    """

    timestamp: float
    face: bool
    distance: float | None = None
    liveness: float | None = None
    phone_aimed: bool = False
    phone_score: float = 0.0


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one frame.

    Attributes:
        action: What the client must do.
        reasons: Why, the deciding reason first.
        scores: The numbers behind it (distance, liveness, phone, counters).
        timestamp: The frame's timestamp.
    """

    action: Action
    reasons: tuple[Reason, ...]
    scores: dict[str, float] = field(default_factory=dict)
    timestamp: float = 0.0


class Verifier:
    """One client's decision state (bounded: counters and the recent violations).

    Args:
        policy: The chart's thresholds.
    """

    def __init__(self, policy: VerificationPolicy | None = None) -> None:
        self.policy = policy if policy is not None else VerificationPolicy()
        self._last_face: float | None = None
        self._started: float | None = None
        self._wrong = 0
        self._spoof = 0
        self._previous = Action.ALLOW
        self._violations: deque[float] = deque(maxlen=self.policy.violations_to_block)
        self._blocked = False

    @property
    def blocked(self) -> bool:
        """Whether repeated violations have blocked this client."""
        return self._blocked

    def decide(self, seen: Observation) -> Decision:
        """Decide one frame."""
        p = self.policy
        now = seen.timestamp
        if self._started is None:
            self._started = now
        scores = {"phone": seen.phone_score}
        if seen.distance is not None:
            scores["distance"] = seen.distance
        if seen.liveness is not None:
            scores["liveness"] = seen.liveness
        if self._blocked:
            return Decision(Action.BLOCK, (Reason.BLOCKED,), scores, now)
        action, reasons = self._chart(seen, scores)
        if action is not Action.ALLOW and action is not self._previous:
            while self._violations and now - self._violations[0] > p.violation_seconds:
                self._violations.popleft()
            self._violations.append(now)
            scores["violations"] = float(len(self._violations))
            if len(self._violations) >= p.violations_to_block:
                self._blocked = True
                self._previous = Action.BLOCK
                return Decision(Action.BLOCK, (Reason.REPEATED_VIOLATIONS, *reasons), scores, now)
        self._previous = action
        return Decision(action, reasons, scores, now)

    def _chart(
        self, seen: Observation, scores: dict[str, float]
    ) -> tuple[Action, tuple[Reason, ...]]:
        p = self.policy
        now = seen.timestamp
        if not seen.face:
            self._wrong = 0
            self._spoof = 0
            since = self._last_face if self._last_face is not None else self._started
            assert since is not None
            scores["no_face_seconds"] = now - since
            if now - since >= p.no_face_seconds:
                return Action.LOCK_SCREEN, (Reason.NO_FACE,)
            return Action.ALLOW, (Reason.NO_FACE_PENDING,)
        self._last_face = now
        if seen.liveness is not None:
            self._spoof = self._spoof + 1 if seen.liveness < p.liveness_threshold else 0
        if self._spoof >= p.spoof_windows:
            return Action.SIGN_OUT, (Reason.SPOOF,)
        pending: tuple[Reason, ...] = (Reason.SPOOF_PENDING,) if self._spoof else ()
        wrong = seen.distance is None or seen.distance > p.match_threshold
        self._wrong = self._wrong + 1 if wrong else 0
        if self._wrong >= p.wrong_user_frames:
            return Action.LOCK_SCREEN, (Reason.WRONG_USER, *pending)
        if self._wrong:
            pending = (*pending, Reason.WRONG_USER_PENDING)
        if seen.phone_aimed:
            return Action.SIGN_OUT, (Reason.PHONE, *pending)
        return Action.ALLOW, pending
