"""Sharing one detector among cameras: which requests run next, and at what fps.

Two pure objects, both fed time by the caller (nothing here reads a clock):

* :class:`BatchPolicy` queues inference requests of many cameras and picks the
  next batch of at most ``max_batch`` images. Requests that waited longer than
  ``max_wait_s`` go first (oldest first), so no camera starves even under a
  flood of priority work; then cameras flagged *priority* (live alert or live
  tracks); then everyone else. Within each tier cameras take turns, one request
  per camera per round, starting after the camera served last, so a camera with
  a long queue cannot crowd out the others. Within a camera requests stay FIFO.
* :class:`SaturationGovernor` turns measured batch service times and each
  camera's requested fps into the fps each camera is granted. When demand fits
  the measured capacity every camera keeps its target; when it does not, every
  camera keeps a floor and the capacity is shared out max-min fair, a
  priority camera weighing ``priority_weight`` times one without (it gets
  that many times the fps while both are below target). Weights rather than
  strict tiers: a camera without live tracks still gets a real share, enough
  for its tracker to confirm what walks in and win priority back; at a bare
  floor it could not. Saturation starts as soon as demand exceeds capacity and
  ends once demand has stayed ``release_margin`` below capacity for
  ``settle_s`` seconds. While it lasts the grants share ``1 - release_margin``
  of the capacity, or of the demand where that is more, up to the whole
  capacity: near the edge grants stay under targets and do not flap with a
  noisy measurement; far above it no capacity is left idle.

:class:`SchedulerStats` is the snapshot the shared scheduler reports for health
and ``/metrics``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from argus.domain.errors import ValidationError

__all__ = [
    "BatchPolicy",
    "CameraGrant",
    "CameraLoad",
    "InferenceRequest",
    "SaturationGovernor",
    "SchedulerStats",
]

GrantReason = Literal["ok", "saturated"]

_EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class InferenceRequest:
    """One camera's ask for detections on ``images`` images.

    Attributes:
        request_id: Unique per queue; the caller maps it back to its images.
        camera_id: The asking camera.
        images: Number of images (a frame, or regions of one), at least 1.
        priority: The camera has a live alert or live tracks.
        enqueued_at: Caller's clock when the request was queued, in seconds.
    """

    request_id: int
    camera_id: str
    images: int
    priority: bool
    enqueued_at: float

    def __post_init__(self) -> None:
        if self.images < 1:
            raise ValidationError(f"a request needs at least one image, got {self.images}")


class BatchPolicy:
    """Queues requests per camera and picks fair batches.

    A request is never split: one larger than ``max_batch`` runs alone when
    its turn comes.

    Args:
        max_batch: Most images per batch.
        max_wait_s: A request waiting this long is served before any other tier.
    """

    def __init__(self, *, max_batch: int, max_wait_s: float = 1.0) -> None:
        if max_batch < 1:
            raise ValidationError(f"max_batch must be >= 1, got {max_batch}")
        if max_wait_s <= 0:
            raise ValidationError(f"max_wait_s must be > 0, got {max_wait_s}")
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self._queues: dict[str, deque[InferenceRequest]] = {}
        self._ring: list[str] = []
        self._next = 0
        self._images = 0

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())

    @property
    def pending_images(self) -> int:
        """Images queued and not yet picked."""
        return self._images

    def pending_by_camera(self) -> dict[str, int]:
        """Queued images per camera (cameras with nothing queued left out)."""
        return {c: sum(r.images for r in q) for c, q in self._queues.items() if q}

    def push(self, request: InferenceRequest) -> None:
        """Queue a request at the back of its camera's queue."""
        if request.camera_id not in self._queues:
            self._queues[request.camera_id] = deque()
            self._ring.append(request.camera_id)
        self._queues[request.camera_id].append(request)
        self._images += request.images

    def drain(self) -> list[InferenceRequest]:
        """Remove and return every queued request (oldest first), e.g. on shutdown."""
        out = sorted(
            (r for q in self._queues.values() for r in q),
            key=lambda r: (r.enqueued_at, r.request_id),
        )
        for q in self._queues.values():
            q.clear()
        self._images = 0
        return out

    def next_batch(self, now: float, *, limit: int | None = None) -> tuple[InferenceRequest, ...]:
        """Remove and return the next batch; empty when nothing is queued.

        Args:
            now: The caller's clock, on the same scale as ``enqueued_at``.
            limit: Most images this batch may take, below ``max_batch`` (at least 1):
                workers serving side by side split the queue instead of one taking it
                all while the others wait.
        """
        picked: list[InferenceRequest] = []
        room = self.max_batch if limit is None else max(1, min(self.max_batch, limit))
        overdue = sorted(
            (
                q[0]
                for q in self._queues.values()
                if q and now - q[0].enqueued_at >= self.max_wait_s
            ),
            key=lambda r: (r.enqueued_at, r.request_id),
        )
        for request in overdue:
            if picked and request.images > room:
                continue
            picked.append(self._pop(request.camera_id))
            room -= request.images
        for tier in (True, False):
            room = self._rounds(picked, room, priority=tier)
        return tuple(picked)

    def _rounds(self, picked: list[InferenceRequest], room: int, *, priority: bool) -> int:
        """Take one head request per camera per round, in ring order, while room is left."""
        while room > 0:
            took = False
            for camera in self._ring_order():
                queue = self._queues[camera]
                if not queue or self._is_priority(camera) != priority:
                    continue
                head = queue[0]
                if head.images > room and picked:
                    continue
                picked.append(self._pop(camera))
                room -= head.images
                took = True
                self._next = (self._ring.index(camera) + 1) % len(self._ring)
                if room <= 0:
                    break
            if not took:
                break
        return room

    def _ring_order(self) -> list[str]:
        start = self._next % len(self._ring) if self._ring else 0
        return self._ring[start:] + self._ring[:start]

    def _is_priority(self, camera: str) -> bool:
        return any(r.priority for r in self._queues[camera])

    def _pop(self, camera: str) -> InferenceRequest:
        request = self._queues[camera].popleft()
        self._images -= request.images
        return request


