"""Camera tamper decisions: a per-camera baseline, per-kind verdicts and hysteresis.

The adapter (``argus.adapters.pipelines.tamper``) turns a downscaled frame into
a ``TamperFeatures``; everything here works on those numbers only, so it is
pure and clock-free: time comes from the frames' timestamps.

How a check is judged (``judge``), in order of priority:

- ``black`` / ``white``: a uniform dark / bright frame (low mean or high mean
  and a tiny spread) on a camera whose baseline has contrast.
- ``frozen``: the frame has not changed at all for ``frozen_s`` while frames
  keep arriving (a live camera always has some sensor noise).
- ``covered``: most of the blocks that had texture in the reference view are
  now flat (a hand, tape, a bag, paint).
- ``noise``: neighbouring pixels no longer correlate (a broken decoder or a
  jammed analogue link), on a camera whose baseline does.
- ``moved``: few of the reference view's structured blocks still match their
  structure now, or the whole view is displaced from the reference (the
  camera was turned, shifted or the scene was replaced).
- ``blurred``: the high-frequency share of the image's contrast fell far below
  the baseline's (defocus, smeared or fogged lens). The measure is a ratio of
  fine to coarse gradients, so it does not move with brightness.

``TamperTracker`` adds what makes the verdicts usable: a learning period after
a (re)start during which nothing is raised, hysteresis (``raise_checks``
consecutive bad checks raise a kind, ``moved_checks`` for ``moved``;
``clear_checks`` consecutive good checks clear it), and a baseline that
learns only from good checks with a time constant of ``adapt_s`` (minutes),
so day and night are followed while a tampered view is never learned. A
``moved`` view held for ``accept_after_s`` becomes the new normal (the
tracker clears and learns again).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from argus.domain.errors import ConfigError

__all__ = [
    "TAMPER_KINDS",
    "TamperBaseline",
    "TamperChange",
    "TamperFeatures",
    "TamperKind",
    "TamperPolicy",
    "TamperTracker",
    "TamperVerdict",
    "judge",
]

TamperKind = Literal["covered", "blurred", "moved", "frozen", "black", "white", "noise"]
TAMPER_KINDS: tuple[TamperKind, ...] = (
    "black",
    "white",
    "frozen",
    "covered",
    "noise",
    "moved",
    "blurred",
)
"""Every kind, in the order ``judge`` tries them."""


@dataclass(frozen=True, slots=True)
class TamperFeatures:
    """What one check measured on a downscaled grey frame.

    Attributes:
        mean: Mean brightness, 0..255.
        std: Standard deviation of brightness.
        sharpness: Fine over coarse gradient energy (contrast-free; falls with blur).
        autocorr: Correlation of neighbouring pixels, across and down (-1..1).
        flat: Share (0..1) of the reference's textured blocks that are flat now.
        match: Share (0..1) of the reference's structured blocks whose structure
            still matches (1.0 when there is no reference yet).
        still: Whether the frame equals the previously checked one.
        shift: How far the whole view is displaced from the reference, as a
            share of the frame's width (0 when no clear displacement).
    """

    mean: float
    std: float
    sharpness: float
    autocorr: float
    flat: float = 0.0
    match: float = 1.0
    still: bool = False
    shift: float = 0.0


@dataclass(frozen=True, slots=True)
class TamperBaseline:
    """Slowly learned normal values of a camera's features.

    Attributes:
        mean: Typical brightness.
        std: Typical contrast.
        sharpness: Typical fine/coarse gradient ratio.
        autocorr: Typical neighbour correlation.
        match: Typical share of matching structure (people and cars lower it).
        samples: Good checks learned so far.
    """

    mean: float = 0.0
    std: float = 0.0
    sharpness: float = 0.0
    autocorr: float = 0.0
    match: float = 1.0
    samples: int = 0

    def learn(self, features: TamperFeatures, weight: float) -> TamperBaseline:
        """Return the baseline moved towards ``features`` by ``weight`` (0..1)."""
        w = 1.0 if self.samples == 0 else min(1.0, max(0.0, weight))

        def mix(old: float, new: float) -> float:
            return old + w * (new - old)

        return TamperBaseline(
            mean=mix(self.mean, features.mean),
            std=mix(self.std, features.std),
            sharpness=mix(self.sharpness, features.sharpness),
            autocorr=mix(self.autocorr, features.autocorr),
            match=mix(self.match, features.match),
            samples=self.samples + 1,
        )


@dataclass(frozen=True, slots=True)
class TamperPolicy:
    """Thresholds and timing of tamper detection (defaults tuned on development seeds).

    Attributes:
        learn_s: Seconds of frames learned after a start before anything is raised.
        raise_checks: Consecutive bad checks that raise a kind.
        moved_checks: Consecutive bad checks that raise ``moved`` (longer: a
            bus or a crowd filling the view for a few seconds is not a tamper).
        clear_checks: Consecutive good checks that clear a raised kind.
        frozen_s: Seconds without any change that make a frame ``frozen``.
        adapt_s: Time constant (seconds) of the baseline's adaptation.
        accept_after_s: Seconds a ``moved`` view is held before it is accepted
            as the new normal (``None``: never).
        black_mean: Mean brightness below which a uniform frame is ``black``.
        white_mean: Mean brightness above which a uniform frame is ``white``.
        uniform_std: Spread below which a frame is uniform.
        noise_autocorr: Neighbour correlation below which a frame is ``noise``.
        covered_flat: Share of flat textured blocks that means ``covered``.
        blur_ratio: Sharpness below this share of the baseline's means ``blurred``.
        moved_match: Matching structure below this share (and below half the
            baseline's) means ``moved``.
        moved_shift: A displacement of the whole view of at least this share
            of the width also means ``moved``.
    """

    learn_s: float = 20.0
    raise_checks: int = 6
    moved_checks: int = 12
    clear_checks: int = 6
    frozen_s: float = 4.0
    adapt_s: float = 600.0
    accept_after_s: float | None = 3600.0
    black_mean: float = 24.0
    white_mean: float = 232.0
    uniform_std: float = 6.0
    noise_autocorr: float = 0.35
    covered_flat: float = 0.5
    blur_ratio: float = 0.55
    moved_match: float = 0.3
    moved_shift: float = 0.02

    def __post_init__(self) -> None:
        if min(self.raise_checks, self.moved_checks, self.clear_checks) < 1:
            raise ConfigError("raise_checks, moved_checks and clear_checks must be at least 1")
        if min(self.learn_s, self.frozen_s) < 0 or self.adapt_s <= 0:
            raise ConfigError("learn_s and frozen_s must be >= 0 and adapt_s > 0")
        if self.accept_after_s is not None and self.accept_after_s <= 0:
            raise ConfigError("accept_after_s must be positive or None")


@dataclass(frozen=True, slots=True)
class TamperVerdict:
    """One check's verdict: the worst kind seen (``None`` when fine) and its degree (0..1)."""

    kind: TamperKind | None
    score: float


@dataclass(frozen=True, slots=True)
class TamperChange:
    """A tamper kind raised or cleared at a frame's time.

    Attributes:
        kind: What was raised or cleared.
        state: ``raised`` or ``cleared``.
        score: Degree (0..1) of the check that decided it.
        at: Timestamp of that check's frame.
    """

    kind: TamperKind
    state: Literal["raised", "cleared"]
    score: float
    at: datetime


def _degree(value: float, limit: float, worst: float) -> float:
    """0 at ``limit``, 1 at ``worst`` (either direction), clipped."""
    if limit == worst:
        return 1.0
    return min(1.0, max(0.0, (value - limit) / (worst - limit)))


def judge(
    features: TamperFeatures, baseline: TamperBaseline, policy: TamperPolicy, still_s: float
) -> TamperVerdict:
    """Judge one check against the camera's baseline.

    Args:
        features: The check's measurements.
        baseline: The camera's learned normal.
        policy: Thresholds.
        still_s: Seconds the frame has not changed at all (0 when it just did).

    Returns:
        The first kind, in ``TAMPER_KINDS`` order, whose condition holds, with a
        degree 0..1 of how far it is past normal; ``kind=None`` with the
        largest sub-threshold degree otherwise.
    """
    f, b, p = features, baseline, policy
    has_contrast = b.std >= 2.0 * max(f.std, 1.0)
    uniform = f.std < p.uniform_std
    candidates: list[tuple[TamperKind, bool, float]] = [
        ("black", uniform and f.mean < p.black_mean and has_contrast, 1.0 - f.std / p.uniform_std),
        (
            "white",
            uniform and f.mean > p.white_mean and has_contrast,
            1.0 - f.std / p.uniform_std,
        ),
        ("frozen", f.still and still_s >= p.frozen_s, 1.0),
        ("covered", f.flat >= p.covered_flat, f.flat),
        (
            "noise",
            f.autocorr < p.noise_autocorr and b.autocorr > p.noise_autocorr + 0.3,
            _degree(f.autocorr, b.autocorr, p.noise_autocorr - 0.3),
        ),
        (
            "moved",
            f.match < min(p.moved_match, 0.5 * b.match) or f.shift >= p.moved_shift,
            max(_degree(f.match, b.match, 0.0), _degree(f.shift, 0.0, 2 * p.moved_shift)),
        ),
        (
            "blurred",
            b.sharpness > 0 and f.sharpness < p.blur_ratio * b.sharpness,
            _degree(f.sharpness, b.sharpness, 0.25 * b.sharpness),
        ),
    ]
    for kind, bad, degree in candidates:
        if bad:
            return TamperVerdict(kind, round(max(0.5, min(1.0, degree)), 3))
    worst = max((min(1.0, max(0.0, d)) * 0.5 for _, _, d in candidates[3:]), default=0.0)
    return TamperVerdict(None, round(worst, 3))


class TamperTracker:
    """One camera's tamper state from its checks: learning, hysteresis, adaptation.

    Args:
        policy: Thresholds and timing.

    Feed it every check with ``update``; it returns the raise/clear changes
    that check caused. ``learning`` and ``adapting`` tell the adapter whether
    to (re)learn its reference view from the check's frame.
    """

    def __init__(self, policy: TamperPolicy | None = None) -> None:
        self.policy = policy or TamperPolicy()
        self.reset()

    def reset(self) -> None:
        """Forget the baseline and learn again (no change is emitted)."""
        self._baseline = TamperBaseline()
        self._started: datetime | None = None
        self._last: datetime | None = None
        self._raised: TamperKind | None = None
        self._raised_at: datetime | None = None
        self._streak: dict[TamperKind, int] = {}
        self._bad = 0
        self._good = 0
        self._still_since: datetime | None = None
        self._score = 0.0
        self._adapting = True

    @property
    def baseline(self) -> TamperBaseline:
        """The learned normal values."""
        return self._baseline

    @property
    def learning(self) -> bool:
        """Whether the learning period after a (re)start is running."""
        return self._raised is None and (
            self._started is None
            or self._last is None
            or (self._last - self._started).total_seconds() < self.policy.learn_s
        )

    @property
    def adapting(self) -> bool:
        """Whether the latest check was good and learned (the reference may follow it)."""
        return self._adapting

    @property
    def state(self) -> str:
        """``learning``, ``ok`` or the raised kind (a ``TamperState`` value)."""
        if self._raised is not None:
            return self._raised
        return "learning" if self.learning else "ok"

    @property
    def score(self) -> float:
        """Degree (0..1) of the latest check."""
        return self._score

    def update(self, features: TamperFeatures, at: datetime) -> list[TamperChange]:
        """Take one check's features at its frame's time; return what it raised or cleared."""
        if self._started is None:
            self._started = at
        if self._last is not None and at < self._last:
            at = self._last  # a restarted stream's clock: never go back
        dt = 0.0 if self._last is None else (at - self._last).total_seconds()
        self._last = at
        if not features.still:
            self._still_since = None
        elif self._still_since is None:
            self._still_since = at
        still_s = 0.0 if self._still_since is None else (at - self._still_since).total_seconds()
        learning = self.learning
        verdict = judge(features, self._baseline, self.policy, still_s)
        if learning and verdict.kind not in ("black", "white", "frozen"):
            verdict = TamperVerdict(None, 0.0)  # learn the view as it is
        self._score = verdict.score
        self._adapting = verdict.kind is None and self._raised is None and self._bad == 0
        if self._adapting or (verdict.kind is None and learning):
            self._learn(features, dt, learning)
        return self._hysteresis(verdict, at)

    def _learn(self, features: TamperFeatures, dt: float, learning: bool) -> None:
        weight = 1.0 / (self._baseline.samples + 1) if learning else dt / self.policy.adapt_s
        self._baseline = self._baseline.learn(features, weight)

    def _hysteresis(self, verdict: TamperVerdict, at: datetime) -> list[TamperChange]:
        """Raise after ``raise_checks`` bad checks in a row, clear after ``clear_checks`` good.

        A streak may mix kinds (a hand over the lens reads as covered, then as
        blurred): the kind raised is the one seen most in the streak (``moved``
        needs ``moved_checks``). While a kind is raised, only an unbroken streak
        of other kinds twice as long switches to another one.
        """
        p = self.policy
        changes: list[TamperChange] = []
        kind = verdict.kind
        if kind is None:
            self._bad, self._streak = 0, {}
            self._good += 1
            if self._raised is not None and self._good >= p.clear_checks:
                changes.append(TamperChange(self._raised, "cleared", verdict.score, at))
                self._raised = self._raised_at = None
            return changes
        self._good = 0
        if kind == self._raised:
            self._bad, self._streak = 0, {}
            return self._accept_moved(at, verdict.score)
        self._bad += 1
        self._streak[kind] = self._streak.get(kind, 0) + 1
        worst = max(self._streak, key=lambda k: (self._streak[k], k == kind))
        needed = p.moved_checks if worst == "moved" else p.raise_checks
        if self._raised is not None:
            needed *= 2  # switching kinds: only a clearly different tamper
        if self._bad >= needed and not self.learning:
            if self._raised is not None:
                changes.append(TamperChange(self._raised, "cleared", verdict.score, at))
            changes.append(TamperChange(worst, "raised", verdict.score, at))
            self._raised, self._raised_at = worst, at
            self._bad, self._streak = 0, {}
        return changes

    def _accept_moved(self, at: datetime, score: float) -> list[TamperChange]:
        """A ``moved`` view held long enough becomes the new normal."""
        limit = self.policy.accept_after_s
        if self._raised != "moved" or limit is None or self._raised_at is None:
            return []
        if (at - self._raised_at).total_seconds() < limit:
            return []
        change = TamperChange("moved", "cleared", score, at)
        self.reset()
        return [change]
