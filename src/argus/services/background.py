"""``TaskGroup``: the background loops of a long-running component, started and stopped as one.

Every consumer that runs in the background (event ingest, alerting, evidence
capture, the live hub, the verify hub, the session watch) starts a few named
loops once and, on stop, cancels them and waits for each. This is that code,
written once. ``bootstrap.lifecycle`` decides the order components start and
stop in; this decides how one component's tasks do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

__all__ = ["Loop", "TaskGroup", "periodic"]

Loop = Callable[[], Coroutine[Any, Any, None]]
"""A coroutine function that runs until cancelled (the body of one background task)."""


def periodic(
    work: Callable[[], Awaitable[object]], interval: float, log: logging.Logger, what: str
) -> Loop:
    """A loop that runs ``work`` at once and then every ``interval`` seconds until cancelled.

    A failure is logged on ``log`` as "``what`` failed" and the loop goes on at the next
    tick: the top of a task loop must not end it.
    """

    async def loop() -> None:
        while True:
            try:
                await work()
            except Exception:  # the top of a task loop: log and try again next time
                log.exception("%s failed", what)
            await asyncio.sleep(interval)

    return loop


class TaskGroup:
    """Named background tasks that start together (once) and stop together.

    Unlike ``asyncio.TaskGroup`` it does not wait for its tasks on exit of a
    block: it lives as long as its component, between ``start`` and ``stop``.
    """

    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, *loops: tuple[str, Loop]) -> bool:
        """Start one task per ``(name, loop)``; nothing when already started.

        Returns:
            Whether the tasks were started by this call.
        """
        if self._tasks:
            return False
        self._tasks = [asyncio.create_task(loop(), name=name) for name, loop in loops]
        return True

    @property
    def started(self) -> bool:
        """Whether ``start`` ran and ``stop`` has not since."""
        return bool(self._tasks)

    @property
    def finished(self) -> bool:
        """Whether any task has ended (a loop is meant to run until cancelled)."""
        return any(task.done() for task in self._tasks)

    async def stop(self) -> None:
        """Cancel every task and wait for each; safe to call when not started."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