@dataclass(frozen=True, slots=True)
class CameraGrant:
    """The analysed fps one camera asked for and the fps it is granted.

    Attributes:
        camera_id: The camera.
        target_fps: What its configuration asks for.
        granted_fps: What the shared detector can give it now.
        priority: The camera has a live alert or live tracks.
        reason: ``"saturated"`` when the grant is below target, else ``"ok"``.
    """

    camera_id: str
    target_fps: float
    granted_fps: float
    priority: bool
    reason: GrantReason


@dataclass(frozen=True, slots=True)
class _Demand:
    target_fps: float
    priority: bool
    images_per_frame: float

    @property
    def load(self) -> float:
        return self.target_fps * self.images_per_frame


class SaturationGovernor:
    """Grants analysed fps per camera from measured capacity and demand.

    Capacity is ``utilisation`` divided by a moving average (weight
    ``smoothing``) of seconds per image over recent batches. Until a batch has
    been measured every camera is granted its target.

    Args:
        smoothing: Weight of the newest batch in the moving average, in ``(0, 1]``.
        utilisation: Share of the measured capacity to hand out, in ``(0, 1]``.
        release_margin: Demand must fall this fraction below capacity to end saturation.
        settle_s: ...and stay there this long.
        min_fps: Floor every camera keeps (below its target) even when saturated.
        priority_weight: Share of a priority camera against one without, ``>= 1``.
    """

    def __init__(
        self,
        *,
        smoothing: float = 0.2,
        utilisation: float = 0.95,
        release_margin: float = 0.1,
        settle_s: float = 5.0,
        min_fps: float = 0.5,
        priority_weight: float = 2.0,
    ) -> None:
        if not 0 < smoothing <= 1 or not 0 < utilisation <= 1:
            raise ValidationError("smoothing and utilisation must lie in (0, 1]")
        if not 0 <= release_margin < 1 or settle_s < 0 or min_fps < 0:
            raise ValidationError("release_margin in [0, 1), settle_s and min_fps >= 0")
        if not priority_weight >= 1:
            raise ValidationError(f"priority_weight must be >= 1, got {priority_weight}")
        self._priority_weight = float(priority_weight)
        self._smoothing = smoothing
        self._utilisation = utilisation
        self._release_margin = release_margin
        self._settle_s = settle_s
        self._min_fps = min_fps
        self._seconds_per_image: float | None = None
        self._demand: dict[str, _Demand] = {}
        self._saturated = False
        self._below_since: float | None = None
        self._grants: dict[str, float] = {}

    @property
    def capacity(self) -> float | None:
        """Images per second the detector can be given; ``None`` before any measurement."""
        if self._seconds_per_image is None:
            return None
        return self._utilisation / self._seconds_per_image

    @property
    def saturated(self) -> bool:
        """Whether grants are currently below targets because demand exceeds capacity."""
        return self._saturated

    def record_batch(self, images: int, seconds: float) -> None:
        """Feed the service time of one batch; non-positive times are ignored."""
        if images < 1 or not seconds > 0:
            return
        sample = seconds / images
        old = self._seconds_per_image
        self._seconds_per_image = sample if old is None else old + self._smoothing * (sample - old)

    def set_demand(
        self,
        camera_id: str,
        target_fps: float,
        *,
        priority: bool = False,
        images_per_frame: float = 1.0,
    ) -> None:
        """Set what a camera asks for (call again whenever its priority changes)."""
        if target_fps < 0 or images_per_frame <= 0:
            raise ValidationError("target_fps must be >= 0 and images_per_frame > 0")
        self._demand[camera_id] = _Demand(float(target_fps), priority, float(images_per_frame))

    def remove(self, camera_id: str) -> None:
        """Forget a camera."""
        self._demand.pop(camera_id, None)
        self._grants.pop(camera_id, None)

    def update(self, now: float) -> dict[str, CameraGrant]:
        """Recompute the grants at time ``now`` (seconds, the caller's clock)."""
        capacity = self.capacity
        load = sum(d.load for d in self._demand.values())
        if capacity is None or load <= capacity * (1 - self._release_margin):
            if self._below_since is None:
                self._below_since = now
            if now - self._below_since >= self._settle_s or capacity is None:
                self._saturated = False
        else:
            self._below_since = None
            if load > capacity:
                self._saturated = True
        if self._saturated and capacity is not None:
            # Near the edge hand out a margin below capacity, so grants stay under targets
            # until demand is clearly below it (no flapping); with demand well above
            # capacity hand out all of it (a fixed cut left a saturated box idle).
            margin = 1 - self._release_margin
            self._grants = self._share(min(capacity, max(capacity, load) * margin))
        else:
            self._grants = {c: d.target_fps for c, d in self._demand.items()}
        return self.grants()

    def grants(self) -> dict[str, CameraGrant]:
        """The grants of the last :meth:`update` (targets for cameras added since)."""
        out: dict[str, CameraGrant] = {}
        for camera, demand in self._demand.items():
            granted = min(self._grants.get(camera, demand.target_fps), demand.target_fps)
            if granted >= demand.target_fps - _EPSILON:
                granted = demand.target_fps
            reason: GrantReason = "saturated" if granted < demand.target_fps else "ok"
            out[camera] = CameraGrant(camera, demand.target_fps, granted, demand.priority, reason)
        return out

    def _share(self, budget: float) -> dict[str, float]:
        """Floor for all, then weighted max-min fair shares of the rest of ``budget`` images/s."""
        grants = {c: min(d.target_fps, self._min_fps) for c, d in self._demand.items()}
        left = budget - sum(grants[c] * d.images_per_frame for c, d in self._demand.items())
        weights = {c: self._priority_weight if d.priority else 1.0 for c, d in self._demand.items()}
        _water_fill(grants, self._demand, weights, max(0.0, left))
        return grants


