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
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["Loop", "TaskGroup"]

Loop = Callable[[], Coroutine[Any, Any, None]]
"""A coroutine function that runs until cancelled (the body of one background task)."""


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
