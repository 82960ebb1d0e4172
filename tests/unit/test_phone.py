"""Phone association and persistence on scripted detections."""

from __future__ import annotations

import pytest

from argus.domain.detections import Detections
from argus.domain.errors import ValidationError
from argus.domain.phone import PhoneRules, PhoneWatch, associated_phone_score
from tests.factories import make_detections

NAMES = ("person", "cell phone", "cup")
FACE = (100.0, 100.0, 160.0, 170.0)


def frame(*boxes: tuple[tuple[float, float, float, float], float, int]) -> Detections:
    return make_detections(
        [b for b, _, _ in boxes],
        confidence=[c for _, c, _ in boxes],
        class_id=[k for _, _, k in boxes],
        class_names=NAMES,
    )


ASSOCIATION = [
    ("over-face", frame(((110, 120, 150, 180), 0.8, 1)), FACE, 0.8),
    ("beside-face", frame(((200, 120, 240, 180), 0.7, 1)), FACE, 0.7),
    ("far-away", frame(((500, 400, 540, 460), 0.9, 1)), FACE, 0.0),
    ("too-weak", frame(((110, 120, 150, 180), 0.2, 1)), FACE, 0.0),
    ("not-a-phone", frame(((110, 120, 150, 180), 0.9, 2)), FACE, 0.0),
    ("best-of-two", frame(((110, 120, 150, 180), 0.5, 1), ((90, 90, 120, 130), 0.6, 1)), FACE, 0.6),
    (
        "no-face-in-person",
        frame(((50, 50, 300, 400), 0.9, 0), ((100, 200, 140, 260), 0.7, 1)),
        None,
        0.7,
    ),
    ("no-face-no-person", frame(((100, 200, 140, 260), 0.7, 1)), None, 0.0),
]


@pytest.mark.parametrize(
    ("dets", "face", "score"), [c[1:] for c in ASSOCIATION], ids=[c[0] for c in ASSOCIATION]
)
def test_association(
    dets: Detections, face: tuple[float, float, float, float] | None, score: float
) -> None:
    assert associated_phone_score(dets, face) == pytest.approx(score)


def test_unknown_vocabulary_scores_zero() -> None:
    dets = make_detections([(0, 0, 10, 10)], class_names=("dog",))
    assert associated_phone_score(dets, FACE) == 0.0


@pytest.mark.parametrize(
    ("hits", "aimed"),
    [
        ([1, 1, 0, 0, 0], False),
        ([1, 0, 1, 0, 1], True),
        ([0, 0, 1, 1, 1], True),
        ([1, 1, 1, 0, 0, 0, 0], False),
    ],
    ids=["two-of-five", "three-scattered", "three-recent", "old-hits-forgotten"],
)
def test_k_of_n(hits: list[int], aimed: bool) -> None:
    watch = PhoneWatch(PhoneRules(window=5, min_hits=3))
    phone = frame(((110, 120, 150, 180), 0.8, 1))
    empty = Detections.empty(NAMES)
    evidence = [watch.update(phone if h else empty, FACE) for h in hits][-1]
    assert evidence.aimed is aimed
    assert evidence.frames == min(5, len(hits))


def test_score_is_window_mean() -> None:
    watch = PhoneWatch(PhoneRules(window=2, min_hits=1))
    watch.update(frame(((110, 120, 150, 180), 0.8, 1)), FACE)
    evidence = watch.update(Detections.empty(NAMES), FACE)
    assert evidence.score == pytest.approx(0.4)
    watch.reset()
    assert watch.update(Detections.empty(NAMES), FACE).frames == 1


@pytest.mark.parametrize(
    "kwargs",
    [{"min_hits": 0}, {"min_hits": 6}, {"min_confidence": 2.0}],
    ids=["zero", "over", "conf"],
)
def test_bad_rules(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        PhoneRules(**kwargs)  # type: ignore[arg-type]