def _water_fill(
    grants: dict[str, float],
    wanting: Mapping[str, _Demand],
    weights: Mapping[str, float],
    budget: float,
) -> None:
    """Raise ``grants`` towards targets within ``budget`` images/s, fps in proportion to
    ``weights``: every step adds ``weight`` x the same amount to each open camera."""
    open_ = {c: d for c, d in wanting.items() if grants[c] < d.target_fps}
    while open_ and budget > 1e-9:
        cost = sum(weights[c] * d.images_per_frame for c, d in open_.items())
        step = budget / cost
        room = min((d.target_fps - grants[c]) / weights[c] for c, d in open_.items())
        step = min(step, room)
        for camera, demand in open_.items():
            grants[camera] += step * weights[camera]
            budget -= step * weights[camera] * demand.images_per_frame
        open_ = {c: d for c, d in open_.items() if grants[c] < d.target_fps - 1e-9}


@dataclass(frozen=True, slots=True)
class CameraLoad:
    """What one camera got from the shared detector.

    Attributes:
        camera_id: The camera.
        queued_images: Images waiting now.
        requests_served: Requests answered (results or errors).
        images_served: Images those requests held.
        mean_wait_s: Mean time from submit to the start of the request's batch.
        max_wait_s: Longest such wait.
        grant: Target and granted analysed fps, ``None`` when no demand was set.
    """

    camera_id: str
    queued_images: int
    requests_served: int
    images_served: int
    mean_wait_s: float
    max_wait_s: float
    grant: CameraGrant | None


@dataclass(frozen=True, slots=True)
class SchedulerStats:
    """A snapshot of the scheduler for health and ``/metrics``.

    Attributes:
        running: The worker thread is serving.
        queued_requests: Requests waiting.
        queued_images: Images waiting.
        batches_run: ``detect_batch`` calls made.
        images_run: Images in those calls.
        mean_batch_size: ``images_run / batches_run`` (0 before the first batch).
        capacity_images_per_s: Measured capacity, ``None`` before the first batch.
        saturated: Grants are below targets.
        cameras: One entry per camera seen, sorted by id.
    """

    running: bool
    queued_requests: int
    queued_images: int
    batches_run: int
    images_run: int
    mean_batch_size: float
    capacity_images_per_s: float | None
    saturated: bool
    cameras: tuple[CameraLoad, ...]
