"""Camera pipelines as the control plane sees them: start, restart, stop, observe.

The API layer talks to this port only; the embedded edge worker implements it
by running one analysis pipeline per enabled camera and publishing its events
to the bus. ``MemoryPipelines`` (in adapters) is the in-memory implementation
used where no video should run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from argus.domain.cameras import Camera, Line, Zone
from argus.domain.live import LiveFrame
from argus.domain.recording import RecordingStatus

__all__ = [
    "INFERENCE_BUCKETS",
    "CameraState",
    "CameraStatus",
    "Capture",
    "LiveCallback",
    "PipelineSupervisor",
]

INFERENCE_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
"""Upper bounds (seconds) of the per-frame inference histogram; a last bucket holds the rest."""

CameraState = Literal["starting", "online", "offline", "error", "disabled"]


@dataclass(frozen=True, slots=True)
class CameraStatus:
    """What one camera's pipeline is doing.

    Attributes:
        camera_id: The camera.
        state: ``starting`` until the first frame, ``online`` while frames
            arrive, ``offline`` while reconnecting, ``error`` after a failure
            (it keeps retrying), ``disabled`` when the camera is switched off.
        last_error: Text of the latest error, if any.
        fps_in: Frames per second received from the source (recent average).
        fps_decoded: Frames per second decoded.
        fps_detected: Frames per second through the detector.
        updated_at: When this status was produced (UTC).
        restarts: Pipeline restarts after failures.
        events_dropped: Events dropped because the outbox was full.
        queue_depth: Events waiting to be published (the worker's outbox).
        inference_counts: Frames per ``INFERENCE_BUCKETS`` bucket (not
            cumulative; one more entry for slower frames); empty when unknown.
        inference_sum: Seconds of inference over those frames.
        tamper: The camera's tamper state (``argus.domain.tamper``): ``ok``,
            ``learning`` after a (re)start, or the raised kind (``covered``,
            ``blurred``, ``moved``, ``frozen``, ``black``, ``white``, ``noise``).
        tamper_score: How far the latest tamper check was from the camera's
            baseline, 0..1.
        decode_errors: Frames the camera's stream failed to decode, all runs.
        last_frame_at: When the latest frame was analysed (UTC), ``None``
            before the first.
        target_fps: The analysed fps the camera asks for, when a shared
            inference scheduler serves it (``None`` otherwise).
        granted_fps: The analysed fps that scheduler grants it now (at most
            ``target_fps``; ``None`` without a scheduler).
        saturated: The grant is below the target: the box cannot analyse every
            camera at its rate, so this one analyses fewer frames, evenly spaced.
        inference_queue: The camera's images waiting for the shared detector.
        recording: The camera's continuous recording, when this server records.
    """

    camera_id: str
    state: CameraState
    last_error: str | None
    fps_in: float
    fps_decoded: float
    fps_detected: float
    updated_at: datetime
    restarts: int = 0
    events_dropped: int = 0
    queue_depth: int = 0
    inference_counts: tuple[int, ...] = ()
    inference_sum: float = 0.0
    tamper: str = "ok"
    tamper_score: float = 0.0
    decode_errors: int = 0
    last_frame_at: datetime | None = None
    target_fps: float | None = None
    granted_fps: float | None = None
    saturated: bool = False
    inference_queue: int = 0
    recording: RecordingStatus | None = None


@dataclass(frozen=True, slots=True)
class Capture:
    """Evidence of one moment of a camera: a snapshot and a clip around it.

    Times are on the clock of event timestamps (UTC): a frame is dated like
    an event raised on it would be.

    Attributes:
        snapshot: JPEG of the frame nearest the requested moment.
        snapshot_at: When that frame was taken.
        clip: The clip's bytes (MP4 unless ``clip_content_type`` says otherwise).
        start: Time of the clip's first frame.
        end: Time of the clip's last frame.
        frames: Frames in the clip.
        fps: Average frame rate of the clip (the camera's buffered rate).
        width: Width of the snapshot and clip in pixels.
        height: Height of the snapshot and clip in pixels.
        clip_content_type: Media type of ``clip``.
    """

    snapshot: bytes
    snapshot_at: datetime
    clip: bytes
    start: datetime
    end: datetime
    frames: int
    fps: float
    width: int
    height: int
    clip_content_type: str = "video/mp4"


LiveCallback = Callable[[LiveFrame], None]
"""Receives a camera's live frame (its tracks and counts) on the event loop."""


class PipelineSupervisor(Protocol):
    """Runs and watches one analysis pipeline per camera."""

    async def apply(self, camera: Camera, lines: Sequence[Line], zones: Sequence[Zone]) -> None:
        """Start the camera's pipeline, or restart only it with the new configuration.

        A disabled camera's pipeline is stopped and its status becomes ``disabled``.
        """
        ...

    async def remove(self, camera_id: str) -> None:
        """Stop and forget a camera's pipeline (no error when none runs)."""
        ...

    def status(self, camera_id: str) -> CameraStatus | None:
        """The camera's latest status, or ``None`` when it has no pipeline."""
        ...

    def statuses(self) -> list[CameraStatus]:
        """Every pipeline's latest status."""
        ...

    def subscribe_live(self, camera_id: str, callback: LiveCallback) -> Callable[[], None]:
        """Call ``callback`` with the camera's tracks and counts after every analysed frame.

        Returns:
            A function that ends the subscription (safe to call twice).
        """
        ...

    def snapshot(self, camera_id: str) -> bytes | None:
        """The camera's latest frame as JPEG bytes, or ``None`` before the first frame."""
        ...

    async def capture(
        self, camera_id: str, at: datetime, *, pre_s: float, post_s: float
    ) -> Capture | None:
        """A snapshot at ``at`` and a clip of ``[at - pre_s, at + post_s]`` from recent frames.

        Each running camera keeps its recent frames in memory. This waits
        (asynchronously, at most about ``post_s`` plus a small margin) until
        frames up to ``at + post_s`` have arrived or the camera's pipeline
        stopped, then cuts the window from what it holds: a clip cut short
        by a stopped camera or a stalled stream holds the frames there are.
        The snapshot is the buffered frame nearest ``at``.

        Args:
            camera_id: The camera.
            at: The moment, on the clock of event timestamps (an event's
                ``timestamp``); timezone-aware.
            pre_s: Seconds of pre-roll before ``at`` (>= 0).
            post_s: Seconds of post-roll after ``at`` (>= 0).

        Returns:
            The capture, or ``None`` when the camera does not run here or no
            buffered frame falls in the window (too old, or none arrived).

        Raises:
            ConfigError: A negative ``pre_s`` or ``post_s``, or a naive ``at``.
        """
        ...

    async def close(self) -> None:
        """Stop every pipeline; idempotent."""
        ...
