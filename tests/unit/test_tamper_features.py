"""Tamper monitor on synthetic frames: each kind raised and cleared, nuisances left alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from argus.adapters.pipelines.tamper import TamperHook, TamperMonitor, measure
from argus.domain.events import Envelope, EventSource
from argus.domain.tamper import TamperChange

Image = npt.NDArray[np.uint8]
Tamper = Callable[[Image, int], Image]

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEP = 0.5
LEARN = 40  # checks of normal footage before the tamper (20 s)


def _scene(seed: int = 0) -> Image:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(30, 220, (24, 32, 3), dtype=np.uint8)
    image = cv2.resize(coarse, (320, 240), interpolation=cv2.INTER_NEAREST)
    for _ in range(12):
        x, y = (int(v) for v in rng.integers(0, 300, 2))
        cv2.line(image, (x, y % 240), ((x * 7) % 320, (y * 3) % 240), (255, 255, 255), 2)
    return np.asarray(image, dtype=np.uint8)


SCENE = _scene()
OTHER = _scene(seed=5)
_NOISE = [np.random.default_rng(i).normal(0, 2.0, SCENE.shape).astype(np.int16) for i in range(7)]


def _live(index: int, base: Image = SCENE) -> Image:
    """The normal view at check ``index``: sensor noise and a person walking across."""
    frame = np.clip(base.astype(np.int16) + _NOISE[index % len(_NOISE)], 0, 255)
    out = np.asarray(frame, dtype=np.uint8)
    x = (index * 6) % 300
    cv2.rectangle(out, (x, 120), (x + 14, 160), (40, 60, 90), -1)
    return out


def _run(tamper: Tamper, checks: int, *, start: int = LEARN) -> list[tuple[int, TamperChange]]:
    monitor = TamperMonitor()
    changes: list[tuple[int, TamperChange]] = []
    for i in range(start + checks + 30):
        frame = _live(i)
        if start <= i < start + checks:
            frame = tamper(frame, i - start)
        changes += [(i, c) for c in monitor.check(frame, T0 + timedelta(seconds=i * STEP))]
    return changes


def _cover(frame: Image, i: int) -> Image:
    out = frame.copy()
    out[:, :280] = 25
    return out


def _blur(frame: Image, i: int) -> Image:
    return np.asarray(cv2.GaussianBlur(frame, (0, 0), 6.0), dtype=np.uint8)


def _shift(frame: Image, i: int) -> Image:
    matrix = cv2.getRotationMatrix2D((160, 120), 8.0, 1.0)
    matrix[0, 2] += 40
    return np.asarray(cv2.warpAffine(frame, matrix, (320, 240), borderMode=cv2.BORDER_REFLECT))


def _swap(frame: Image, i: int) -> Image:
    return _live(i, OTHER)


FROZEN = _live(999)


def _noise(frame: Image, i: int) -> Image:
    return np.random.default_rng(i).integers(0, 256, frame.shape, dtype=np.uint8)


KINDS: dict[str, Tamper] = {
    "covered": _cover,
    "blurred": _blur,
    "moved": _shift,
    "frozen": lambda frame, i: FROZEN,
    "black": lambda frame, i: np.zeros_like(frame),
    "white": lambda frame, i: np.full_like(frame, 250),
    "noise": _noise,
}


@pytest.mark.parametrize("kind", list(KINDS), ids=list(KINDS))
def test_each_kind_is_raised_within_10_s_and_cleared(kind: str) -> None:
    changes = _run(KINDS[kind], 60)
    assert [(c.kind, c.state) for _, c in changes] == [(kind, "raised"), (kind, "cleared")]
    raised_at, _ = changes[0]
    assert (raised_at - LEARN) * STEP <= 10.0


def test_moved_is_also_raised_when_the_scene_is_replaced() -> None:
    changes = _run(_swap, 60)
    assert [(c.kind, c.state) for _, c in changes] == [("moved", "raised"), ("moved", "cleared")]


def test_a_small_shift_is_raised_as_moved() -> None:
    def nudge(frame: Image, i: int) -> Image:
        matrix = np.array([[1, 0, 12], [0, 1, 4]], dtype=np.float32)  # 4 % of the width
        return np.asarray(cv2.warpAffine(frame, matrix, (320, 240), borderMode=cv2.BORDER_REFLECT))

    changes = _run(nudge, 60)
    assert [(c.kind, c.state) for _, c in changes] == [("moved", "raised"), ("moved", "cleared")]


def _dim(frame: Image, i: int) -> Image:
    gain = max(0.4, 1.0 - i / 600)  # 5 minutes of dusk
    return np.asarray(cv2.convertScaleAbs(frame, alpha=gain), dtype=np.uint8)


def _bus(frame: Image, i: int) -> Image:
    out = frame.copy()
    x = -160 + i * 40  # a textured slab half the view wide, 12 checks to cross
    lo, hi = max(0, x), min(320, x + 160)
    if hi > lo:
        stripes = np.indices((240, hi - lo)).sum(axis=0) % 16 < 8
        out[:, lo:hi] = np.where(stripes[..., None], 200, 60).astype(np.uint8)
    return out


def _rain(frame: Image, i: int) -> Image:
    noisy = frame.astype(np.int16) + 5 * _NOISE[(i * 3) % len(_NOISE)]  # sigma 10
    return np.asarray(np.clip(noisy, 0, 255), dtype=np.uint8)


def _lights(frame: Image, i: int) -> Image:
    return np.asarray(cv2.convertScaleAbs(frame, alpha=1.6), dtype=np.uint8)


@pytest.mark.parametrize(
    ("nuisance", "checks"),
    [(_dim, 600), (_bus, 12), (_rain, 120), (_lights, 120)],
    ids=["brightness-ramp", "big-object-passing", "heavy-sensor-noise", "lights-switched"],
)
def test_nuisances_raise_nothing(nuisance: Tamper, checks: int) -> None:
    assert _run(nuisance, checks) == []


def test_learning_period_raises_nothing_even_when_tampered_at_start() -> None:
    assert _run(_cover, 20, start=0) == []


def test_measure_features_of_plain_frames() -> None:
    grey = np.asarray(cv2.cvtColor(SCENE, cv2.COLOR_BGR2GRAY), dtype=np.float32)
    features, _ = measure(grey, None, grey)
    assert features.still
    assert features.autocorr > 0.8
    assert features.match == 1.0
    flat = np.full((120, 160), 9.0, dtype=np.float32)
    features, _ = measure(flat, None, None)
    assert features.std == 0.0
    assert not features.still


def test_evidence_jpegs_and_envelopes() -> None:
    monitor = TamperMonitor()
    assert monitor.reference_jpeg() is None
    assert monitor.current_jpeg() is None
    hook = TamperHook(monitor, EventSource("node-1", "cam-1"), every_s=0.5)
    envelopes: list[Envelope] = []
    for i in range(100 + 20):  # 25 s of learning, then 5 s of black
        frame = _live(i) if i < 100 else np.zeros_like(SCENE)
        at = T0 + timedelta(seconds=i * 0.25)  # frames at 4/s, checks at 2/s
        envelopes += hook.check(frame, at)
    assert [e.type for e in envelopes] == ["camera.tamper"]
    envelope = envelopes[0]
    assert dict(envelope.payload) == {"kind": "black", "score": 1.0, "state": "raised"}
    assert envelope.source == EventSource("node-1", "cam-1")
    before, after = monitor.reference_jpeg(), monitor.current_jpeg()
    assert before is not None
    assert after is not None
    before_image = cv2.imdecode(np.frombuffer(before, np.uint8), cv2.IMREAD_GRAYSCALE)
    after_image = cv2.imdecode(np.frombuffer(after, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert before_image is not None
    assert after_image is not None
    assert before_image.mean() > 60
    assert after_image.mean() < 5
    assert monitor.state == "black"
