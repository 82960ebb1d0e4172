"""A running camera worker's state as the ``CameraStatus`` the control plane reads."""

from __future__ import annotations

from argus.adapters.pipelines.worker import CameraWorker
from argus.domain.cameras import utc_now
from argus.ports.pipelines import CameraStatus

__all__ = ["worker_status"]


def worker_status(worker: CameraWorker, *, events_dropped: int, queue_depth: int) -> CameraStatus:
    """The status of ``worker``'s camera now: rates, restarts, inference and tamper state.

    Args:
        worker: The camera's running (or restarting) worker.
        events_dropped: The camera's events the outbox dropped.
        queue_depth: Events waiting in the outbox.
    """
    view = worker.view()
    fps_in, fps_decoded, fps_detected = view.rates
    monitor = worker.tamper
    return CameraStatus(
        worker.camera.id,
        view.state,
        view.last_error,
        round(fps_in, 2),
        round(fps_decoded, 2),
        round(fps_detected, 2),
        utc_now(),
        restarts=view.restarts,
        events_dropped=events_dropped,
        queue_depth=queue_depth,
        inference_counts=view.inference_counts,
        inference_sum=view.inference_sum,
        tamper=monitor.state if monitor is not None else "ok",
        tamper_score=monitor.score if monitor is not None else 0.0,
        decode_errors=worker.decode_errors,
        last_frame_at=worker.last_frame_at,
        target_fps=view.target_fps,
        granted_fps=None if view.granted_fps is None else round(view.granted_fps, 2),
        saturated=view.saturated,
        inference_queue=view.inference_queue,
    )
