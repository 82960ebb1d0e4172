"""The decision chart, branch by branch, on scripted observations (no models)."""

from __future__ import annotations

import pytest

from argus.domain.errors import ValidationError
from argus.domain.verification import (
    Action,
    Observation,
    Reason,
    VerificationPolicy,
    Verifier,
)

POLICY = VerificationPolicy(
    no_face_seconds=2.0,
    match_threshold=0.6,
    wrong_user_frames=2,
    liveness_threshold=0.5,
    spoof_windows=2,
    violations_to_block=3,
    violation_seconds=60.0,
)


def ok(t: float) -> Observation:
    return Observation(t, face=True, distance=0.3, liveness=0.9)


def no_face(t: float) -> Observation:
    return Observation(t, face=False)


def stranger(t: float) -> Observation:
    return Observation(t, face=True, distance=0.8, liveness=0.9)


def spoof(t: float) -> Observation:
    return Observation(t, face=True, distance=0.3, liveness=0.1)


def phone(t: float) -> Observation:
    return Observation(t, face=True, distance=0.3, liveness=0.9, phone_aimed=True, phone_score=0.7)


CASES = [
    ("allow", [ok(0)], Action.ALLOW, ()),
    ("liveness-unmeasured-allows", [Observation(0, True, 0.3, None)], Action.ALLOW, ()),
    ("no-face-pending", [ok(0), no_face(1)], Action.ALLOW, (Reason.NO_FACE_PENDING,)),
    ("no-face-locks", [ok(0), no_face(1), no_face(2.5)], Action.LOCK_SCREEN, (Reason.NO_FACE,)),
    ("no-face-from-start", [no_face(0), no_face(2)], Action.LOCK_SCREEN, (Reason.NO_FACE,)),
    ("face-back-allows", [ok(0), no_face(3), ok(4)], Action.ALLOW, ()),
    ("spoof-pending", [spoof(0)], Action.ALLOW, (Reason.SPOOF_PENDING,)),
    ("spoof-signs-out", [spoof(0), spoof(1)], Action.SIGN_OUT, (Reason.SPOOF,)),
    ("spoof-not-consecutive", [spoof(0), ok(1), spoof(2)], Action.ALLOW, (Reason.SPOOF_PENDING,)),
    (
        "spoof-before-wrong-user",
        [stranger(0), Observation(1, True, 0.8, 0.1), Observation(2, True, 0.8, 0.1)],
        Action.SIGN_OUT,
        (Reason.SPOOF,),
    ),
    ("wrong-user-pending", [stranger(0)], Action.ALLOW, (Reason.WRONG_USER_PENDING,)),
    ("wrong-user-locks", [stranger(0), stranger(1)], Action.LOCK_SCREEN, (Reason.WRONG_USER,)),
    (
        "wrong-user-before-phone",
        [stranger(0), Observation(1, True, 0.8, 0.9, True, 0.7)],
        Action.LOCK_SCREEN,
        (Reason.WRONG_USER,),
    ),
    ("threshold-inclusive", [Observation(0, True, 0.6, 0.9)] * 3, Action.ALLOW, ()),
    ("phone-signs-out", [phone(0)], Action.SIGN_OUT, (Reason.PHONE,)),
]


@pytest.mark.parametrize(
    ("frames", "action", "reasons"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_decision_chart(
    frames: list[Observation], action: Action, reasons: tuple[Reason, ...]
) -> None:
    verifier = Verifier(POLICY)
    decisions = [verifier.decide(f) for f in frames]
    assert decisions[-1].action is action
    assert decisions[-1].reasons == reasons


def test_scores_are_reported() -> None:
    decision = Verifier(POLICY).decide(phone(5.0))
    assert decision.scores == {"phone": 0.7, "distance": 0.3, "liveness": 0.9, "violations": 1.0}
    assert decision.timestamp == 5.0


def test_repeated_violations_block_and_stay_blocked() -> None:
    verifier = Verifier(POLICY)
    actions = [
        verifier.decide(f).action for f in [phone(0), ok(1), phone(2), ok(3), phone(4), ok(5)]
    ]
    assert actions == [
        Action.SIGN_OUT,
        Action.ALLOW,
        Action.SIGN_OUT,
        Action.ALLOW,
        Action.BLOCK,
        Action.BLOCK,
    ]
    assert verifier.blocked
    assert verifier.decide(ok(6)).reasons == (Reason.BLOCKED,)


def test_a_long_episode_is_one_violation() -> None:
    verifier = Verifier(POLICY)
    actions = [verifier.decide(no_face(t)).action for t in range(20)]
    assert actions[-1] is Action.LOCK_SCREEN
    assert not verifier.blocked


def test_old_violations_expire() -> None:
    verifier = Verifier(POLICY)
    for t in (0, 100, 200, 300):
        verifier.decide(phone(t))
        verifier.decide(ok(t + 1))
    assert not verifier.blocked


@pytest.mark.parametrize(
    "kwargs",
    [
        {"wrong_user_frames": 0},
        {"liveness_threshold": 1.0},
        {"no_face_seconds": -1},
        {"match_threshold": 0},
        {"violations_to_block": 0},
    ],
    ids=["frames", "liveness", "no-face", "match", "block"],
)
def test_bad_policy(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        VerificationPolicy(**kwargs)  # type: ignore[arg-type]
